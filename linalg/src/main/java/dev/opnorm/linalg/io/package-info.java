/**
 * Reading and writing NumPy .npy files ({@link dev.opnorm.linalg.io.Npy}), so matrices and tensors
 * move between opnorm and Python without conversion scripts.
 */
package dev.opnorm.linalg.io;
