package dev.opnorm.experiments.report;

/**
 * A measured effect with its 95 % interval and how the interval was obtained (e.g. "Wilson", "paired bootstrap
 * over 1000 test images, 2000 resamples"). An interval bound that could not be computed is NaN.
 *
 * @param value  the point estimate
 * @param low    lower end of the 95 % interval
 * @param high   upper end of the 95 % interval
 * @param method how the interval was computed, in words
 */
public record Estimate(double value, double low, double high, String method) {
    /** z of a two-sided 95 % normal interval. */
    public static final double Z95 = 1.959963984540054;

    public Estimate {
        if (low > high) {
            throw new IllegalArgumentException("interval [" + low + ", " + high + "] of " + value + " is reversed");
        }
        method = method == null ? "" : method;
    }

    /**
     * The Wilson score interval (95 %) of a proportion k / n: unlike the normal interval it stays inside [0, 1]
     * and keeps its coverage near 0 and 1, where the accuracies and fooled fractions of the claims sit.
     *
     * @throws IllegalArgumentException unless 0 &lt;= k &lt;= n and n &gt;= 1
     */
    public static Estimate wilson(int k, int n) {
        if (n < 1 || k < 0 || k > n) {
            throw new IllegalArgumentException("Wilson interval of " + k + "/" + n + ": need 0 <= k <= n, n >= 1");
        }
        double p = k / (double) n, z2 = Z95 * Z95;
        double denominator = 1 + z2 / n;
        double center = (p + z2 / (2.0 * n)) / denominator;
        double half = Z95 / denominator * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return new Estimate(p, Math.max(0, center - half), Math.min(1, center + half),
                "Wilson score interval, " + k + " of " + n);
    }

    /** Whether both ends are numbers. */
    public boolean finite() {
        return Double.isFinite(low) && Double.isFinite(high) && Double.isFinite(value);
    }
}
