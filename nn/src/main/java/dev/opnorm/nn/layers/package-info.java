/**
 * Layers with exact forward, JVP and VJP, and their linearizations.
 *
 * <p>A {@link dev.opnorm.nn.layers.Layer} computes {@code forward(x)} (inference, BatchNorm in EVAL
 * mode) and {@code linearize(x, mode)}: a {@link dev.opnorm.nn.layers.Linearization} holding f(x) and
 * the residuals (ReLU masks, BN statistics, pooling argmax, saved inputs) from which {@code jvp}
 * (dy = J dx), {@code vjp} (gx = J^T gy), {@code vjpParams} (grads += (df/dp)^T gy) and {@code vjpAll}
 * (both in one backward sweep) are computed any number of times. jvp/vjp OVERWRITE their output,
 * vjpParams ACCUMULATES.
 *
 * <p>Conventions, written once: tensors are flat NCHW float arrays; ReLU'(0) = 0 (x > 0 strict);
 * BatchNorm's mode is part of every linearization (EVAL: per-channel affine, Jacobian block diagonal
 * over the batch; TRAIN: batch statistics, the Jacobian couples the examples, running statistics
 * change only through {@code commit()}); parameter and buffer names are PyTorch state_dict keys.
 * All heavy work goes through the {@link dev.opnorm.nn.kernels.Kernels} a layer was built with, so the
 * same layers run on every backend.
 *
 * <p>Each layer writes its linearization once, generic over the buffer type: a
 * {@link dev.opnorm.nn.layers.Linearized} built by {@code Layer.linearizeOn(backend, x, shape, mode)} on a
 * {@link dev.opnorm.nn.layers.Backend} (its {@link dev.opnorm.nn.kernels.Ops}, where parameters live, where
 * buffers come from). The host {@code Linearization} is that code on float arrays; a
 * {@link dev.opnorm.nn.layers.PlacedModel} (parameters uploaded once, a {@link dev.opnorm.nn.layers.BufferPool})
 * runs the same code on any other backend, e.g. an OpenCL device, through
 * {@link dev.opnorm.nn.layers.PlacedLinearization}, with {@link dev.opnorm.nn.layers.Gradients} there. A layer
 * type with only a host linearization ({@code linearizeImpl(Tensor, ...)}) still composes on the host.
 *
 * <p>What algorithms elsewhere need to know about a layer lives in the layer, so a new layer type is one
 * file: {@code Layer.chain()} / {@code Linearization.chain()} (the network as a product of parts),
 * {@code Layer.linearWeights()} (weights applied linearly, with their operator on an input shape, for
 * weight regularizers), {@code Linearization.tangentRule()} (the parameter gradient of a JVP) and
 * {@code Linearization.activationSite()} (ReLU states, pooling choices). The algorithms (robust.reg,
 * robust.analysis) compose these and never switch on layer classes.
 *
 * <p>For norms, a network's linearization is a {@link dev.opnorm.linalg.LinearMap} per example
 * ({@code asLinearMap(i)}) or a {@link dev.opnorm.linalg.BatchLinearMap} (EVAL only); the Jacobian of
 * any prefix (e.g. the penultimate features) is {@code Linearization.upTo(name)}.
 * Bad input gives an IllegalArgumentException naming the layer ("Conv2d 'features.0'") and the
 * shapes; NaN/Inf checks of layer inputs are switched on with {@link dev.opnorm.nn.layers.FiniteChecks}.
 */
package dev.opnorm.nn.layers;
