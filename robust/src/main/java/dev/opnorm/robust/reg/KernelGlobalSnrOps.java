package dev.opnorm.robust.reg;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.Ops;

/**
 * {@link GlobalSnrOps} on any backend's kernels ({@link Ops}): A is {@link Ops#matVec} on the layer's weight
 * read as a row-major matrix (A^T {@link Ops#matTVec}), or the conv forward / input VJP on one example (bias
 * excluded); norms are {@link Ops#normalizeL2} (a zero norm leaves the vector), u^T A v an
 * {@link Ops#innerProduct} into a buffer of per-layer floats that {@link #read} downloads once; the gradient
 * {@link Ops#outerAccumulate} or the conv weight VJP with cotangent scale u. On a device the state buffers are
 * new buffers (not the host copies), so the engine uploads and downloads the state explicitly. On the host
 * ({@link Kernels}) the state buffers are the host copies themselves and an operator layer runs its own
 * {@link dev.opnorm.nn.layers.WeightOperator} (its own kernels, any operator, as the network's layers do on a
 * host placed model). Not thread safe (scratch).
 *
 * @param <F> the backend's float buffer
 * @param <I> the backend's int buffer
 */
public final class KernelGlobalSnrOps<F, I> implements GlobalSnrOps<F, F> {
    private final Ops<F, I> ops;
    private final boolean host; // ops are host Kernels: F is float[]
    private F scaled; // scale * u of an operator layer's gradient; grows

    /** Operations on buffers of {@code ops}. */
    public KernelGlobalSnrOps(Ops<F, I> ops) {
        if (ops == null) {
            throw new IllegalArgumentException("the global spectral norm's operations need a backend's kernels");
        }
        this.ops = ops;
        this.host = ops instanceof Kernels;
    }

    /**
     * The conv dimensions of an operator layer (null for a matrix).
     *
     * @throws IllegalArgumentException for an operator that is not a 2-D convolution (no kernel runs it)
     */
    public static Conv2dDims dims(Operand a) {
        if (a.operator() == null) {
            return null;
        }
        Conv2dDims d = a.operator().convDims();
        if (d == null) {
            throw new IllegalArgumentException("global spectral norm on the backend's kernels: layer " + a.layer()
                    + " acts through an operator that is not a 2-D convolution, which has no kernel");
        }
        return d;
    }

    /**
     * Refuses an operand these operations cannot run on {@code ops}: on the host every layer runs its own
     * operator, elsewhere only 2-D convolutions have a kernel.
     *
     * @throws IllegalArgumentException naming the layer
     */
    public static void check(Ops<?, ?> ops, Operand a) {
        if (!(ops instanceof Kernels)) {
            dims(a);
        }
    }

    @Override
    public F allocate(int n) {
        return ops.allocate(Shape.features(1, n));
    }

    /** On the host the array itself (the state is live there, nothing moves), elsewhere a new buffer. */
    @Override
    @SuppressWarnings("unchecked")
    public F state(float[] hostCopy) {
        return host ? (F) hostCopy : allocate(hostCopy.length);
    }

    @Override
    public void release(F v) {
        if (v != null) {
            ops.release(v);
        }
    }

    @Override
    public void upload(float[] src, F dst) {
        ops.upload(dst, src, src.length);
    }

    @Override
    public void download(F src, float[] dst) {
        ops.download(src, dst, dst.length);
    }

    @Override
    public void apply(Operand a, F w, F in, F out) {
        if (host && a.operator() != null) {
            a.operator().apply((float[]) in, (float[]) out);
            return;
        }
        Conv2dDims d = dims(a);
        if (d == null) {
            ops.matVec(out, w, in, a.rows(), a.cols());
        } else {
            ops.conv2dForward(out, in, w, null, d);
        }
    }

    @Override
    public void applyTranspose(Operand a, F w, F in, F out) {
        if (host && a.operator() != null) {
            a.operator().applyTranspose((float[]) in, (float[]) out);
            return;
        }
        Conv2dDims d = dims(a);
        if (d == null) {
            ops.matTVec(out, w, in, a.rows(), a.cols());
        } else {
            ops.conv2dVjpInput(out, in, w, d);
        }
    }

    @Override
    public void normalize(F dst, F src) {
        ops.normalizeL2(dst, src, ops.length(src));
    }

    @Override
    public F scalars(int n) {
        return allocate(n);
    }

    @Override
    public void releaseScalars(F s) {
        release(s);
    }

    @Override
    public void dot(F dst, int i, F a, F b) {
        ops.innerProduct(dst, i, a, b, ops.length(a));
    }

    /** One download of n floats, widened. */
    @Override
    public double[] read(F s, int n) {
        float[] f = new float[n];
        ops.download(s, f, n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = f[i];
        }
        return out;
    }

    @Override
    public void addWeightGradient(Operand a, F gW, float scale, F u, F v) {
        Conv2dDims d = host ? null : dims(a);
        if (a.operator() == null) {
            ops.outerAccumulate(gW, scale, u, v, a.rows(), a.cols());
            return;
        }
        // u^T A(v; W) is linear in W: its gradient is the weight VJP with cotangent scale*u at input v
        if (scaled == null || ops.length(scaled) < a.rows()) {
            release(scaled);
            scaled = allocate(a.rows());
        }
        ops.scale(scaled, scale, u, a.rows());
        if (host) {
            a.operator().accumulateWeightGradient((float[]) gW, (float[]) scaled, (float[]) v);
        } else {
            ops.conv2dVjpWeight(gW, scaled, v, d);
        }
    }

    @Override
    public void close() {
        release(scaled);
        scaled = null;
    }
}
