package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.robust.reg.GlobalSpectralNorm;

/**
 * The global spectral norm regularizer of {@code robust.reg.GlobalSpectralNorm} (both forms: the reshaped
 * kernel of Yoshida and Miyato, and each conv's true operator norm on its input shape) on the device, as a
 * {@link DeviceObjective.Regularizer}. Per update and per weight layer l, as the host:
 * <pre>
 *   (stepsPerUpdate times)  u = A v / ||A v||_2,  v = A^T u / ||A^T u||_2
 *   sigma_l = u^T A_l v,    penalty = (lambda / 2) sum_l sigma_l^2
 *   grads[W_l] += lambda sigma_l d(u^T A_l(W_l) v)/dW_l   (reshaped: lambda sigma u v^T, a rank-1 gemm;
 *                                                          conv: the conv weight VJP with cotangent
 *                                                          lambda sigma u at input v)
 * </pre>
 * A is a device gemm on the layer's weight read as a row-major out x in matrix (A^T: the transposed gemm),
 * or the conv forward / input VJP on one example (bias excluded), reading the weights the model keeps on
 * the device. Norms are {@code dotRows} + {@code scaleRowsInvSqrt} on the device.
 *
 * <p>State: the persistent u, v live on the device; the host regularizer's {@code u(i)} / {@code v(i)}
 * arrays (its checkpointed {@code state()}) are their host copies: {@link #downloadState()} copies the device
 * vectors there (before a checkpoint), {@link #uploadState()} marks the host copies as the truth (after a
 * resume), so the next update uploads them. On the first update after that, vectors the host has not
 * initialized are drawn from the step's seed by {@code host.initialize(seed)} (the host's start vectors), then
 * uploaded. Transfers per update: one download of one float per layer (the sigma_l; the gradients' scales
 * are kernel arguments), plus, on the first update and after each {@link #uploadState()}, one upload of
 * each u and v.
 *
 * <p>Differences from the host, at rounding level only: sums are float (tiled gemm / conv, tree-reduced dot
 * products) where the host sums matrix products and norms in double. One edge case differs: where
 * A^T u = 0 (a layer whose A v is 0, e.g. all-zero weights) the host keeps v, the device sets v = 0.
 */
public final class DeviceGlobalSpectralNorm implements DeviceObjective.Regularizer {
    private final GlobalSpectralNorm host;
    private final int layers;
    private DeviceTensor[] u, v, outScratch, inScratch;
    private DeviceTensor ss, sigma;
    private final float[] sigmas;
    private boolean synced;

    /**
     * @param host the host regularizer, built on the same host model the {@link DeviceModel} mirrors; its
     *             configuration is used and its u / v arrays are the checkpointed copies of the device state
     * @throws IllegalArgumentException when host is null
     */
    public DeviceGlobalSpectralNorm(GlobalSpectralNorm host) {
        if (host == null) {
            throw new IllegalArgumentException("DeviceGlobalSpectralNorm needs the host GlobalSpectralNorm");
        }
        this.host = host;
        this.layers = host.layers();
        this.sigmas = new float[layers];
    }

    @Override
    public String name() {
        return host.name();
    }

    /** The host regularizer whose configuration and state copies this one uses. */
    public GlobalSpectralNorm host() {
        return host;
    }

    @Override
    public double accumulate(DeviceModel model, DeviceTensor x, DeviceInts labels, long seed,
                             DeviceLinearization train, DeviceGrads grads) {
        OpenCl cl = model.runtime();
        OpenClOps ops = cl.ops();
        if (!synced) {
            if (!host.initialized()) {
                host.initialize(seed);
            }
            upload(cl);
            synced = true;
        }
        for (int k = 0; k < host.stepsPerUpdate(); k++) {
            for (int i = 0; i < layers; i++) {
                DeviceTensor w = weight(model, i);
                int out = u[i].length(), in = v[i].length();
                apply(ops, i, w, v[i], u[i]);
                ops.dotRows(ss, 0, u[i], u[i], 1, out);
                ops.scaleRowsInvSqrt(u[i], u[i], ss, 0, 1, out);
                applyTranspose(ops, i, w, u[i], inScratch[i]);
                ops.dotRows(ss, 0, inScratch[i], inScratch[i], 1, in);
                ops.scaleRowsInvSqrt(v[i], inScratch[i], ss, 0, 1, in);
            }
        }
        for (int i = 0; i < layers; i++) {
            apply(ops, i, weight(model, i), v[i], outScratch[i]);
            ops.dotRows(sigma, i, u[i], outScratch[i], 1, u[i].length());
        }
        sigma.download(sigmas, 0, 0, layers);
        double lambda = host.lambda(), value = 0;
        for (int i = 0; i < layers; i++) {
            double s = sigmas[i];
            value += 0.5 * lambda * s * s;
            float scale = (float) (lambda * s);
            DeviceTensor gW = grads.of(host.weight(i));
            Conv2dDims d = host.convDims(i);
            if (d == null) {
                int out = u[i].length(), in = v[i].length();
                ops.gemm(false, true, out, in, 1, scale, u[i], 0, 1, v[i], 0, 1, 1f, gW, 0, in);
            } else {
                // u^T conv(v; W) is linear in W: its gradient is the weight VJP with cotangent scale*u at input v
                ops.scale(outScratch[i], scale, u[i], u[i].length());
                ops.conv2dVjpWeight(gW, outScratch[i], v[i], d);
            }
        }
        return value;
    }

    /** out = A_i in (overwritten). */
    private void apply(OpenClOps ops, int i, DeviceTensor w, DeviceTensor in, DeviceTensor out) {
        Conv2dDims d = host.convDims(i);
        if (d == null) {
            int rows = out.length(), cols = in.length();
            ops.gemm(false, false, rows, 1, cols, 1f, w, 0, cols, in, 0, 1, 0f, out, 0, 1);
        } else {
            ops.conv2dForward(out, in, w, null, d);
        }
    }

    /** out = A_i^T in (overwritten). */
    private void applyTranspose(OpenClOps ops, int i, DeviceTensor w, DeviceTensor in, DeviceTensor out) {
        Conv2dDims d = host.convDims(i);
        if (d == null) {
            int rows = in.length(), cols = out.length();
            ops.gemm(true, false, cols, 1, rows, 1f, w, 0, cols, in, 0, 1, 0f, out, 0, 1);
        } else {
            ops.conv2dVjpInput(out, in, w, d);
        }
    }

    private DeviceTensor weight(DeviceModel model, int i) {
        Param p = host.weight(i);
        return model.value(p);
    }

    private void upload(OpenCl cl) {
        if (u == null) {
            u = new DeviceTensor[layers];
            v = new DeviceTensor[layers];
            outScratch = new DeviceTensor[layers];
            inScratch = new DeviceTensor[layers];
            for (int i = 0; i < layers; i++) {
                u[i] = DeviceTensor.allocate(cl, host.u(i).length);
                v[i] = DeviceTensor.allocate(cl, host.v(i).length);
                outScratch[i] = DeviceTensor.allocate(cl, host.u(i).length);
                inScratch[i] = DeviceTensor.allocate(cl, host.v(i).length);
            }
            ss = DeviceTensor.allocate(cl, 1);
            sigma = DeviceTensor.allocate(cl, layers);
        }
        for (int i = 0; i < layers; i++) {
            u[i].upload(host.u(i));
            v[i].upload(host.v(i));
        }
    }

    /** The host copies are the state: the next update uploads them (after a resume or a host-side change). */
    @Override
    public void uploadState() {
        synced = false;
    }

    /**
     * Copies the device u, v into the host regularizer's arrays (its checkpointed state); nothing before the
     * first update (or after {@link #uploadState()}), when the host arrays already are the state.
     */
    @Override
    public void downloadState() {
        if (!synced) {
            return;
        }
        for (int i = 0; i < layers; i++) {
            u[i].download(host.u(i), 0, 0, host.u(i).length);
            v[i].download(host.v(i), 0, 0, host.v(i).length);
        }
    }

    @Override
    public boolean mirrorsState() {
        return true;
    }

    @Override
    public void close() {
        if (u != null) {
            for (DeviceTensor[] a : new DeviceTensor[][]{u, v, outScratch, inScratch}) {
                for (DeviceTensor t : a) {
                    t.close();
                }
            }
            ss.close();
            sigma.close();
            u = v = outScratch = inScratch = null;
            ss = sigma = null;
        }
        synced = false;
    }
}
