package dev.opnorm.experiments.report;

import dev.opnorm.nn.util.Rng;

import java.util.Arrays;

/**
 * Percentile bootstrap intervals for statistics of per-image measurements that share their images: several
 * quantities (e.g. the 0/1 correctness of two networks under the same attack) measured on the same n test
 * images. Each resample draws n image indices with replacement and uses the same draw for every quantity, so
 * the comparison keeps its pairing (two networks that fail on the same hard images differ less than two
 * independent samples would). With several training seeds, the seeds are the outer resampling unit: a resample
 * draws seeds with replacement and, for each drawn seed, its own image draw; the quantities' means are averaged
 * over the drawn seeds before the statistic is applied.
 *
 * <p>Deterministic: the draws come from {@link Rng} with the given seed, in a fixed order, so the same data
 * give the same interval on every machine.
 */
public final class Bootstrap {
    /** Resamples of the report's intervals. */
    public static final int RESAMPLES = 2000;
    /** The seed of the report's resampling (fixed, so a report is reproducible). */
    public static final long SEED = 20201206L;

    /** A statistic of the quantities' means (e.g. a difference or ratio of two accuracies). */
    @FunctionalInterface
    public interface Statistic {
        double of(double[] means);
    }

    private Bootstrap() {
    }

    /**
     * The statistic of {@code data[quantity][image]} (one seed) and its 95 % percentile interval.
     *
     * @see #paired(double[][][], Statistic, int, long)
     */
    public static Estimate paired(double[][] data, Statistic stat, int resamples, long seed) {
        return paired(new double[][][]{data}, stat, resamples, seed);
    }

    /**
     * The statistic of {@code data[seed][quantity][image]} and its 95 % percentile interval: the point estimate
     * applies the statistic to the quantities' means over all images, averaged over the seeds; the interval is
     * the 2.5 % and 97.5 % quantiles (linear interpolation between order statistics) of the statistic over
     * {@code resamples} resamples. A resample whose statistic is NaN makes the interval NaN (undecided).
     *
     * @throws IllegalArgumentException for no seeds, quantities or images, quantities of different lengths, a
     *                                  non-finite value (named by seed, quantity and image), or resamples &lt; 2
     */
    public static Estimate paired(double[][][] data, Statistic stat, int resamples, long seed) {
        check(data, resamples);
        int seeds = data.length, q = data[0].length, n = data[0][0].length;
        double[] means = new double[q];
        for (double[][] s : data) {
            for (int k = 0; k < q; k++) {
                double sum = 0;
                for (double v : s[k]) {
                    sum += v;
                }
                means[k] += sum / n / seeds;
            }
        }
        double value = stat.of(means.clone());
        Rng rng = new Rng(seed);
        double[] stats = new double[resamples];
        int[] draw = new int[n];
        double[] m = new double[q];
        for (int b = 0; b < resamples; b++) {
            Arrays.fill(m, 0);
            for (int s = 0; s < seeds; s++) {
                double[][] d = data[seeds == 1 ? 0 : index(rng, seeds)];
                for (int i = 0; i < n; i++) {
                    draw[i] = index(rng, n);
                }
                for (int k = 0; k < q; k++) {
                    double[] v = d[k];
                    double sum = 0;
                    for (int i : draw) {
                        sum += v[i];
                    }
                    m[k] += sum / n / seeds;
                }
            }
            stats[b] = stat.of(m.clone());
        }
        String how = "paired bootstrap over " + n + " test images" + (seeds > 1 ? " within " + seeds
                + " resampled seeds" : "") + ", " + resamples + " resamples";
        for (double s : stats) {
            if (Double.isNaN(s)) {
                return new Estimate(value, Double.NaN, Double.NaN, how + " (a resample had no defined value)");
            }
        }
        Arrays.sort(stats);
        return new Estimate(value, quantile(stats, 0.025), quantile(stats, 0.975), how);
    }

    /** Quantile of sorted values, linear between order statistics (R's type 7). */
    static double quantile(double[] sorted, double p) {
        double h = (sorted.length - 1) * p;
        int lo = (int) Math.floor(h);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    private static int index(Rng rng, int n) {
        return rng.nextInt(n);
    }

    private static void check(double[][][] data, int resamples) {
        if (resamples < 2) {
            throw new IllegalArgumentException("bootstrap needs at least 2 resamples, got " + resamples);
        }
        if (data == null || data.length == 0 || data[0] == null || data[0].length == 0 || data[0][0] == null
                || data[0][0].length == 0) {
            throw new IllegalArgumentException("bootstrap of no data: need at least one seed, quantity and image");
        }
        int q = data[0].length, n = data[0][0].length;
        for (int s = 0; s < data.length; s++) {
            if (data[s] == null || data[s].length != q) {
                throw new IllegalArgumentException("bootstrap: seed " + s + " has " + (data[s] == null ? 0
                        : data[s].length) + " quantities, seed 0 has " + q);
            }
            for (int k = 0; k < q; k++) {
                if (data[s][k] == null || data[s][k].length != n) {
                    throw new IllegalArgumentException("bootstrap: seed " + s + " quantity " + k + " has "
                            + (data[s][k] == null ? 0 : data[s][k].length) + " images, expected " + n
                            + " (paired quantities share their images)");
                }
                for (int i = 0; i < n; i++) {
                    if (!Double.isFinite(data[s][k][i])) {
                        throw new IllegalArgumentException("bootstrap: seed " + s + " quantity " + k + " image " + i
                                + " is " + data[s][k][i]);
                    }
                }
            }
        }
    }
}
