package dev.opnorm.linalg;

import static dev.opnorm.linalg.Fixtures.INF;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

class ExactNormsTest {
    private static final double[] EXPONENTS = {1, 1.5, 2, 3, INF};

    private static DMatrixRMaj small() {
        return new DMatrixRMaj(new double[][] {{1, -2}, {3, 4}});
    }

    @Test
    void table1_matchesHandComputedValues() {
        DMatrixRMaj a = small();
        double[][] want = { // rows p = 1, 2, inf; columns q = 1, 2, inf
                {6, Math.sqrt(20), 4},
                {Math.sqrt(40), Math.sqrt(15 + Math.sqrt(125)), 5},
                {8, Math.sqrt(50), 7}};
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double p = Fixtures.PS[i], q = Fixtures.PS[j];
                var exact = ExactNorms.of(a, p, q);
                assertTrue(exact.isPresent(), "(" + p + "," + q + ")");
                assertEquals(want[i][j], exact.get().value(), 1e-12, "(" + p + "," + q + ") " + exact.get().method());
            }
        }
    }

    @Test
    void closedForms_coverTheSixTractableCells_only() {
        int count = 0;
        for (double p : Fixtures.PS) {
            for (double q : Fixtures.PS) {
                boolean tractable = ClosedForms.exact(small(), p, q).isPresent();
                boolean npHard = (p == 2 && q == 1) || (p == INF && q != INF);
                assertEquals(!npHard, tractable, "(" + p + "," + q + ")");
                if (tractable) count++;
            }
        }
        assertEquals(6, count);
        assertTrue(ClosedForms.exact(small(), 1, 3).isPresent(), "row p = 1 holds for any q");
        assertTrue(ClosedForms.exact(small(), 3, INF).isPresent(), "column q = inf holds for any p");
        assertFalse(ClosedForms.exact(small(), 3, 3).isPresent());
    }

    /** Independent reference: every sign vector of the domain, multiplied out directly. */
    private static double naiveInfQ(DMatrixRMaj a, double q) {
        int n = a.numCols;
        double best = 0;
        for (int mask = 0; mask < (1 << n); mask++) {
            double[] y = new double[a.numRows];
            for (int i = 0; i < a.numRows; i++) {
                for (int j = 0; j < n; j++) y[i] += a.get(i, j) * (((mask >> j) & 1) == 1 ? -1 : 1);
            }
            best = Math.max(best, Norms.lp(y, q));
        }
        return best;
    }

    @Test
    void vertexEnumeration_matchesNaiveEnumeration_andDuality() {
        for (long seed = 0; seed < 25; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            int rows = 1 + r.nextInt(7), cols = 1 + r.nextInt(9);
            DMatrixRMaj a = Fixtures.gaussian(rows, cols, seed);
            DMatrixRMaj at = CommonOps_DDRM.transpose(a, null);
            for (double q : EXPONENTS) {
                double naive = naiveInfQ(a, q);
                assertEquals(naive, ExactNorms.byVertexEnumeration(a, INF, q), Tolerances.F64 * naive, "(inf," + q + ") seed " + seed);
                // duality ||A||_{p,1} = ||A^T||_{inf,p*}: the q = 1 path against the naive p = inf reference
                double p = Norms.conjugate(q);
                double dual = naiveInfQ(at, q);
                assertEquals(dual, ExactNorms.byVertexEnumeration(a, p, 1), Tolerances.F64 * dual, "(" + p + ",1) seed " + seed);
            }
        }
    }

    @Test
    void closedForms_matchVertexEnumeration_whereBothApply() {
        for (long seed = 0; seed < 25; seed++) {
            DMatrixRMaj a = Fixtures.gaussian(2 + (int) (seed % 5), 2 + (int) (seed % 7), 100 + seed);
            for (double q : EXPONENTS) { // p = inf, q = inf: max row l1; p = 1, q = 1: max column l1
                double closed = ClosedForms.exact(a, INF, INF).getAsDouble();
                assertEquals(closed, ExactNorms.byVertexEnumeration(a, INF, INF), Tolerances.F64 * closed);
                double c11 = ClosedForms.exact(a, 1, 1).getAsDouble();
                assertEquals(c11, ExactNorms.byVertexEnumeration(a, 1, 1), Tolerances.F64 * c11);
                // p = 1 row of Table 1 for q: by duality equals the column q = inf for A^T... checked by sampling below
                assertTrue(ClosedForms.exact(a, 1, q).isPresent());
            }
        }
    }

    @Test
    void exactValues_areNeverExceededBySampledFeasiblePoints_andAreApproached() {
        for (long seed = 0; seed < 10; seed++) {
            DMatrixRMaj a = Fixtures.gaussian(3 + (int) (seed % 3), 2 + (int) (seed % 4), 200 + seed);
            SplittableRandom r = new SplittableRandom(seed);
            for (double p : EXPONENTS) {
                for (double q : EXPONENTS) {
                    var exact = ExactNorms.of(a, p, q);
                    if (exact.isEmpty()) continue;
                    double e = exact.get().value(), best = 0;
                    for (int s = 0; s < 4000; s++) {
                        double[] v = new double[a.numCols];
                        for (int j = 0; j < v.length; j++) v[j] = r.nextGaussian();
                        if (s % 2 == 0) for (int j = 0; j < v.length; j++) v[j] = Math.signum(v[j]) * Math.pow(Math.abs(v[j]), 4); // spiky
                        if (s % 3 == 0) for (int j = 0; j < v.length; j++) v[j] = Math.signum(v[j]); // vertices
                        double[] av = new double[a.numRows];
                        for (int i = 0; i < av.length; i++) for (int j = 0; j < v.length; j++) av[i] += a.get(i, j) * v[j];
                        double ratio = Norms.lp(av, q) / Norms.lp(v, p);
                        assertTrue(ratio <= e * (1 + Tolerances.F64), "sample beats exact (" + p + "," + q + "): " + ratio + " > " + e);
                        best = Math.max(best, ratio);
                    }
                    assertTrue(best >= 0.8 * e, "samples far below the exact value (" + p + "," + q + "): " + best + " vs " + e);
                }
            }
        }
    }

    @Test
    void vertexEnumeration_refusesLargeDimensions_withAClearMessage() {
        DMatrixRMaj wide = Fixtures.gaussian(3, 21, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> ExactNorms.byVertexEnumeration(wide, INF, 2));
        assertTrue(e.getMessage().contains("21") && e.getMessage().contains("20"), e.getMessage());
        assertTrue(ExactNorms.of(wide, INF, 2).isEmpty());
        assertTrue(ExactNorms.whyUnknown(wide, INF, 2).contains("NP-hard"), ExactNorms.whyUnknown(wide, INF, 2));
        assertTrue(ExactNorms.of(wide, INF, INF).isPresent(), "closed forms need no enumeration");
        assertThrows(IllegalArgumentException.class, () -> ExactNorms.byVertexEnumeration(wide, 2, 2));
        // 20 is accepted (2^19 sign vectors)
        assertTrue(ExactNorms.byVertexEnumeration(Fixtures.gaussian(2, 20, 2), INF, 2) > 0);
    }
}
