package dev.opnorm.linalg;

import java.util.Arrays;

/**
 * {@link BatchOps} on host arrays: buffers are {@code float[]}, scalars {@code double[]} (the norms as
 * {@link Norms#lp} returns them, so the host iterations keep their double-precision bookkeeping), and
 * every row operation is the linalg method of one example's slice. {@link #read} is a copy.
 */
public final class HostBatchOps implements BatchOps<float[], double[]> {
    /** Stateless: one instance serves every run. */
    public static final HostBatchOps INSTANCE = new HostBatchOps();

    private HostBatchOps() {}

    @Override
    public float[] allocate(int rows, int cols) {
        return new float[Math.multiplyExact(rows, cols)];
    }

    @Override
    public void release(float[] v) {
        // garbage collected
    }

    @Override
    public double[] scalars(int count) {
        return new double[count];
    }

    @Override
    public void releaseScalars(double[] s) {
        // garbage collected
    }

    @Override
    public void upload(float[] src, float[] dst, int rows, int cols) {
        System.arraycopy(src, 0, dst, 0, rows * cols);
    }

    @Override
    public float[] download(float[] src, int rows, int cols) {
        return Arrays.copyOf(src, rows * cols);
    }

    @Override
    public void rowNorms(double[] out, int off, float[] a, int rows, int cols, double p) {
        for (int r = 0; r < rows; r++) out[off + r] = Norms.lp(a, r * cols, cols, p);
    }

    @Override
    public double[] read(double[] s, int count) {
        return Arrays.copyOf(s, count);
    }

    @Override
    public void divideRows(float[] y, float[] x, double[] norms, int off, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double n = norms[off + r];
            if (!(n > 0)) continue;
            for (int j = r * cols; j < (r + 1) * cols; j++) y[j] = (float) (x[j] / n);
        }
    }

    @Override
    public void dualRows(float[] out, float[] a, int rows, int cols, double q) {
        for (int r = 0; r < rows; r++) DualMaps.dual(a, r * cols, cols, q, out, r * cols);
    }

    @Override
    public void sphereStep(float[] v, float[] z, double alpha, int rows, int cols, double p) {
        float[] y = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) y[j] = (float) (v[r * cols + j] + alpha * z[r * cols + j]);
            Projections.ontoSphere(y, 0, cols, p, 1, v, r * cols);
        }
    }

    @Override
    public void checkSphereStep(double p) {
        Norms.checkP(p, "p"); // Projections.ontoSphere handles every p >= 1
    }

    @Override
    public void copyRowsWhere(float[] dst, float[] src, boolean[] rows, int cols) {
        for (int r = 0; r < rows.length; r++) {
            if (rows[r]) System.arraycopy(src, r * cols, dst, r * cols, cols);
        }
    }
}
