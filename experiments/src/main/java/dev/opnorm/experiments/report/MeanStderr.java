package dev.opnorm.experiments.report;

/**
 * The mean of n samples and its standard error s / sqrt(n), s the sample standard deviation (divisor
 * n - 1): how the paper reports every curve ("means with standard errors over test points"). Sums in
 * double, two passes (mean first, then squared deviations), in sample order, so the result does not
 * depend on anything but the samples.
 *
 * @param mean   the sample mean
 * @param stderr the standard error of the mean; NaN for a single sample (undefined)
 * @param n      the number of samples
 */
public record MeanStderr(double mean, double stderr, int n) {
    public MeanStderr {
        if (n < 1) {
            throw new IllegalArgumentException("mean of " + n + " samples: need at least one");
        }
    }

    /**
     * Mean and standard error of {@code samples}.
     *
     * @throws IllegalArgumentException for no samples or a non-finite sample (named by index)
     */
    public static MeanStderr of(double[] samples) {
        if (samples == null || samples.length == 0) {
            throw new IllegalArgumentException("mean of no samples");
        }
        double sum = 0;
        for (int i = 0; i < samples.length; i++) {
            if (!Double.isFinite(samples[i])) {
                throw new IllegalArgumentException("sample " + i + " is " + samples[i]);
            }
            sum += samples[i];
        }
        int n = samples.length;
        double mean = sum / n;
        if (n == 1) {
            return new MeanStderr(mean, Double.NaN, 1);
        }
        double ss = 0;
        for (double v : samples) {
            ss += (v - mean) * (v - mean);
        }
        return new MeanStderr(mean, Math.sqrt(ss / (n - 1) / n), n);
    }

    /**
     * A proportion k/n (e.g. an accuracy) as the mean of n 0/1 samples: stderr = sqrt(p (1 - p) / (n - 1)),
     * the same number {@link #of} gives for the 0/1 vector.
     *
     * @throws IllegalArgumentException unless 0 &lt;= k &lt;= n and n &gt;= 1
     */
    public static MeanStderr proportion(int k, int n) {
        if (n < 1 || k < 0 || k > n) {
            throw new IllegalArgumentException("proportion " + k + "/" + n + ": need 0 <= k <= n, n >= 1");
        }
        double p = k / (double) n;
        return new MeanStderr(p, n == 1 ? Double.NaN : Math.sqrt(p * (1 - p) / (n - 1)), n);
    }
}
