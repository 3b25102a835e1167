package dev.opnorm.robust.analysis;

/**
 * Mean and standard error of a per-test-point quantity, as the paper's figures show it: the standard error is
 * the sample standard deviation (n - 1 denominator) over sqrt(n); NaN for a single point. Computed in double
 * with a two-pass formula (no cancellation for large means).
 *
 * @param mean   the mean over points
 * @param stderr the standard error of the mean (NaN when n = 1)
 * @param n      the number of points
 */
public record PointStats(double mean, double stderr, int n) {
    /**
     * Statistics of the values.
     *
     * @throws IllegalArgumentException for no values or a non-finite one
     */
    public static PointStats of(double[] values) {
        int n = values.length;
        if (n == 0) {
            throw new IllegalArgumentException("no values");
        }
        double sum = 0;
        for (double v : values) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("non-finite value " + v);
            }
            sum += v;
        }
        double mean = sum / n;
        if (n == 1) {
            return new PointStats(mean, Double.NaN, 1);
        }
        double ss = 0;
        for (double v : values) {
            ss += (v - mean) * (v - mean);
        }
        return new PointStats(mean, Math.sqrt(ss / (n - 1) / n), n);
    }

    /**
     * Column statistics of a per-point table [point][column] (e.g. a curve per point): one PointStats per
     * column, over the points.
     *
     * @throws IllegalArgumentException for no rows or rows of different lengths
     */
    public static PointStats[] columns(double[][] perPoint) {
        if (perPoint.length == 0) {
            throw new IllegalArgumentException("no points");
        }
        int cols = perPoint[0].length;
        PointStats[] out = new PointStats[cols];
        double[] col = new double[perPoint.length];
        for (int c = 0; c < cols; c++) {
            for (int i = 0; i < perPoint.length; i++) {
                if (perPoint[i].length != cols) {
                    throw new IllegalArgumentException("point " + i + " has " + perPoint[i].length + " values, point 0 has "
                            + cols);
                }
                col[i] = perPoint[i][c];
            }
            out[c] = of(col);
        }
        return out;
    }
}
