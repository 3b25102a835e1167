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
 *
 * <p>The {@link BatchLinearMap} overloads take a batch whose examples are all the same map (a network
 * linearized at one point, replicated batch() times) and push batch() unit vectors through each call,
 * so extracting a Jacobian costs ceil(dim / batch) batched passes instead of dim thin ones (GEMM-sized
 * work for a network). The last chunk is padded with zero vectors.
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

    /** The outDim x inDim matrix of a batch of identical maps, with ceil(min(inDim, outDim) / batch) calls. */
    public static DMatrixRMaj extract(BatchLinearMap replicas) {
        return replicas.inDim() <= replicas.outDim() ? byColumns(replicas) : byRows(replicas);
    }

    /** Columns A e_j, batch() of them per {@code apply} call; every example of the batch must be the same map. */
    public static DMatrixRMaj byColumns(BatchLinearMap replicas) {
        int b = replicas.batch(), n = replicas.inDim(), m = replicas.outDim();
        PowerMethod.checkDims(b, n, m);
        DMatrixRMaj out = new DMatrixRMaj(m, n);
        float[] basis = new float[b * n], cols = new float[b * m];
        for (int j0 = 0; j0 < n; j0 += b) {
            java.util.Arrays.fill(basis, 0f);
            int count = Math.min(b, n - j0);
            for (int k = 0; k < count; k++) basis[k * n + j0 + k] = 1f;
            replicas.apply(basis, cols);
            for (int k = 0; k < count; k++) {
                for (int i = 0; i < m; i++) out.data[i * n + j0 + k] = cols[k * m + i];
            }
        }
        return out;
    }

    /** Rows A^T e_i, batch() of them per {@code applyTranspose} call; every example must be the same map. */
    public static DMatrixRMaj byRows(BatchLinearMap replicas) {
        int b = replicas.batch(), n = replicas.inDim(), m = replicas.outDim();
        PowerMethod.checkDims(b, n, m);
        DMatrixRMaj out = new DMatrixRMaj(m, n);
        float[] basis = new float[b * m], rows = new float[b * n];
        for (int i0 = 0; i0 < m; i0 += b) {
            java.util.Arrays.fill(basis, 0f);
            int count = Math.min(b, m - i0);
            for (int k = 0; k < count; k++) basis[k * m + i0 + k] = 1f;
            replicas.applyTranspose(basis, rows);
            for (int k = 0; k < count; k++) {
                for (int j = 0; j < n; j++) out.data[(i0 + k) * n + j] = rows[k * n + j];
            }
        }
        return out;
    }
}
