package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.robust.reg.GlobalSnrOps;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.train.TrainNetwork;
import dev.opnorm.robust.train.TrainOps;

/**
 * robust's {@link GlobalSnrOps} on the device, so that the global spectral norm regularizer's update
 * ({@code GlobalSpectralNorm.Engine}, written once; both forms) runs on {@link DeviceTensor}s: A is a gemm
 * on the layer's weight read as a row-major matrix (A^T the transposed gemm), or the conv forward / input
 * VJP on one example (bias excluded); norms are {@code rowNorms} + {@code divideRows} (a zero norm leaves
 * the vector, the host's rule), u^T A v a {@code dotRows}; the gradient a rank-1 gemm or the conv weight
 * VJP with cotangent scale u. Sums are float (tiled gemm / conv, tree-reduced norms and dot products)
 * where the host sums in double: results agree with the host to rounding.
 *
 * <p>{@link #regularizer} is the device twin of a host {@code GlobalSpectralNorm} in a
 * training step ({@link DeviceTrainOps}): u and v stay on the device; per update the sigmas come back in one download
 * (the gradients' scales are kernel arguments); the host regularizer's u, v arrays (its checkpointed
 * state) are synchronised only by {@code downloadState} (before a checkpoint) and {@code uploadState}
 * (after a resume: the next update uploads them). Not thread safe.
 */
public final class DeviceGlobalSnrOps implements GlobalSnrOps<DeviceTensor, DeviceTensor> {
    private final OpenCl cl;
    private final OpenClOps ops;
    private DeviceTensor norm;   // 1 float: the norm of normalize
    private DeviceTensor scaled; // scale * u of an operator layer's gradient; grows

    /** Operations on buffers of {@code cl}. */
    public DeviceGlobalSnrOps(OpenCl cl) {
        if (cl == null) {
            throw new IllegalArgumentException("DeviceGlobalSnrOps needs an OpenCL runtime");
        }
        this.cl = cl;
        this.ops = cl.ops();
    }

    /**
     * The device twin of {@code host} as a regularizer of a training step on {@code model}: host's update on
     * the device model's weights and gradients, its u, v arrays the host copies of the device state.
     *
     * @throws IllegalArgumentException when host or model is null
     */
    public static TrainOps.Term<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> regularizer(
            GlobalSpectralNorm host, PlacedModel<DeviceTensor, DeviceInts> model) {
        if (host == null || model == null) {
            throw new IllegalArgumentException("the device global spectral norm needs the host GlobalSpectralNorm "
                    + "and a device model");
        }
        for (int i = 0; i < host.layers(); i++) {
            dims(host.operand(i)); // refuse a layer the device cannot run before any training
        }
        return new TrainOps.Term<>() {
            private GlobalSpectralNorm.Engine<DeviceTensor, DeviceTensor> engine;

            @Override
            public String name() {
                return host.name();
            }

            @Override
            public double accumulate(DeviceTensor x, Shape s, DeviceInts labels, long seed,
                                     TrainNetwork.Pass<DeviceTensor, Gradients<DeviceTensor>> train,
                                     Gradients<DeviceTensor> grads) {
                if (engine == null) {
                    engine = host.engine(new DeviceGlobalSnrOps(DeviceNetworks.runtime(model)));
                }
                return engine.accumulate(seed, model::value, grads::of);
            }

            @Override
            public boolean mirrorsState() {
                return true;
            }

            @Override
            public void uploadState() {
                if (engine != null) {
                    engine.uploadState();
                }
            }

            @Override
            public void downloadState() {
                if (engine != null) {
                    engine.downloadState();
                }
            }

            @Override
            public void close() {
                if (engine != null) {
                    engine.close();
                    engine = null;
                }
            }
        };
    }

    @Override
    public DeviceTensor allocate(int n) {
        return DeviceTensor.allocate(cl, n);
    }

    @Override
    public DeviceTensor state(float[] hostCopy) {
        return DeviceTensor.allocate(cl, hostCopy.length);
    }

    @Override
    public void release(DeviceTensor v) {
        if (v != null) {
            v.close();
        }
    }

    @Override
    public void upload(float[] src, DeviceTensor dst) {
        dst.upload(src);
    }

    @Override
    public void download(DeviceTensor src, float[] dst) {
        src.download(dst, 0, 0, dst.length);
    }

    @Override
    public void apply(Operand a, DeviceTensor w, DeviceTensor in, DeviceTensor out) {
        Conv2dDims d = dims(a);
        if (d == null) {
            ops.gemm(false, false, a.rows(), 1, a.cols(), 1f, w, 0, a.cols(), in, 0, 1, 0f, out, 0, 1);
        } else {
            ops.conv2dForward(out, in, w, null, d);
        }
    }

    @Override
    public void applyTranspose(Operand a, DeviceTensor w, DeviceTensor in, DeviceTensor out) {
        Conv2dDims d = dims(a);
        if (d == null) {
            ops.gemm(true, false, a.cols(), 1, a.rows(), 1f, w, 0, a.cols(), in, 0, 1, 0f, out, 0, 1);
        } else {
            ops.conv2dVjpInput(out, in, w, d);
        }
    }

    @Override
    public void normalize(DeviceTensor dst, DeviceTensor src) {
        if (norm == null) {
            norm = DeviceTensor.allocate(cl, 1);
        }
        int n = src.length();
        ops.rowNorms(norm, 0, src, 1, n, 2);
        ops.divideRows(dst, src, norm, 0, 1, n);
    }

    @Override
    public DeviceTensor scalars(int n) {
        return DeviceTensor.allocate(cl, n);
    }

    @Override
    public void releaseScalars(DeviceTensor s) {
        release(s);
    }

    @Override
    public void dot(DeviceTensor dst, int i, DeviceTensor a, DeviceTensor b) {
        ops.dotRows(dst, i, a, b, 1, a.length());
    }

    @Override
    public double[] read(DeviceTensor s, int n) {
        float[] f = new float[n];
        s.download(f, 0, 0, n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = f[i];
        }
        return out;
    }

    @Override
    public void addWeightGradient(Operand a, DeviceTensor gW, float scale, DeviceTensor u, DeviceTensor v) {
        Conv2dDims d = dims(a);
        if (d == null) {
            ops.gemm(false, true, a.rows(), a.cols(), 1, scale, u, 0, 1, v, 0, 1, 1f, gW, 0, a.cols());
        } else {
            // u^T conv(v; W) is linear in W: its gradient is the weight VJP with cotangent scale*u at input v
            if (scaled == null || scaled.length() < a.rows()) {
                release(scaled);
                scaled = DeviceTensor.allocate(cl, a.rows());
            }
            ops.scale(scaled, scale, u, a.rows());
            ops.conv2dVjpWeight(gW, scaled, v, d);
        }
    }

    private static Conv2dDims dims(Operand a) {
        if (a.operator() == null) {
            return null;
        }
        Conv2dDims d = a.operator().convDims();
        if (d == null) {
            throw new IllegalArgumentException("global spectral norm on the device: layer " + a.layer()
                    + " acts through an operator that is not a 2-D convolution, which the device has no kernel for");
        }
        return d;
    }

    @Override
    public void close() {
        release(norm);
        release(scaled);
        norm = scaled = null;
    }
}
