package dev.opnorm.linalg;

import java.util.OptionalDouble;
import org.ejml.data.DMatrixRMaj;

/**
 * Closed forms of ||A||_{p,q} = max_{||v||_p = 1} ||A v||_q (Table 1 of the paper), in double.
 *
 * <pre>
 *   p = 1,  any q:   max_j ||A[:, j]||_q     (the l1 ball's vertices are +-e_j)   Table 1 row 1
 *   any p,  q = inf: max_i ||A[i, :]||_{p*}  (Holder, row by row)                 Table 1 column inf
 *   p = q = 2:       sigma_max(A)            (SVD through EJML)
 * </pre>
 *
 * These cover the six tractable cells of Table 1 ((1,1), (1,2), (1,inf), (2,2), (2,inf), (inf,inf))
 * and their extensions to general q (row 1) and general p (column inf). The remaining cells of Table 1
 * ((2,1), (inf,1), (inf,2)) are NP-hard; {@link ExactNorms} solves them on small matrices by vertex
 * enumeration.
 */
public final class ClosedForms {
    private ClosedForms() {}

    /** Whether a closed form is known for (p, q). */
    public static boolean isClosedForm(double p, double q) {
        Norms.checkP(p, "p");
        Norms.checkP(q, "q");
        return p == 1 || q == Double.POSITIVE_INFINITY || (p == 2 && q == 2);
    }

    /** A short description of the closed form for (p, q), e.g. "max column l2"; empty string if none. */
    public static String describe(double p, double q) {
        if (!isClosedForm(p, q)) return "";
        if (p == 2 && q == 2) return "sigma_max (SVD)";
        if (p == 1) return "max column l" + Norms.format(q);
        return "max row l" + Norms.format(Norms.conjugate(p));
    }

    /**
     * The exact ||A||_{p,q} where a closed form is known, else empty.
     *
     * @throws IllegalArgumentException if p or q &lt; 1, or the matrix is empty
     */
    public static OptionalDouble exact(DMatrixRMaj a, double p, double q) {
        if (!isClosedForm(p, q)) return OptionalDouble.empty();
        if (a.numRows < 1 || a.numCols < 1) throw new IllegalArgumentException("empty " + a.numRows + "x" + a.numCols + " matrix");
        if (p == 1) return OptionalDouble.of(maxColumnNorm(a, q));
        if (q == Double.POSITIVE_INFINITY) return OptionalDouble.of(maxRowNorm(a, Norms.conjugate(p)));
        return OptionalDouble.of(Svd.values(a)[0]);
    }

    /** max_j ||A[:, j]||_q. */
    public static double maxColumnNorm(DMatrixRMaj a, double q) {
        double[] col = new double[a.numRows];
        double best = 0;
        for (int j = 0; j < a.numCols; j++) {
            for (int i = 0; i < a.numRows; i++) col[i] = a.get(i, j);
            best = Math.max(best, Norms.lp(col, q));
        }
        return best;
    }

    /** max_i ||A[i, :]||_r. */
    public static double maxRowNorm(DMatrixRMaj a, double r) {
        double[] row = new double[a.numCols];
        double best = 0;
        for (int i = 0; i < a.numRows; i++) {
            System.arraycopy(a.data, i * a.numCols, row, 0, a.numCols);
            best = Math.max(best, Norms.lp(row, r));
        }
        return best;
    }
}
