package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Norms;

/**
 * {@link GlobalSnrOps} on host arrays: the reference arithmetic of the global spectral norm regularizer.
 * Matrix products and norms are summed in double ({@link Norms}) and rounded to float on store; an
 * operator layer runs its own {@code WeightOperator}. State buffers are the host copies themselves, so
 * {@link #upload} and {@link #download} of the state move nothing. Stateless.
 */
public final class HostGlobalSnrOps implements GlobalSnrOps<float[], double[]> {
    /** The one instance (the operations keep no state). */
    public static final HostGlobalSnrOps INSTANCE = new HostGlobalSnrOps();

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
        int rows = a.rows(), cols = a.cols();
        for (int r = 0; r < rows; r++) {
            double s = 0;
            int off = r * cols;
            for (int c = 0; c < cols; c++) {
                s += (double) w[off + c] * in[c];
            }
            out[r] = (float) s;
        }
    }

    @Override
    public void applyTranspose(Operand a, float[] w, float[] in, float[] out) {
        if (a.operator() != null) {
            a.operator().applyTranspose(in, out);
            return;
        }
        int rows = a.rows(), cols = a.cols();
        double[] acc = new double[cols];
        for (int r = 0; r < rows; r++) {
            double ur = in[r];
            int off = r * cols;
            for (int c = 0; c < cols; c++) {
                acc[c] += ur * w[off + c];
            }
        }
        for (int c = 0; c < cols; c++) {
            out[c] = (float) acc[c];
        }
    }

    @Override
    public void normalize(float[] dst, float[] src) {
        double n = Norms.lp(src, 2);
        if (n > 0) {
            for (int j = 0; j < dst.length; j++) {
                dst[j] = (float) (src[j] / n);
            }
        }
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
        int rows = a.rows(), cols = a.cols();
        for (int r = 0; r < rows; r++) {
            float su = scale * u[r];
            int off = r * cols;
            for (int c = 0; c < cols; c++) {
                gW[off + c] += su * v[c];
            }
        }
    }
}
