/**
 * The public API of opnorm: a few classes that cover the common tasks in a few lines each and are kept
 * stable; everything else is reachable from them and may change between versions. It is its own module,
 * {@code opnorm-api}, over the algorithms of {@code opnorm-robust} (attacks, regularizers, the training methods'
 * catalogue {@link dev.opnorm.robust.train.MethodSpec}, {@code Trainer}, analyses).
 *
 * <table>
 *   <caption>Tasks and where they live</caption>
 *   <tr><th>task</th><th>call</th></tr>
 *   <tr><td>build a network</td><td>{@link dev.opnorm.api.Models#cnn7(double)}, {@link dev.opnorm.api.Models#wideResNet(int, int)}</td></tr>
 *   <tr><td>per-example (p,q) operator norms of its Jacobian</td>
 *       <td>{@code OperatorNorms.of(model, x).p(2).q(OperatorNorms.INF).iterations(100).compute()} ({@link dev.opnorm.api.OperatorNorms})</td></tr>
 *   <tr><td>dense Jacobian and singular values</td><td>{@code Jacobians.of(model, x, i).spectrum()} ({@link dev.opnorm.api.Jacobians}, {@link dev.opnorm.api.Spectrum})</td></tr>
 *   <tr><td>l_p PGA / FGM attacks</td><td>{@code Pga.l2(eps).iterations(10).attack(model, x, labels)} ({@link dev.opnorm.robust.attack.Pga},
 *       {@link dev.opnorm.robust.attack.Fgm}); accuracy against eps: {@link dev.opnorm.robust.attack.RobustAccuracy#curve}</td></tr>
 *   <tr><td>train with AT, d.d. SNR, d.d. ONR, global SNR</td>
 *       <td>{@code Training.of(model).method(Methods.ddSnr(lambda)).data(train, test).epochs(2).fit()} ({@link dev.opnorm.api.Training},
 *       {@link dev.opnorm.api.Methods})</td></tr>
 *   <tr><td>analyses of trained networks (Fig. 2, 4, 5)</td><td>{@link dev.opnorm.robust.analysis.Spectra},
 *       {@link dev.opnorm.robust.analysis.Linearity}, {@link dev.opnorm.robust.analysis.SharedActivations}</td></tr>
 *   <tr><td>save / load weights</td><td>{@link dev.opnorm.api.Checkpoints}</td></tr>
 *   <tr><td>data</td><td>{@link dev.opnorm.nn.data.FashionMnist}, {@link dev.opnorm.nn.data.Cifar10}, {@link dev.opnorm.nn.data.Dataset}</td></tr>
 * </table>
 *
 * <p>The attacks already have a fluent, immutable API in {@code dev.opnorm.robust.attack}; it is part of the
 * public API as it is and is not wrapped here.
 *
 * <p><b>Conventions.</b> Tensors are {@link dev.opnorm.nn.Tensor}: a flat {@code float[]} in NCHW order with a
 * {@link dev.opnorm.nn.Shape}; inputs are (n, channels, 32, 32). Norm values are in output units per input unit
 * of the model's input scaling. BatchNorm mode is explicit ({@link dev.opnorm.nn.layers.BnMode}); norms,
 * Jacobians and attacks use EVAL (running statistics) unless told otherwise. ReLU'(0) = 0. Bad arguments throw
 * {@link java.lang.IllegalArgumentException} with a message that names the argument; I/O problems throw
 * {@link java.io.IOException}. Results are deterministic: one seed gives bit-identical numbers on any thread count.
 *
 * <p><b>Running.</b> The CPU kernels use the Java Vector API: start the JVM with
 * {@code --add-modules jdk.incubator.vector} (Java 17 or newer). Worker threads: {@code -Dopnorm.threads=N}
 * (default: all cores). The OpenCL backend (module {@code opnorm-gpu-kernels}) is selected with
 * {@code dev.opnorm.nn.Engine.setKernels(new dev.opnorm.gpu.OpenClKernels())} before models are built.
 */
package dev.opnorm.api;
