package dev.opnorm.gpu;

/**
 * Java twin of the work-group tree reduction (TREE_REDUCE in common.cl and the two-buffer loops of
 * batchnorm.cl): work-item t first sums elements t, t + wg, t + 2 wg, ... in order (done by the
 * callers), then pairs (t, t + s) are added for s = wg/2, ..., 1. Used by tests, never for speed.
 */
public final class Reductions {
    private Reductions() {
    }

    /** Reduces buf[0, wg) in place as the kernel does; returns buf[0]. wg is a power of two. */
    public static float tree(float[] buf, int wg) {
        for (int s = wg / 2; s > 0; s >>= 1) {
            for (int t = 0; t < s; t++) {
                buf[t] += buf[t + s];
            }
        }
        return buf[0];
    }

    /** The double-precision variant (batchnorm.cl). */
    public static double tree(double[] buf, int wg) {
        for (int s = wg / 2; s > 0; s >>= 1) {
            for (int t = 0; t < s; t++) {
                buf[t] += buf[t + s];
            }
        }
        return buf[0];
    }

    /**
     * The row sum of the kernels' work-group reductions: work-item t sums term(t), term(t + wg), ... in order,
     * then {@link #tree}. wg is a power of two.
     */
    public static double rowSum(int n, int wg, java.util.function.IntToDoubleFunction term) {
        double[] buf = new double[wg];
        for (int t = 0; t < wg; t++) {
            double s = 0;
            for (int i = t; i < n; i += wg) {
                s += term.applyAsDouble(i);
            }
            buf[t] = s;
        }
        return tree(buf, wg);
    }

    /** L1_BISECTIONS of common.cl. */
    public static final int L1_BISECTIONS = 64;

    /**
     * Twin of L1_BALL_THRESHOLD (common.cl): the l1-ball projection's threshold for a row with |y_i| = abs(i),
     * i in [0, n), ||y||_1 >= radius, and hi0 = max_i |y_i|.
     */
    public static double l1BallThreshold(int n, int wg, java.util.function.IntToDoubleFunction abs, double radius,
                                         double hi0) {
        double lo = 0.0, hi = hi0;
        for (int it = 0; it < L1_BISECTIONS; it++) {
            double mid = 0.5 * (lo + hi);
            boolean above = rowSum(n, wg, i -> fmax(abs.applyAsDouble(i) - mid, 0.0)) > radius;
            lo = above ? mid : lo;
            hi = above ? hi : mid;
        }
        double support = lo;
        double sa = rowSum(n, wg, i -> {
            double a = abs.applyAsDouble(i);
            return a > support ? a : 0.0;
        });
        double cnt = rowSum(n, wg, i -> abs.applyAsDouble(i) > support ? 1.0 : 0.0);
        return (sa - radius) / cnt;
    }

    /** OpenCL's fmax: a NaN argument loses. */
    static double fmax(double a, double b) {
        return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.max(a, b);
    }
}
