package dev.opnorm.robust.certify;

import dev.opnorm.linalg.ExactNorms;
import dev.opnorm.linalg.Svd;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NormBoundsTest {
    static final double INF = Double.POSITIVE_INFINITY;
    static final double[] PS = {1, 2, INF};

    static NormBounds.Dense gaussian(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] a = new double[rows * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextGaussian();
        }
        return new NormBounds.Dense(rows, cols, a);
    }

    /** Every cell: lower <= exact <= upper, and the exact cells (all but (inf,2) with many columns) tight. */
    @Test
    void bracketsHoldTheExactNormOnRandomMatrices() {
        int[][] shapes = {{3, 5}, {7, 4}, {10, 12}, {4, 18}};
        for (int s = 0; s < shapes.length; s++) {
            NormBounds.Dense a = gaussian(shapes[s][0], shapes[s][1], 10 + s);
            DMatrixRMaj m = new DMatrixRMaj(a.rows(), a.cols(), true, a.a());
            for (double p : PS) {
                for (double q : PS) {
                    Optional<ExactNorms.Exact> exact = ExactNorms.of(m, p, q);
                    double up = NormBounds.upper(a, p, q).value(), lo = NormBounds.lower(a, p, q, null).value();
                    String what = a.rows() + "x" + a.cols() + " (" + p + "," + q + ")";
                    assertTrue(lo <= up, what);
                    if (exact.isPresent()) {
                        double e = exact.get().value();
                        assertTrue(lo <= e * (1 + 1e-12) && e <= up * (1 + 1e-12), what + ": " + lo + " <= " + e + " <= " + up);
                        boolean tight = !(p == INF && q == 2 && a.cols() > NormBounds.MAX_SIGNS);
                        if (tight) {
                            assertEquals(e, up, 1e-12 * e, what + " upper");
                            assertEquals(e, lo, 1e-12 * e, what + " lower");
                        }
                    }
                }
            }
        }
    }

    /** sigma_max is proved by congruence (not a fallback), to 1e-12, on wide and tall matrices. */
    @Test
    void spectralUpperIsTightAndAboveTheSvd() {
        for (int[] s : new int[][]{{10, 300}, {50, 6}, {1, 9}}) {
            NormBounds.Dense a = gaussian(s[0], s[1], s[0] * 31L + s[1]);
            double sigma = Svd.values(new DMatrixRMaj(a.rows(), a.cols(), true, a.a()))[0];
            NormBounds.Bound b = NormBounds.spectralUp(a);
            assertTrue(b.value() >= sigma, b + " vs " + sigma);
            assertEquals(sigma, b.value(), 1e-12 * sigma, b.method());
            // one row: the Frobenius norm is sigma_max itself and wins
            assertTrue(s[0] == 1 || b.method().contains("congruence"), s[0] + "x" + s[1] + ": " + b.method());
        }
    }

    /**
     * Gram iteration never falls below sigma_max (EJML SVD) and closes in on it: after 3 squarings within
     * the factor d^(1/16) it guarantees, after 40 to 1e-9; entries spread over 2^-600..2^600 (the rescaling)
     * and a repeated top singular value included.
     */
    @Test
    void gramIterationIsAboveTheSvdAndConverges() {
        SplittableRandom rnd = new SplittableRandom(17);
        for (int trial = 0; trial < 12; trial++) {
            int rows = 1 + rnd.nextInt(12), cols = 1 + rnd.nextInt(40);
            NormBounds.Dense a = gaussian(rows, cols, 1000 + trial);
            double[] v = a.a().clone();
            double scale = Math.scalb(1.0, trial % 3 == 0 ? 600 : trial % 3 == 1 ? -600 : 0);
            for (int t = 0; t < v.length; t++) {
                v[t] *= scale;
            }
            a = new NormBounds.Dense(rows, cols, v);
            double sigma = Svd.values(new DMatrixRMaj(rows, cols, true, v))[0];
            int d = Math.min(rows, cols);
            double few = NormBounds.gramUp(a, 3).value(), many = NormBounds.gramUp(a, 40).value();
            assertTrue(few >= sigma && many >= sigma, rows + "x" + cols + ": " + few + ", " + many + " vs " + sigma);
            assertTrue(few <= sigma * Math.pow(d, 1.0 / 16) * (1 + 1e-12), few + " vs " + sigma);
            assertEquals(sigma, many, 1e-9 * sigma, rows + "x" + cols);
        }
        NormBounds.Dense twice = new NormBounds.Dense(3, 3, new double[]{2, 0, 0, 0, -2, 0, 0, 0, 1});
        double g = NormBounds.gramUp(twice, 40).value();
        assertTrue(g >= 2 && g <= 2 * (1 + 1e-9), "repeated top value: " + g);
        assertEquals(0, NormBounds.gramUp(new NormBounds.Dense(2, 2, new double[4]), 5).value());
        // the (2,2) point upper bound goes through it, not through a decomposition
        NormBounds.Dense j = gaussian(10, 200, 3);
        NormBounds.Bound up = NormBounds.upper(j, 2, 2);
        assertTrue(up.method().startsWith("Gram iteration"), up.method());
        double s = Svd.values(new DMatrixRMaj(10, 200, true, j.a()))[0];
        assertTrue(up.value() >= s && up.value() <= s * (1 + 1e-9), up.value() + " vs " + s);
    }

    /** A rank-one matrix with a double top eigenvalue gap of zero elsewhere: the proof still closes. */
    @Test
    void spectralUpperOnRepeatedSingularValues() {
        NormBounds.Dense a = new NormBounds.Dense(3, 3, new double[]{2, 0, 0, 0, 2, 0, 0, 0, 1});
        assertEquals(2, NormBounds.spectralUp(a).value(), 1e-12);
    }

    /** The (inf,2) upper without enumeration is at least the enumerated exact value on the same matrix. */
    @Test
    void infTwoBoundWithoutEnumerationIsSound() {
        NormBounds.Dense a = gaussian(3, 20, 5); // 20 columns: past MAX_SIGNS, within ExactNorms' limit
        double up = NormBounds.upper(a, INF, 2).value();
        double exact = ExactNorms.byVertexEnumeration(new DMatrixRMaj(3, 20, true, a.a()), INF, 2);
        assertTrue(exact <= up, exact + " <= " + up);
        double lo = NormBounds.lower(a, INF, 2, null).value();
        assertTrue(lo <= exact * (1 + 1e-12), lo + " <= " + exact);
    }
}
