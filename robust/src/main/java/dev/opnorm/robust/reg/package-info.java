/**
 * Regularizers for robust training, each computing its value on a batch and ACCUMULATING its parameter
 * gradient into a {@link dev.opnorm.nn.layers.ParamGrads}:
 * <ul>
 *   <li>{@link dev.opnorm.robust.reg.GlobalSpectralNorm}: global (data-independent) spectral norm
 *       regularization, Yoshida and Miyato's reshaped-kernel approximation or the true operator norm of each
 *       convolution, its update written once on {@link dev.opnorm.robust.reg.GlobalSnrOps}
 *       ({@link dev.opnorm.robust.reg.KernelGlobalSnrOps} on any backend's kernels);</li>
 *   <li>{@link dev.opnorm.robust.reg.DdSpectralNorm}: data-dependent spectral norm regularization, sigma^2
 *       form, with the exact parameter gradient of u^T J v ({@link dev.opnorm.robust.reg.TangentGradient});</li>
 *   <li>{@link dev.opnorm.robust.reg.DdOperatorNorm}: data-dependent (p,q) operator norm regularization
 *       through f(x + eps v) - f(x), including the sum-of-squares d.d. SNR the paper trained with;</li>
 *   <li>{@link dev.opnorm.robust.reg.InputGradient}: input-gradient regularization (exact double backward
 *       for piecewise-linear networks), a baseline.</li>
 * </ul>
 * The three data-dependent ones are written once on a {@link dev.opnorm.robust.reg.RegEngine} (a network on
 * one backend's buffers, linalg's {@code BatchOps}, {@link dev.opnorm.robust.reg.RegOps}), the one engine
 * {@code RegEngine.placed} on a model placed on any backend's kernels: the host entry points
 * ({@code accumulate(RegBatch, ParamGrads)}) run it on the host placed model ({@code PlacedModel.host}), a
 * training step on the device on the OpenCL one.
 * Data-dependent power iterations run with BatchNorm in EVAL mode, on the logits. Every regularizer exposes
 * a way to evaluate its penalty with its internal vectors held fixed, which the gradient tests use.
 */
package dev.opnorm.robust.reg;
