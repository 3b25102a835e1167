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
}
