/**
 * The paper's networks built from {@link dev.opnorm.nn.layers}: the 7-layer CNN with a width factor
 * ({@link dev.opnorm.nn.models.Cnn7}) and WideResNet-depth-k ({@link dev.opnorm.nn.models.WideResNet}),
 * initialized PyTorch-style from one seed, with PyTorch state_dict parameter names.
 */
package dev.opnorm.nn.models;
