package dev.opnorm.linalg;

import org.ejml.data.DMatrixRMaj;

/**
 * Dense matrix of a {@link LinearMap} (for a network: its Jacobian at a point), in double.
 *
 * <p>{@link #byColumns} calls {@code apply} on the inDim unit vectors (column j = A e_j, forward mode);
 * {@link #byRows} calls {@code applyTranspose} on the outDim unit vectors (row i = (A^T e_i)^T, reverse
 * mode). {@link #extract} picks whichever needs fewer calls (columns on a tie). For an exact linear map
 * both give the same matrix up to the float round-off of the map's two code paths, which makes
 * {@code byRows(a) == byColumns(a)} an adjoint test.
 */
public final class Jacobians {
    private Jacobians() {}

    /** The outDim x inDim matrix of the map, with min(inDim, outDim) calls. */
    public static DMatrixRMaj extract(LinearMap a) {
        return a.inDim() <= a.outDim() ? byColumns(a) : byRows(a);
    }

    /** The outDim x inDim matrix of the map from inDim calls of {@code apply}. */
    public static DMatrixRMaj byColumns(LinearMap a) {
        int n = a.inDim(), m = a.outDim();
        PowerMethod.checkDims(1, n, m);
        DMatrixRMaj out = new DMatrixRMaj(m, n);
        float[] e = new float[n], col = new float[m];
        for (int j = 0; j < n; j++) {
            e[j] = 1f;
            a.apply(e, col);
            e[j] = 0f;
            for (int i = 0; i < m; i++) out.data[i * n + j] = col[i];
        }
        return out;
    }

    /** The outDim x inDim matrix of the map from outDim calls of {@code applyTranspose}. */
    public static DMatrixRMaj byRows(LinearMap a) {
        int n = a.inDim(), m = a.outDim();
        PowerMethod.checkDims(1, n, m);
        DMatrixRMaj out = new DMatrixRMaj(m, n);
        float[] e = new float[m], row = new float[n];
        for (int i = 0; i < m; i++) {
            e[i] = 1f;
            a.applyTranspose(e, row);
            e[i] = 0f;
            for (int j = 0; j < n; j++) out.data[i * n + j] = row[j];
        }
        return out;
    }
}
