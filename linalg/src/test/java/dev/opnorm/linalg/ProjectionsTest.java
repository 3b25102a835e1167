package dev.opnorm.linalg;

import static dev.opnorm.linalg.Fixtures.INF;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ProjectionsTest {
    private static final double[] EXPONENTS = {1, 1.5, 2, 3, INF};

    private static double dist(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) { double d = (double) a[i] - b[i]; s += d * d; }
        return Math.sqrt(s);
    }

    /** A random point of the l_p ball of radius r: a random direction rescaled to a random radius. */
    private static float[] sampleBall(int n, double p, double r, SplittableRandom rnd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * (rnd.nextInt(4) == 0 ? 0 : 1));
        if (rnd.nextBoolean()) x[rnd.nextInt(n)] = (float) (10 * rnd.nextGaussian()); // spiky directions reach the vertices
        double norm = Norms.lp(x, p);
        if (norm == 0) return x;
        double t = rnd.nextBoolean() ? 1 : rnd.nextDouble();
        for (int i = 0; i < n; i++) x[i] = (float) (x[i] * r * t / norm * (1 - 1e-6));
        return x;
    }

    @Test
    void ontoBall_isFeasibleIdempotentAndNearest() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int trial = 0; trial < 30; trial++) {
            int n = 1 + rnd.nextInt(9);
            double r = 0.2 + 2 * rnd.nextDouble();
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (2 * rnd.nextGaussian());
            for (double p : EXPONENTS) {
                float[] x = new float[n], xx = new float[n];
                Projections.ontoBall(v, p, r, x);
                assertTrue(Norms.lp(x, p) <= r * (1 + Tolerances.GENERAL_P), "feasible p=" + p);
                Projections.ontoBall(x, p, r, xx);
                assertArrayEquals(x, xx, (float) (Tolerances.GENERAL_P * r), "idempotent p=" + p);
                double d = dist(v, x);
                for (int s = 0; s < 300; s++) {
                    float[] y = sampleBall(n, p, r, rnd);
                    assertTrue(dist(v, y) >= d - Tolerances.GENERAL_P * (1 + d),
                            "sample closer than the projection, p=" + p + " n=" + n);
                }
            }
        }
    }

    @Test
    void ontoBall_l1_matchesHandSolvedExample() {
        // v = (3, 1, -0.5), r = 2: threshold theta = 1 -> (2, 0, 0); r = 3: theta = 0.5 -> (2.5, 0.5, 0)
        float[] out = new float[3];
        Projections.ontoBall(new float[] {3, 1, -0.5f}, 1, 2, out);
        assertArrayEquals(new float[] {2, 0, 0}, out, 1e-6f);
        Projections.ontoBall(new float[] {3, 1, -0.5f}, 1, 3, out);
        assertArrayEquals(new float[] {2.5f, 0.5f, 0}, out, 1e-6f);
    }

    @Test
    void ontoBall_staysAccurate_whenRadiusIsTinyNextToHugeEntries() {
        float[] out = new float[1];
        Projections.ontoBall(new float[] {9.0072e15f}, 1, 1, out); // r below ulp(v) in double
        assertArrayEquals(new float[] {1}, out, 1e-6f);
        Projections.ontoBall(new float[] {3e38f}, 8.38, 2, out); // r^p underflows, mu would overflow unscaled
        assertArrayEquals(new float[] {2}, out, 1e-5f);
        Projections.ontoBall(new float[] {1509914f}, 8.83, 1, out);
        assertArrayEquals(new float[] {1}, out, 1e-5f);
        float[] two = new float[2];
        Projections.ontoBall(new float[] {-3e38f, 1}, 1, 1, two);
        assertArrayEquals(new float[] {-1, 0}, two, 1e-6f);
    }

    @Test
    void ontoBall_keepsInteriorPoints_andClipsForInf() {
        float[] v = {0.1f, -0.2f}, out = new float[2];
        for (double p : EXPONENTS) {
            Projections.ontoBall(v, p, 1, out);
            assertArrayEquals(v, out, 0f, "p=" + p);
        }
        Projections.ontoBall(new float[] {3, -0.5f, -7}, INF, 1, out = new float[3]);
        assertArrayEquals(new float[] {1, -0.5f, -1}, out, 0f);
    }

    @Test
    void ontoBall_aroundCenter_shiftsTheBall() {
        float[] x = {5, 0}, c = {1, 0}, out = new float[2];
        Projections.ontoBall(x, c, 2, 1.5, out);
        assertArrayEquals(new float[] {2.5f, 0}, out, 1e-6f);
    }

    @Test
    void ontoSphere_landsOnSphere_andIsNearestForOneTwoInf() {
        SplittableRandom rnd = new SplittableRandom(12);
        for (int trial = 0; trial < 30; trial++) {
            int n = 1 + rnd.nextInt(7);
            float[] v = new float[n];
            double scale = trial % 2 == 0 ? 0.1 : 3; // inside and outside the unit ball
            for (int i = 0; i < n; i++) v[i] = (float) (scale * rnd.nextGaussian());
            for (double p : EXPONENTS) {
                float[] x = new float[n];
                Projections.ontoSphere(v, p, 1, x);
                assertEquals(1, Norms.lp(x, p), Tolerances.GENERAL_P, "on sphere p=" + p);
                float[] xx = new float[n];
                Projections.ontoSphere(x, p, 1, xx);
                assertArrayEquals(x, xx, (float) Tolerances.GENERAL_P, "idempotent p=" + p);
                if (p != 1 && p != 2 && p != INF && Norms.lp(v, p) < 1) continue; // documented radial approximation
                double d = dist(v, x);
                for (int s = 0; s < 300; s++) {
                    float[] y = sampleBall(n, p, 1, rnd);
                    double ny = Norms.lp(y, p);
                    if (ny == 0) continue;
                    for (int i = 0; i < n; i++) y[i] = (float) (y[i] / ny); // onto the sphere
                    assertTrue(dist(v, y) >= d - 1e-5 * (1 + d), "sphere sample closer, p=" + p + " n=" + n);
                }
            }
        }
    }

    @Test
    void ontoSphere_ofZero_isAFixedFiniteSpherePoint() {
        for (double p : EXPONENTS) {
            float[] out = new float[4];
            Projections.ontoSphere(new float[4], p, 2, out);
            for (float x : out) assertTrue(Float.isFinite(x));
            assertEquals(2, Norms.lp(out, p), 1e-6, "p=" + p);
        }
    }

    @Test
    void projections_mayAliasTheirInput() {
        float[] v = {3, 1, -0.5f}, expected = new float[3];
        Projections.ontoBall(v, 1, 2, expected);
        Projections.ontoBall(v, 1, 2, v);
        assertArrayEquals(expected, v, 0f);
    }
}
