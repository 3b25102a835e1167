package dev.opnorm.gpu;

/**
 * Java twins of norms.cl: one call = one work-group (the row kernels, for row r with reduction
 * work-group wg) or one work-item (the elementwise ones), the same formulas in the same order. Used by
 * tests, never for speed. OpenCL's double {@code pow} may differ from {@link Math#pow} by a few ulps, so
 * only the paths without pow (q = 1, 2, inf) match the kernels bit for bit.
 */
public final class NormTwins {
    private NormTwins() {
    }

    static float signum(float x) {
        return x > 0f ? 1f : x < 0f ? -1f : x;
    }

    static float maxNan(float a, float b) {
        return (Float.isNaN(a) || a > b) ? a : b;
    }

    /** ROW_MAX_ABS: per-work-item maxima, then the TREE_MAX pairs. */
    static float rowMaxAbs(float[] a, long base, int cols, int wg) {
        float[] buf = new float[wg];
        for (int t = 0; t < wg; t++) {
            float m = 0f;
            for (int i = t; i < cols; i += wg) {
                m = maxNan(Math.abs(a[(int) (base + i)]), m);
            }
            buf[t] = m;
        }
        for (int s = wg / 2; s > 0; s >>= 1) {
            for (int t = 0; t < s; t++) {
                buf[t] = maxNan(buf[t + s], buf[t]);
            }
        }
        return buf[0];
    }

    /** sum over the row of term(i) as the work-group sums it (strided partial sums, then the tree). */
    /** ROW_STATS's s: the sum of q's term (|a_i|, ties, a_i^2 or (|a_i|/m)^q) over the row. */
    static double rowTermSum(float[] a, long base, int cols, double q, float m, int wg) {
        return Reductions.rowSum(cols, wg, i -> {
            float x = a[(int) (base + i)];
            if (q == 1.0) {
                return Math.abs(x);
            } else if (q == Double.POSITIVE_INFINITY) {
                return Math.abs(x) == m ? 1.0 : 0.0;
            } else if (q == 2.0) {
                return (double) x * x;
            } else if (m != 0f) {
                return Math.pow(Math.abs(x) / (double) m, q);
            }
            return 0.0;
        });
    }

    /** row_norms for row r: out[outOff + r] = (float) ||a[r, .]||_q. */
    public static void rowNormsAt(int r, int wg, float[] out, int outOff, float[] a, int cols, double q) {
        long base = (long) r * cols;
        float m = rowMaxAbs(a, base, cols, wg);
        double s = rowTermSum(a, base, cols, q, m, wg);
        float n;
        if (q == 1.0) {
            n = (float) s;
        } else if (q == Double.POSITIVE_INFINITY || m == 0f || Float.isNaN(m)) {
            n = m;
        } else if (q == 2.0) {
            n = (float) Math.sqrt(s);
        } else {
            n = (float) (m * Math.pow(s, 1.0 / q));
        }
        out[outOff + r] = n;
    }

    /** dual_rows for row r: out[r, .] = D_q(a[r, .]); out may alias a. */
    public static void dualRowsAt(int r, int wg, float[] out, float[] a, int cols, double q) {
        long base = (long) r * cols;
        float m = rowMaxAbs(a, base, cols, wg);
        double s = rowTermSum(a, base, cols, q, m, wg);
        float share = (float) (1.0 / s);
        double n2 = Math.sqrt(s);
        double norm = m * Math.pow(s, 1.0 / q);
        for (int i = 0; i < cols; i++) {
            float x = a[(int) (base + i)];
            float y;
            if (q == 1.0) {
                y = signum(x);
            } else if (m == 0f) {
                y = 0f;
            } else if (q == Double.POSITIVE_INFINITY) {
                y = Math.abs(x) == m ? signum(x) * share : 0f;
            } else if (q == 2.0) {
                y = (float) (x / n2);
            } else {
                y = (float) (signum(x) * Math.pow(Math.abs(x) / norm, q - 1.0));
            }
            out[(int) (base + i)] = y;
        }
    }

    /** divide_rows for element e: y[e] = x[e] / n[nOff + row] where that norm is > 0. */
    public static void divideRowsAt(int e, float[] y, float[] x, float[] n, int nOff, int cols) {
        float d = n[nOff + e / cols];
        if (d > 0f) {
            y[e] = (float) ((double) x[e] / (double) d);
        }
    }

    public static void copyRowsWhereAt(int e, float[] dst, float[] src, int[] flags, int cols) {
        if (flags[e / cols] != 0) {
            dst[e] = src[e];
        }
    }

    public static void scaleDoubleAt(int i, float[] y, double alpha, float[] x) {
        y[i] = (float) (alpha * x[i]);
    }

    public static void qPowerGradAt(int i, float[] g, float[] d, double coef, double q) {
        float a = d[i];
        double mag = q == 2.0 ? (double) Math.abs(a) : Math.pow(Math.abs(a), q - 1.0);
        g[i] = (float) (coef * signum(a) * mag);
    }
}
