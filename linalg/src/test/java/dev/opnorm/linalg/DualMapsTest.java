package dev.opnorm.linalg;

import static dev.opnorm.linalg.Fixtures.INF;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DualMapsTest {
    private static final double[] EXPONENTS = {1, 1.3, 2, 3, 7, INF};

    @Test
    void steepestAscent_attainsDualNorm_andHasUnitNorm() {
        for (long seed = 0; seed < 40; seed++) {
            float[] z = Fixtures.gaussianVector(1 + (int) (seed % 13), seed);
            for (double p : EXPONENTS) {
                float[] v = new float[z.length];
                DualMaps.steepestAscent(z, p, v);
                double dual = Norms.lp(z, Norms.conjugate(p));
                assertEquals(dual, Norms.dot(v, z), Tolerances.F32 * dual, "<N_p(z), z> p=" + p);
                assertEquals(1, Norms.lp(v, p), Tolerances.F32, "||N_p(z)||_p p=" + p);
            }
        }
    }

    @Test
    void dual_isGradientOfNorm_forGeneralQ() {
        float[] a = {0.5f, -1.25f, 2f, 0.75f};
        double q = 3, h = 1e-6;
        float[] d = new float[a.length];
        DualMaps.dual(a, q, d);
        for (int i = 0; i < a.length; i++) {
            double[] plus = new double[a.length], minus = new double[a.length];
            for (int j = 0; j < a.length; j++) { plus[j] = a[j]; minus[j] = a[j]; }
            plus[i] += h;
            minus[i] -= h;
            double fd = (Norms.lp(plus, q) - Norms.lp(minus, q)) / (2 * h);
            assertEquals(fd, d[i], 1e-6, "component " + i);
        }
    }

    @Test
    void dual_sharesMassEqually_whenMaxIsTied() {
        float[] a = {2, -2, 1, 2};
        float[] d = new float[4];
        DualMaps.dual(a, INF, d);
        assertArrayEquals(new float[] {1f / 3, -1f / 3, 0, 1f / 3}, d, 1e-7f);
        // N_1 is D_inf: one-hot with shared ties
        float[] v = new float[4];
        DualMaps.steepestAscent(a, 1, v);
        assertArrayEquals(d, v, 0f);
        assertEquals(1, Norms.lp(v, 1), 1e-7);
    }

    @Test
    void dual_mapsZeroToZero_withoutNaN() {
        for (double q : EXPONENTS) {
            float[] z = new float[5], out = new float[5];
            java.util.Arrays.fill(out, 7f);
            DualMaps.dual(z, q, out);
            assertArrayEquals(new float[5], out, 0f, "q=" + q);
        }
    }

    @Test
    void dual_specialCases_matchClosedForms() {
        float[] a = {3, -4, 0};
        float[] d = new float[3];
        DualMaps.dual(a, 2, d);
        assertArrayEquals(new float[] {0.6f, -0.8f, 0}, d, 1e-7f);
        DualMaps.dual(a, 1, d);
        assertArrayEquals(new float[] {1, -1, 0}, d, 0f);
        DualMaps.steepestAscent(a, INF, d); // sign(z)
        assertArrayEquals(new float[] {1, -1, 0}, d, 0f);
    }

    @Test
    void dual_mayAliasItsInput() {
        float[] a = {1, -2, 3, 0.5f};
        float[] expected = new float[4];
        DualMaps.dual(a, 3, expected);
        DualMaps.dual(a, 3, a);
        assertArrayEquals(expected, a, 0f);
    }

    @Test
    void dual_ofSlice_leavesRestUntouched() {
        float[] a = {9, 3, -4, 9};
        float[] out = {5, 5, 5, 5};
        DualMaps.dual(a, 1, 2, 2, out, 1);
        assertArrayEquals(new float[] {5, 0.6f, -0.8f, 5}, out, 1e-7f);
    }
}
