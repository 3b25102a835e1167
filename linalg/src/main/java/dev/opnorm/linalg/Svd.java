package dev.opnorm.linalg;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Singular value decomposition in double through EJML: A = U diag(s) V^T, thin (compact) form,
 * singular values in descending order.
 *
 * <p>The input is never modified (EJML's decomposition may overwrite its input, so it is copied when
 * needed). Use {@link #values} when the vectors are not needed: it is several times cheaper.
 */
public final class Svd {
    private Svd() {}

    /**
     * A thin SVD.
     *
     * @param singularValues r = min(rows, cols) values, descending
     * @param u              rows x r, orthonormal columns (left singular vectors)
     * @param v              cols x r, orthonormal columns (right singular vectors)
     */
    public record Result(double[] singularValues, DMatrixRMaj u, DMatrixRMaj v) {
        /** The largest singular value, the spectral norm ||A||_{2,2}. */
        public double sigmaMax() { return singularValues[0]; }
    }

    /**
     * Thin SVD with vectors of a d x n matrix.
     *
     * @throws IllegalArgumentException if the matrix is empty or has non-finite entries
     * @throws IllegalStateException    if EJML reports that the decomposition failed
     */
    public static Result of(DMatrixRMaj a) {
        check(a);
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(a.numRows, a.numCols, true, true, true);
        DMatrixRMaj in = svd.inputModified() ? a.copy() : a;
        if (!svd.decompose(in)) throw new IllegalStateException("SVD failed for a " + a.numRows + "x" + a.numCols + " matrix");
        DMatrixRMaj u = svd.getU(null, false), w = svd.getW(null), v = svd.getV(null, false);
        SingularOps_DDRM.descendingOrder(u, false, w, v, false);
        int r = Math.min(a.numRows, a.numCols);
        double[] s = new double[r];
        for (int i = 0; i < r; i++) s[i] = w.get(i, i);
        return new Result(s, u, v);
    }

    /** Thin SVD with vectors of the dense matrix of a map (extracted with {@link Jacobians#extract}). */
    public static Result of(LinearMap a) {
        return of(Jacobians.extract(a));
    }

    /** The min(rows, cols) singular values of a matrix, descending. */
    public static double[] values(DMatrixRMaj a) {
        check(a);
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(a.numRows, a.numCols, false, false, true);
        DMatrixRMaj in = svd.inputModified() ? a.copy() : a;
        if (!svd.decompose(in)) throw new IllegalStateException("SVD failed for a " + a.numRows + "x" + a.numCols + " matrix");
        double[] s = svd.getSingularValues();
        int r = Math.min(a.numRows, a.numCols);
        double[] out = java.util.Arrays.copyOf(s, r);
        java.util.Arrays.sort(out);
        for (int i = 0; i < r / 2; i++) {
            double t = out[i];
            out[i] = out[r - 1 - i];
            out[r - 1 - i] = t;
        }
        return out;
    }

    private static void check(DMatrixRMaj a) {
        if (a.numRows < 1 || a.numCols < 1) throw new IllegalArgumentException("SVD of an empty " + a.numRows + "x" + a.numCols + " matrix");
        for (double x : a.data) {
            if (!Double.isFinite(x)) throw new IllegalArgumentException("SVD input has a non-finite entry (" + x + ")");
        }
    }
}
