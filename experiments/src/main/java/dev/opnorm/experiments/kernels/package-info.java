/**
 * Internal: the kernel lab (the llm.c {@code dev/cuda} pattern). Numbered variants of a kernel in one file, each
 * validated against the scalar reference before it is timed; a winner moves into {@code VectorKernels} or the
 * OpenCL kernels together with its contract test. Not an API; the code here may be messy and may change or go.
 */
package dev.opnorm.experiments.kernels;
