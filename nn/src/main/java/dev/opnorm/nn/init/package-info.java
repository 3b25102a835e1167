/** Parameter initialization (PyTorch's defaults) from a seeded, platform-independent generator. */
package dev.opnorm.nn.init;
