package dev.opnorm.experiments.report;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BootstrapTest {
    /** Two 0/1 columns that agree on most images: correctness of two networks on shared hard images. */
    private static double[][] correlated(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] d = new double[2][n];
        for (int i = 0; i < n; i++) {
            boolean easy = r.nextDouble() < 0.6;
            d[0][i] = easy ? 1 : 0;
            d[1][i] = easy || r.nextDouble() < 0.1 ? 1 : 0; // the second is right wherever the first is
        }
        return d;
    }

    @Test
    void sameSeed_sameInterval_otherSeed_otherInterval() {
        double[][] d = correlated(400, 1);
        Bootstrap.Statistic diff = m -> m[1] - m[0];
        Estimate a = Bootstrap.paired(d, diff, 2000, 42), b = Bootstrap.paired(d, diff, 2000, 42);
        assertEquals(a, b);
        Estimate c = Bootstrap.paired(d, diff, 2000, 43);
        assertEquals(a.value(), c.value(), 0.0, "the point estimate does not depend on the resampling");
        // continuous data, so that another draw shows in the interval's ends
        SplittableRandom r = new SplittableRandom(3);
        double[][] g = new double[2][300];
        for (int i = 0; i < 300; i++) {
            g[0][i] = r.nextDouble();
            g[1][i] = g[0][i] + r.nextDouble();
        }
        Estimate x = Bootstrap.paired(g, diff, 2000, 42), y = Bootstrap.paired(g, diff, 2000, 43);
        assertEquals(x, Bootstrap.paired(g, diff, 2000, 42));
        assertNotEquals(x.low(), y.low());
    }

    @Test
    void pointEstimate_isTheStatisticOfTheMeans_andTheIntervalContainsIt() {
        double[][] d = correlated(400, 2);
        double m0 = 0, m1 = 0;
        for (int i = 0; i < 400; i++) {
            m0 += d[0][i] / 400;
            m1 += d[1][i] / 400;
        }
        Estimate e = Bootstrap.paired(d, m -> m[1] - m[0], 2000, 7);
        assertEquals(m1 - m0, e.value(), 1e-12);
        assertTrue(e.low() < e.value() && e.value() < e.high(), e.toString());
        assertTrue(e.low() >= 0, "the second column is never below the first on an image: " + e);
    }

    @Test
    void pairing_narrowsTheIntervalOfADifference_comparedWithIndependentResampling() {
        double[][] d = correlated(1000, 3);
        Estimate paired = Bootstrap.paired(d, m -> m[1] - m[0], 2000, 5);
        // the same data resampled independently per column: a separate draw for each (two seeds)
        Estimate first = Bootstrap.paired(new double[][]{d[0]}, m -> m[0], 2000, 11);
        Estimate second = Bootstrap.paired(new double[][]{d[1]}, m -> m[0], 2000, 12);
        double pairedWidth = paired.high() - paired.low();
        double independentWidth = Math.hypot(first.high() - first.low(), second.high() - second.low());
        assertTrue(pairedWidth < 0.5 * independentWidth, pairedWidth + " vs " + independentWidth);
        // and it matches the normal approximation of the paired differences: sd(d) / sqrt(n) * 2 * 1.96
        double mean = paired.value(), ss = 0;
        for (int i = 0; i < 1000; i++) {
            double x = d[1][i] - d[0][i];
            ss += (x - mean) * (x - mean);
        }
        double normalWidth = 2 * 1.96 * Math.sqrt(ss / 999 / 1000);
        assertEquals(normalWidth, pairedWidth, 0.25 * normalWidth);
    }

    @Test
    void seeds_areTheOuterUnit_spreadBetweenSeedsWidensTheInterval() {
        double[][] base = correlated(500, 4);
        double[][] shifted = {base[0], base[1].clone()};
        for (int i = 0; i < 500; i += 5) {
            shifted[1][i] = 0; // this seed's second network loses a fifth of its images
        }
        Estimate one = Bootstrap.paired(new double[][][]{base, base, base}, m -> m[1] - m[0], 2000, 9);
        Estimate spread = Bootstrap.paired(new double[][][]{base, shifted, base}, m -> m[1] - m[0], 2000, 9);
        assertTrue(spread.high() - spread.low() > 1.5 * (one.high() - one.low()), one + " vs " + spread);
        assertTrue(spread.method().contains("3 resampled seeds"), spread.method());
    }

    @Test
    void quantile_interpolatesLinearly() {
        double[] v = {0, 1, 2, 3, 4};
        assertEquals(1.0, Bootstrap.quantile(v, 0.25), 1e-15);
        assertEquals(0.1, Bootstrap.quantile(v, 0.025), 1e-15);
        assertEquals(3.9, Bootstrap.quantile(v, 0.975), 1e-15);
    }

    @Test
    void badInput_isNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> Bootstrap.paired(new double[][]{{1, 0}, {1}},
                m -> m[0], 100, 1));
        assertTrue(e.getMessage().contains("quantity 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Bootstrap.paired(new double[][]{{1, Double.NaN}},
                m -> m[0], 100, 1));
        assertTrue(e.getMessage().contains("image 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.paired(new double[][]{{1}}, m -> m[0], 1, 1));
    }

    @Test
    void aStatisticUndefinedOnSomeResample_givesNoInterval() {
        double[][] d = {{1, 0, 0, 0}};
        Estimate e = Bootstrap.paired(d, m -> 1 / m[0] > 1e300 ? Double.NaN : 1 / m[0], 2000, 3);
        assertTrue(Double.isNaN(e.low()) && Double.isNaN(e.high()), e.toString());
        assertEquals(4, e.value(), 1e-12);
    }
}
