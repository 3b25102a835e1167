package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;

/**
 * {@link GlobalSnrOps} on host arrays: the reference arithmetic of the global spectral norm regularizer.
 * Matrix products and norms are the host kernels' (summed in double, rounded to float on store), the
 * sigmas double dot products ({@link Norms}); an operator layer runs its own {@code WeightOperator}. Every
 * other backend runs {@link KernelGlobalSnrOps}. State buffers are the host copies themselves, so
 * {@link #upload} and {@link #download} of the state move nothing. Stateless.
 */
public final class HostGlobalSnrOps implements GlobalSnrOps<float[], double[]> {
    /** The one instance (the operations keep no state). */
    public static final HostGlobalSnrOps INSTANCE = new HostGlobalSnrOps();
    /** The host kernels' reference loops (the same in every host implementation). */
    private static final Kernels K = new ScalarKernels();

    private HostGlobalSnrOps() {
    }

    @Override
    public float[] allocate(int n) {
        return new float[n];
    }

    @Override
    public float[] state(float[] hostCopy) {
        return hostCopy;
    }

    @Override
    public void release(float[] v) {
    }

    @Override
    public void upload(float[] src, float[] dst) {
        if (src != dst) {
            System.arraycopy(src, 0, dst, 0, src.length);
        }
    }

    @Override
    public void download(float[] src, float[] dst) {
        if (src != dst) {
            System.arraycopy(src, 0, dst, 0, dst.length);
        }
    }

    @Override
    public void apply(Operand a, float[] w, float[] in, float[] out) {
        if (a.operator() != null) {
            a.operator().apply(in, out);
            return;
        }
        K.matVec(out, w, in, a.rows(), a.cols());
    }

    @Override
    public void applyTranspose(Operand a, float[] w, float[] in, float[] out) {
        if (a.operator() != null) {
            a.operator().applyTranspose(in, out);
            return;
        }
        K.matTVec(out, w, in, a.rows(), a.cols());
    }

    @Override
    public void normalize(float[] dst, float[] src) {
        K.normalizeL2(dst, src, src.length);
    }

    @Override
    public double[] scalars(int n) {
        return new double[n];
    }

    @Override
    public void releaseScalars(double[] s) {
    }

    @Override
    public void dot(double[] dst, int i, float[] a, float[] b) {
        dst[i] = Norms.dot(a, b);
    }

    @Override
    public double[] read(double[] s, int n) {
        return s.length == n ? s : java.util.Arrays.copyOf(s, n);
    }

    @Override
    public void addWeightGradient(Operand a, float[] gW, float scale, float[] u, float[] v) {
        if (a.operator() != null) {
            // u^T A(W) v is linear in W: its gradient is the operator's weight gradient with u scaled
            float[] scaledU = new float[u.length];
            for (int j = 0; j < u.length; j++) {
                scaledU[j] = scale * u[j];
            }
            a.operator().accumulateWeightGradient(gW, scaledU, v);
            return;
        }
        K.outerAccumulate(gW, scale, u, v, a.rows(), a.cols());
    }
}
