package dev.opnorm.linalg;

import org.ejml.data.DMatrixRMaj;

/**
 * Adapters from dense matrices to {@link LinearMap}, and the transpose of a map.
 *
 * <p>A d x n matrix A is the map R^n -> R^d (inDim = columns, outDim = rows). Float matrices are
 * multiplied with double accumulation; double matrices (EJML, {@code double[][]}) are multiplied in
 * double and only the result is rounded to float. The row-major and EJML adapters are views: later
 * changes to the array or matrix are seen by the map. The returned maps keep a scratch buffer, so one
 * instance must not be used from two threads at once.
 */
public final class LinearMaps {
    private LinearMaps() {}

    /** View of a row-major float matrix {@code data[r*cols + c]} with the given shape (not copied). */
    public static LinearMap ofRowMajor(float[] data, int rows, int cols) {
        checkShape(rows, cols, data.length);
        return new FloatDense(data, rows, cols);
    }

    /** Copy of a float matrix given as rows ({@code a[r][c]}; all rows the same length). */
    public static LinearMap of(float[][] a) {
        int rows = a.length, cols = rows == 0 ? 0 : a[0].length;
        float[] data = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            if (a[r].length != cols) throw new IllegalArgumentException("ragged matrix: row " + r + " has length " + a[r].length + ", row 0 has " + cols);
            System.arraycopy(a[r], 0, data, r * cols, cols);
        }
        checkShape(rows, cols, data.length);
        return new FloatDense(data, rows, cols);
    }

    /** Copy of a double matrix given as rows ({@code a[r][c]}; all rows the same length). */
    public static LinearMap of(double[][] a) {
        return of(new DMatrixRMaj(a));
    }

    /** View of an EJML row-major double matrix (not copied). */
    public static LinearMap of(DMatrixRMaj a) {
        checkShape(a.numRows, a.numCols, a.getNumElements());
        return new DoubleDense(a);
    }

    /** The transpose A^T of a map: apply and applyTranspose swapped. */
    public static LinearMap transpose(LinearMap a) {
        return new LinearMap() {
            @Override public int inDim() { return a.outDim(); }
            @Override public int outDim() { return a.inDim(); }
            @Override public void apply(float[] v, float[] out) { a.applyTranspose(v, out); }
            @Override public void applyTranspose(float[] u, float[] out) { a.apply(u, out); }
        };
    }

    /** Checks the array lengths and aliasing of an apply call; shared by the adapters. */
    static void checkApply(float[] in, int inDim, float[] out, int outDim, String what) {
        if (in.length != inDim) throw new IllegalArgumentException(what + ": input length " + in.length + ", expected " + inDim);
        if (out.length != outDim) throw new IllegalArgumentException(what + ": output length " + out.length + ", expected " + outDim);
        if (in == out) throw new IllegalArgumentException(what + ": input and output must not alias");
    }

    private static void checkShape(int rows, int cols, int length) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("matrix shape must be positive, got " + rows + "x" + cols);
        if ((long) rows * cols != length) throw new IllegalArgumentException("matrix " + rows + "x" + cols + " needs " + (long) rows * cols + " elements, array has " + length);
    }

    private static final class FloatDense implements LinearMap {
        private final float[] a; // (rows, cols) row-major
        private final int rows, cols;
        private final double[] acc; // (cols) scratch for A^T u

        FloatDense(float[] a, int rows, int cols) {
            this.a = a;
            this.rows = rows;
            this.cols = cols;
            this.acc = new double[cols];
        }

        @Override public int inDim() { return cols; }
        @Override public int outDim() { return rows; }

        @Override
        public void apply(float[] v, float[] out) {
            checkApply(v, cols, out, rows, "apply");
            for (int r = 0; r < rows; r++) {
                int base = r * cols;
                // two accumulators halve the dependency chain; the order is fixed, so results are reproducible
                double s0 = 0, s1 = 0;
                int c = 0;
                for (; c + 1 < cols; c += 2) {
                    s0 += (double) a[base + c] * v[c];
                    s1 += (double) a[base + c + 1] * v[c + 1];
                }
                if (c < cols) s0 += (double) a[base + c] * v[c];
                out[r] = (float) (s0 + s1);
            }
        }

        @Override
        public void applyTranspose(float[] u, float[] out) {
            checkApply(u, rows, out, cols, "applyTranspose");
            java.util.Arrays.fill(acc, 0);
            for (int r = 0; r < rows; r++) {
                double ur = u[r];
                if (ur == 0) continue;
                int base = r * cols;
                for (int c = 0; c < cols; c++) acc[c] += a[base + c] * ur;
            }
            for (int c = 0; c < cols; c++) out[c] = (float) acc[c];
        }
    }

    private static final class DoubleDense implements LinearMap {
        private final DMatrixRMaj a;
        private final double[] acc;

        DoubleDense(DMatrixRMaj a) {
            this.a = a;
            this.acc = new double[a.numCols];
        }

        @Override public int inDim() { return a.numCols; }
        @Override public int outDim() { return a.numRows; }

        @Override
        public void apply(float[] v, float[] out) {
            int rows = a.numRows, cols = a.numCols;
            checkApply(v, cols, out, rows, "apply");
            double[] d = a.data;
            for (int r = 0; r < rows; r++) {
                int base = r * cols;
                double s0 = 0, s1 = 0;
                int c = 0;
                for (; c + 1 < cols; c += 2) {
                    s0 += d[base + c] * v[c];
                    s1 += d[base + c + 1] * v[c + 1];
                }
                if (c < cols) s0 += d[base + c] * v[c];
                out[r] = (float) (s0 + s1);
            }
        }

        @Override
        public void applyTranspose(float[] u, float[] out) {
            int rows = a.numRows, cols = a.numCols;
            checkApply(u, rows, out, cols, "applyTranspose");
            double[] d = a.data;
            java.util.Arrays.fill(acc, 0);
            for (int r = 0; r < rows; r++) {
                double ur = u[r];
                if (ur == 0) continue;
                int base = r * cols;
                for (int c = 0; c < cols; c++) acc[c] += d[base + c] * ur;
            }
            for (int c = 0; c < cols; c++) out[c] = (float) acc[c];
        }
    }
}
