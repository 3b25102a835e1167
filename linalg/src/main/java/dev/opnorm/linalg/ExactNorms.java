package dev.opnorm.linalg;

import java.util.Optional;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * Exact ||A||_{p,q} where it can be computed: the closed forms of {@link ClosedForms}, and vertex
 * enumeration for the NP-hard cells on small matrices.
 *
 * <p>Vertex enumeration: v -> ||A v||_q is convex, so its maximum over the polytope
 * {||v||_inf &lt;= 1} is attained at a vertex, a sign vector s in {-1, +1}^n. Hence
 * ||A||_{inf,q} = max_s ||A s||_q, found by visiting the 2^(n-1) sign vectors with s_0 = +1 (s and -s
 * give the same value) in Gray-code order, one column update per step (double accumulation,
 * recomputed from scratch every 1024 steps). By duality ||A||_{p,1} = ||A^T||_{inf,p*}, so q = 1 is
 * enumerated over the 2^(d-1) sign vectors of the co-domain. This covers the NP-hard cells (2,1),
 * (inf,1), (inf,2) of Table 1 and more generally p = inf or q = 1, up to {@link #MAX_ENUMERATION_DIM}
 * dimensions (2^19 vertices).
 */
public final class ExactNorms {
    private ExactNorms() {}

    /** Largest dimension vertex enumeration accepts (2^(n-1) sign vectors). */
    public static final int MAX_ENUMERATION_DIM = 20;

    /** An exact value and how it was obtained (for reports). */
    public record Exact(double value, String method) {}

    /**
     * The exact ||A||_{p,q}: a closed form if there is one, else vertex enumeration if p = inf or q = 1
     * and the enumerated dimension is at most {@link #MAX_ENUMERATION_DIM}; empty otherwise.
     */
    public static Optional<Exact> of(DMatrixRMaj a, double p, double q) {
        if (ClosedForms.isClosedForm(p, q)) {
            return Optional.of(new Exact(ClosedForms.exact(a, p, q).getAsDouble(), "closed form: " + ClosedForms.describe(p, q)));
        }
        int dim = enumerationDim(a, p, q);
        if (dim < 0 || dim > MAX_ENUMERATION_DIM) return Optional.empty();
        return Optional.of(new Exact(byVertexEnumeration(a, p, q), "vertex enumeration over 2^" + (dim - 1) + " sign vectors"));
    }

    /**
     * Why {@link #of} returns empty for these arguments, or an empty string if it does not.
     */
    public static String whyUnknown(DMatrixRMaj a, double p, double q) {
        if (ClosedForms.isClosedForm(p, q)) return "";
        int dim = enumerationDim(a, p, q);
        if (dim < 0) return "no closed form or vertex formula for (p,q) = (" + Norms.format(p) + "," + Norms.format(q) + ")";
        if (dim > MAX_ENUMERATION_DIM) return "NP-hard cell; vertex enumeration needs 2^(n-1) sign vectors and n = " + dim + " > " + MAX_ENUMERATION_DIM;
        return "";
    }

    /**
     * ||A||_{p,q} by vertex enumeration; needs p = inf or q = 1 (enumerating the smaller of the two
     * possible dimensions when both hold).
     *
     * @throws IllegalArgumentException if neither p = inf nor q = 1, or the enumerated dimension
     *                                  exceeds {@link #MAX_ENUMERATION_DIM}
     */
    public static double byVertexEnumeration(DMatrixRMaj a, double p, double q) {
        Norms.checkP(p, "p");
        Norms.checkP(q, "q");
        if (a.numRows < 1 || a.numCols < 1) throw new IllegalArgumentException("empty " + a.numRows + "x" + a.numCols + " matrix");
        int dim = enumerationDim(a, p, q);
        if (dim < 0) {
            throw new IllegalArgumentException("vertex enumeration needs p = inf or q = 1, got (p,q) = (" + Norms.format(p) + "," + Norms.format(q) + ")");
        }
        if (dim > MAX_ENUMERATION_DIM) {
            throw new IllegalArgumentException("vertex enumeration refused: it visits 2^(n-1) sign vectors and n = " + dim
                    + " exceeds the limit " + MAX_ENUMERATION_DIM + " (matrix " + a.numRows + "x" + a.numCols + ")");
        }
        boolean primal = p == Double.POSITIVE_INFINITY && (q != 1 || a.numCols <= a.numRows);
        if (primal) return maxOverSigns(a, q);
        DMatrixRMaj t = CommonOps_DDRM.transpose(a, null);
        return maxOverSigns(t, Norms.conjugate(p));
    }

    /** Dimension vertex enumeration would run over, or -1 if it does not apply. */
    private static int enumerationDim(DMatrixRMaj a, double p, double q) {
        boolean pInf = p == Double.POSITIVE_INFINITY, q1 = q == 1;
        if (pInf && q1) return Math.min(a.numCols, a.numRows);
        if (pInf) return a.numCols;
        if (q1) return a.numRows;
        return -1;
    }

    /** max over s in {-1,+1}^n of ||A s||_q. */
    private static double maxOverSigns(DMatrixRMaj a, double q) {
        int m = a.numRows, n = a.numCols;
        double[] s = new double[n], y = new double[m];
        java.util.Arrays.fill(s, 1);
        multiply(a, s, y);
        double best = Norms.lp(y, q);
        long count = 1L << (n - 1);
        for (long g = 1; g < count; g++) {
            int j = 1 + Long.numberOfTrailingZeros(g); // coordinate 0 stays +1
            s[j] = -s[j];
            if ((g & 1023) == 0) {
                multiply(a, s, y);
            } else {
                double d = 2 * s[j];
                for (int i = 0; i < m; i++) y[i] += d * a.data[i * n + j];
            }
            best = Math.max(best, Norms.lp(y, q));
        }
        return best;
    }

    private static void multiply(DMatrixRMaj a, double[] s, double[] y) {
        int m = a.numRows, n = a.numCols;
        for (int i = 0; i < m; i++) {
            double acc = 0;
            for (int j = 0; j < n; j++) acc += a.data[i * n + j] * s[j];
            y[i] = acc;
        }
    }
}
