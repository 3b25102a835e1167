package dev.opnorm.gpu;

/**
 * Java twins of the sphere-step kernels of norms.cl ({@code sphere_step_l2 / _linf / _l1}): the
 * finite-alpha step of the (p,q) iteration, v_r = Proj_{||x||_p = 1}(v_r + alpha z_r). One call = one
 * work-group (row r, reduction work-group wg), the same formulas in the same order, so the kernels match
 * them bit for bit (no pow, no transcendental besides a correctly rounded double sqrt). Used by tests,
 * never for speed.
 */
public final class SphereTwins {
    private SphereTwins() {
    }

    static float zeroFill(double p, int cols) {
        return OpenClOps.zeroFill(p, cols);
    }

    /** The rows' steps for p = 1, 2 or inf, row after row (v overwritten). */
    public static void step(float[] v, float[] z, double alpha, int rows, int cols, double p, int wg) {
        for (int r = 0; r < rows; r++) {
            if (p == 2) {
                stepL2(r, wg, v, z, alpha, cols, zeroFill(2, cols));
            } else if (p == Double.POSITIVE_INFINITY) {
                stepLinf(r, wg, v, z, alpha, cols);
            } else if (p == 1) {
                stepL1(r, wg, v, z, alpha, cols, zeroFill(1, cols));
            } else {
                throw new IllegalArgumentException("sphere step: p must be 1, 2 or inf, got " + p);
            }
        }
    }

    private static float[] y(float[] v, float[] z, double alpha, long base, int cols) {
        float[] y = new float[cols];
        for (int i = 0; i < cols; i++) {
            y[i] = (float) ((double) v[(int) (base + i)] + alpha * (double) z[(int) (base + i)]);
        }
        return y;
    }

    /** sphere_step_l2 for row r. */
    public static void stepL2(int r, int wg, float[] v, float[] z, double alpha, int cols, float zeroFill) {
        long base = (long) r * cols;
        float[] y = y(v, z, alpha, base, cols);
        double md = NormTwins.rowMaxAbs(y, 0, cols, wg);
        double s = Reductions.rowSum(cols, wg, i -> {
            double q = y[i] / md;
            return q * q;
        });
        double scale = 1.0 / (md * Math.sqrt(s));
        for (int i = 0; i < cols; i++) {
            v[(int) (base + i)] = md == 0.0 ? zeroFill : (float) (y[i] * scale);
        }
    }

    /** sphere_step_linf for row r. */
    public static void stepLinf(int r, int wg, float[] v, float[] z, double alpha, int cols) {
        long base = (long) r * cols;
        float[] y = y(v, z, alpha, base, cols);
        float m = NormTwins.rowMaxAbs(y, 0, cols, wg);
        // the first index attaining the maximum (per work-item, then the minimum: the global first)
        int arg = cols;
        for (int i = 0; i < cols; i++) {
            if (Math.abs(y[i]) == m) {
                arg = i;
                break;
            }
        }
        for (int i = 0; i < cols; i++) {
            float o;
            if (m >= 1.0f) {
                o = Math.max(-1.0f, Math.min(1.0f, y[i]));
            } else {
                o = i == arg ? (y[i] < 0.0f ? -1.0f : 1.0f) : y[i];
            }
            v[(int) (base + i)] = o;
        }
    }

    /** sphere_step_l1 for row r. */
    public static void stepL1(int r, int wg, float[] v, float[] z, double alpha, int cols, float zeroFill) {
        long base = (long) r * cols;
        float[] y = y(v, z, alpha, base, cols);
        double s1 = Reductions.rowSum(cols, wg, i -> Math.abs((double) y[i]));
        double[] mbuf = new double[wg];
        for (int t = 0; t < wg; t++) {
            double mx = 0.0;
            for (int i = t; i < cols; i += wg) {
                mx = Reductions.fmax(mx, Math.abs((double) y[i]));
            }
            mbuf[t] = mx;
        }
        for (int s = wg / 2; s > 0; s >>= 1) {
            for (int t = 0; t < s; t++) {
                mbuf[t] = (Double.isNaN(mbuf[t + s]) || mbuf[t + s] > mbuf[t]) ? mbuf[t + s] : mbuf[t];
            }
        }
        double theta = Reductions.l1BallThreshold(cols, wg, i -> Math.abs((double) y[i]), 1.0, mbuf[0]);
        double fix = 1.0 / Reductions.rowSum(cols, wg, i -> Reductions.fmax(Math.abs((double) y[i]) - theta, 0.0));
        double delta = (1.0 - s1) / cols;
        for (int i = 0; i < cols; i++) {
            float o;
            if (s1 == 0.0) {
                o = zeroFill;
            } else if (s1 >= 1.0) {
                double mag = Reductions.fmax(Math.abs((double) y[i]) - theta, 0.0) * fix;
                o = (float) (y[i] < 0.0f ? -mag : mag);
            } else {
                o = (float) (y[i] < 0.0f ? (double) y[i] - delta : (double) y[i] + delta);
            }
            v[(int) (base + i)] = o;
        }
    }
}
