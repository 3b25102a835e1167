/**
 * The network engine's core types: {@link dev.opnorm.nn.Shape} (an NCHW shape record, linear features as
 * (n, f, 1, 1)), {@link dev.opnorm.nn.Tensor} (a flat {@code float[]} with a shape; no views, strides or dtypes)
 * and {@link dev.opnorm.nn.Engine} (engine-wide settings read once from system properties: worker threads and the
 * default kernels). Layers, models, data, losses, optimizers and checkpoints live in the sub-packages; the
 * task-level API for library users is {@code dev.opnorm.api} in the {@code opnorm-api} module.
 */
package dev.opnorm.nn;
