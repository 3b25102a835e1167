package dev.opnorm.robust.attack;

import dev.opnorm.linalg.Norms;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import dev.opnorm.nn.util.Rng;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BallSamplingTest {
    private static final int N = 4000;
    private static final int DIM = 6;
    private static final double EPS = 0.7;

    /** sup_r |F_emp(r) - r^DIM| over the sorted radii (already divided by eps). */
    private static double ksAgainstPowerLaw(double[] radii) {
        double[] r = radii.clone();
        Arrays.sort(r);
        double d = 0;
        for (int i = 0; i < r.length; i++) {
            double f = Math.pow(r[i], DIM);
            d = Math.max(d, Math.max(Math.abs((i + 1.0) / r.length - f), Math.abs((double) i / r.length - f)));
        }
        return d;
    }

    private static double[][] sample(double p, long seed) {
        Rng rng = new Rng(seed);
        double[][] pts = new double[N][DIM];
        float[] buf = new float[DIM];
        for (int s = 0; s < N; s++) {
            BallSampling.uniform(p, EPS, DIM, rng, buf, 0);
            for (int j = 0; j < DIM; j++) {
                pts[s][j] = buf[j];
            }
        }
        return pts;
    }

    // The volume of the l_p ball of radius r in R^n scales as r^n for every p, so the l_p norm of a uniform
    // point, divided by eps, has CDF r^n: one test of the radial law for all three samplers.
    @ParameterizedTest
    @ValueSource(doubles = {1, 2, Double.POSITIVE_INFINITY})
    void uniform_radiusFollowsPowerLaw_forEveryP(double p) {
        double[][] pts = sample(p, 11);
        double[] radii = new double[N];
        for (int s = 0; s < N; s++) {
            radii[s] = Norms.lp(pts[s], p) / EPS;
            assertTrue(radii[s] <= 1 + AttackTolerances.BALL, "sample " + s + " outside the ball: " + radii[s]);
        }
        double bound = AttackTolerances.KS_COEFFICIENT / Math.sqrt(N);
        double d = ksAgainstPowerLaw(radii);
        assertTrue(d < bound, "KS distance " + d + " >= " + bound + " for p = " + p);
    }

    @Test
    void ksCheck_rejectsANaiveRadius_soItCanFail() {
        // radius eps U instead of eps U^(1/n): a common mistake the check must catch
        SplittableRandom rng = new SplittableRandom(3);
        double[] radii = new double[N];
        for (int s = 0; s < N; s++) {
            radii[s] = rng.nextDouble();
        }
        assertTrue(ksAgainstPowerLaw(radii) > 10 * AttackTolerances.KS_COEFFICIENT / Math.sqrt(N));
    }

    // Symmetry: every coordinate's mean is ~0 and its sign is + half of the time; for l1 also the
    // coordinates share the budget equally (mean |y_j| the same for all j, = eps/(n+1) for the Dirichlet law).
    @ParameterizedTest
    @ValueSource(doubles = {1, 2, Double.POSITIVE_INFINITY})
    void uniform_marginalsAreSymmetric(double p) {
        double[][] pts = sample(p, 12);
        for (int j = 0; j < DIM; j++) {
            double mean = 0, pos = 0, abs = 0;
            for (double[] x : pts) {
                mean += x[j];
                pos += x[j] > 0 ? 1 : 0;
                abs += Math.abs(x[j]);
            }
            mean /= N;
            pos /= N;
            abs /= N;
            // standard errors: |x_j| <= eps, so the mean has s.e. <= eps/sqrt(N); 5 s.e. bounds
            assertEquals(0, mean, 5 * EPS / Math.sqrt(N), "mean of coordinate " + j);
            assertEquals(0.5, pos, 5 * 0.5 / Math.sqrt(N), "fraction positive of coordinate " + j);
            if (p == 1) {
                assertEquals(EPS / (DIM + 1), abs, 5 * EPS / Math.sqrt(N), "mean |y_" + j + "|");
            }
        }
    }

    @Test
    void uniform_sameSeed_sameSample() {
        float[] a = new float[9], b = new float[9];
        BallSampling.uniform(2, 1, 9, new Rng(5), a, 0);
        BallSampling.uniform(2, 1, 9, new Rng(5), b, 0);
        assertTrue(Arrays.equals(a, b));
    }

    @Test
    void uniform_badArguments_throw() {
        float[] out = new float[4];
        Rng r = new Rng(1);
        assertThrows(IllegalArgumentException.class, () -> BallSampling.uniform(3, 1, 4, r, out, 0));
        assertThrows(IllegalArgumentException.class, () -> BallSampling.uniform(2, 0, 4, r, out, 0));
        assertThrows(IllegalArgumentException.class, () -> BallSampling.uniform(2, 1, 5, r, out, 0));
    }
}
