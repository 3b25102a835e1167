package dev.opnorm.gpu;

/**
 * Java twins of attack.cl: one static method = one work-item ({@code ...At}) or one work-group
 * ({@code ...Group}, the reductions: work-item t's strided partial sums, then the fixed tree of
 * {@link Reductions}), the same formulas in the same order. Used by tests, never for speed.
 */
public final class AttackTwins {
    private static final int STATS = OpenClOps.PGA_STATS;


    private AttackTwins() {
    }

    /** Java's Math.signum on floats, spelled as the kernel's SIGNUM. */
    private static float signum(float v) {
        return v > 0f ? 1f : v < 0f ? -1f : v;
    }

    public static void initStatsAt(int i, float[] stats, int[] ref, float[] clean, boolean usePredicted, int k) {
        int arg = 0;
        for (int j = 1; j < k; j++) {
            if (clean[i * k + j] > clean[i * k + arg]) {
                arg = j;
            }
        }
        if (usePredicted) {
            ref[i] = arg;
        }
        stats[i * STATS] = arg;
        stats[i * STATS + 1] = ref[i];
    }

    public static void lossGradAt(int i, float[] gy, float[] z, float[] clean, int[] ref, int lossCode,
                                  boolean targeted, int k) {
        int off = i * k;
        if (lossCode == 0) {
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                m = Math.max(m, z[off + j]);
            }
            double s = 0;
            for (int j = 0; j < k; j++) {
                s += Math.exp(z[off + j] - m);
            }
            for (int j = 0; j < k; j++) {
                double softmax = Math.exp(z[off + j] - m) / s;
                gy[off + j] = (float) (softmax - (j == ref[i] ? 1.0 : 0.0));
            }
        } else if (lossCode == 1) {
            for (int j = 0; j < k; j++) {
                gy[off + j] = signum(z[off + j] - clean[off + j]);
            }
        } else {
            double m = 0;
            for (int j = 0; j < k; j++) {
                m = Math.max(m, Math.abs(z[off + j] - clean[off + j]));
            }
            if (m == 0) {
                for (int j = 0; j < k; j++) {
                    gy[off + j] = 0f;
                }
            } else if (lossCode == 3) {
                int ties = 0;
                for (int j = 0; j < k; j++) {
                    ties += Math.abs(z[off + j] - clean[off + j]) == m ? 1 : 0;
                }
                float share = (float) (1.0 / ties);
                for (int j = 0; j < k; j++) {
                    float d = z[off + j] - clean[off + j];
                    gy[off + j] = Math.abs(d) == m ? signum(d) * share : 0f;
                }
            } else {
                double ss = 0;
                for (int j = 0; j < k; j++) {
                    double t = z[off + j] - clean[off + j];
                    ss += t * t;
                }
                double nrm = Math.sqrt(ss);
                for (int j = 0; j < k; j++) {
                    gy[off + j] = (float) ((z[off + j] - clean[off + j]) / nrm);
                }
            }
        }
        if (targeted) {
            for (int j = 0; j < k; j++) {
                gy[off + j] = -gy[off + j];
            }
        }
    }

    public static void startAt(int e, float[] xk, float[] x, float[] off, float lo, float hi) {
        float v = off != null ? x[e] + off[e] : x[e];
        xk[e] = Math.max(lo, Math.min(hi, v));
    }

    private static double treeMax(double[] buf, int wg) {
        for (int s = wg / 2; s > 0; s >>= 1) {
            for (int t = 0; t < s; t++) {
                buf[t] = buf[t] >= buf[t + s] ? buf[t] : buf[t + s];
            }
        }
        return buf[0];
    }

    /**
     * One PGA step on n rows as OpenClOps.pgaStep launches it: pga_direction per row, pga_offset per
     * element, then (finite step) the projection kernel of p. xk and g overwritten.
     */
    public static void pgaStep(int wg, float[] xk, float[] g, float[] x, int p, double step, double eps,
                               boolean infinite, float lo, float hi, int n, int per) {
        for (int r = 0; r < n; r++) {
            directionGroup(r, wg, g, xk, p, lo, hi, per);
        }
        for (int e = 0; e < n * per; e++) {
            offsetAt(e, xk, g, x, step, eps, infinite, lo, hi);
        }
        if (infinite) {
            return;
        }
        for (int r = 0; r < n; r++) {
            if (p == 1) {
                projectL1Group(r, wg, xk, g, x, eps, lo, hi, per);
            } else if (p == 2) {
                projectL2Group(r, wg, xk, g, x, eps, lo, hi, per);
            } else {
                for (int e = r * per; e < (r + 1) * per; e++) {
                    projectLinfAt(e, xk, g, x, eps, lo, hi);
                }
            }
        }
    }

    /** pga_direction for row r with reduction work-group wg (p: 1, 2, 3 = inf). */
    public static void directionGroup(int r, int wg, float[] g, float[] xk, int p, float lo, float hi, int per) {
        double[] buf = new double[wg], bufSs = new double[wg];
        int base = r * per;
        for (int t = 0; t < wg; t++) {
            double m = 0, ss = 0;
            for (int i = t; i < per; i += wg) {
                float gi = g[base + i], xi = xk[base + i];
                float gm = p == 1 && ((gi > 0f && xi >= hi) || (gi < 0f && xi <= lo)) ? 0f : gi;
                g[base + i] = gm;
                m = Math.max(m, Math.abs(gm));
                ss += (double) gm * gm;
            }
            buf[t] = m;
            bufSs[t] = ss;
        }
        double m = treeMax(buf, wg);
        double nrm = Math.sqrt(Reductions.tree(bufSs, wg));
        for (int t = 0; t < wg; t++) {
            double ties = 0;
            for (int i = t; i < per; i += wg) {
                ties += Math.abs(g[base + i]) == m ? 1.0 : 0.0;
            }
            buf[t] = ties;
        }
        double ties = Reductions.tree(buf, wg);
        float share = (float) (1.0 / ties);
        for (int i = 0; i < per; i++) {
            float gi = g[base + i];
            float d;
            if (p == 1) {
                d = m != 0 && Math.abs(gi) == m ? signum(gi) * share : 0f;
            } else if (p == 2) {
                d = nrm == 0 ? 0f : (float) (gi / nrm);
            } else {
                d = signum(gi);
            }
            g[base + i] = d;
        }
    }

    public static void offsetAt(int e, float[] xk, float[] g, float[] x, double step, double eps, boolean infinite,
                                float lo, float hi) {
        if (infinite) {
            float v = (float) (x[e] + eps * g[e]);
            xk[e] = Math.max(lo, Math.min(hi, v));
        } else {
            g[e] = (float) ((double) xk[e] - x[e] + step * g[e]);
        }
    }

    public static void projectLinfAt(int e, float[] xk, float[] g, float[] x, double eps, float lo, float hi) {
        float o = (float) Math.max(-eps, Math.min(eps, (double) g[e]));
        float v = x[e] + o;
        xk[e] = Math.max(lo, Math.min(hi, v));
    }

    public static void projectL2Group(int r, int wg, float[] xk, float[] g, float[] x, double eps, float lo,
                                      float hi, int per) {
        double[] buf = new double[wg];
        int base = r * per;
        double nrm = Math.sqrt(sumSquares(buf, wg, g, base, per));
        double s = eps / nrm;
        for (int i = 0; i < per; i++) {
            float o = nrm <= eps ? g[base + i] : (float) (g[base + i] * s);
            float v = x[base + i] + o;
            xk[base + i] = Math.max(lo, Math.min(hi, v));
        }
    }

    public static void projectL1Group(int r, int wg, float[] xk, float[] g, float[] x, double eps, float lo,
                                      float hi, int per) {
        double[] buf = new double[wg], bufMax = new double[wg];
        int base = r * per;
        for (int t = 0; t < wg; t++) {
            double s1 = 0, mx = 0;
            for (int i = t; i < per; i += wg) {
                double v = Math.abs((double) g[base + i]);
                s1 += v;
                mx = Math.max(mx, v);
            }
            buf[t] = s1;
            bufMax[t] = mx;
        }
        double s1 = Reductions.tree(buf, wg);
        double theta = Reductions.l1BallThreshold(per, wg, i -> Math.abs((double) g[base + i]), eps,
                treeMax(bufMax, wg));
        for (int i = 0; i < per; i++) {
            double v = g[base + i];
            double mag = Math.max(Math.abs(v) - theta, 0.0);
            float o = s1 > eps ? (float) (v < 0 ? -mag : mag) : g[base + i];
            float w = x[base + i] + o;
            xk[base + i] = Math.max(lo, Math.min(hi, w));
        }
    }

    private static double sumSquares(double[] buf, int wg, float[] a, int base, int per) {
        for (int t = 0; t < wg; t++) {
            double ss = 0;
            for (int i = t; i < per; i += wg) {
                double v = a[base + i];
                ss += v * v;
            }
            buf[t] = ss;
        }
        return Reductions.tree(buf, wg);
    }

    public static void keepBestAt(int i, float[] stats, float[] z, float[] clean, int[] ref, int lossCode,
                                  boolean targeted, int restart, int k) {
        int off = i * k, y = ref[i];
        int pred = 0;
        for (int j = 1; j < k; j++) {
            if (z[off + j] > z[off + pred]) {
                pred = j;
            }
        }
        double l;
        if (lossCode == 0) {
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                m = Math.max(m, z[off + j]);
            }
            double s = 0;
            for (int j = 0; j < k; j++) {
                s += Math.exp(z[off + j] - m);
            }
            l = m + Math.log(s) - z[off + y];
        } else {
            double m = 0, s = 0;
            for (int j = 0; j < k; j++) {
                double d = (double) z[off + j] - clean[off + j];
                if (lossCode == 1) {
                    s += Math.abs(d);
                }
                m = Math.max(m, Math.abs(d));
            }
            if (lossCode == 1) {
                l = s;
            } else if (lossCode == 3 || m == 0) {
                l = m;
            } else {
                for (int j = 0; j < k; j++) {
                    double d = ((double) z[off + j] - clean[off + j]) / m;
                    s += d * d;
                }
                l = m * Math.sqrt(s);
            }
        }
        boolean ok = targeted ? pred == y : pred != y;
        int st = i * STATS;
        boolean bestOk = stats[st + 3] != 0f;
        double bestLoss = stats[st + 4];
        boolean better = restart == 0 || (ok && !bestOk) || (ok == bestOk && (targeted ? l < bestLoss : l > bestLoss));
        if (better) {
            stats[st + 2] = pred;
            stats[st + 3] = ok ? 1f : 0f;
            stats[st + 4] = (float) l;
            stats[st + 6] = restart;
        }
        stats[st + 7] = better ? 1f : 0f;
    }

    public static void copyRowsWhereBetterAt(int e, float[] dst, float[] src, float[] stats, int len) {
        if (stats[(e / len) * STATS + 7] != 0f) {
            dst[e] = src[e];
        }
    }

    /** attack_norms for example r with reduction work-group wg. */
    public static void normsGroup(int r, int wg, float[] stats, float[] a, float[] b, int p, int per) {
        double[] buf = new double[wg], bufMax = new double[wg];
        int base = r * per;
        for (int t = 0; t < wg; t++) {
            double acc = 0;
            for (int i = t; i < per; i += wg) {
                double d = (double) a[base + i] - b[base + i];
                acc = p == 1 ? acc + Math.abs(d) : p == 2 ? acc + d * d : Math.max(acc, Math.abs(d));
            }
            buf[t] = acc;
            bufMax[t] = acc;
        }
        double mx = treeMax(bufMax, wg);
        double v = Reductions.tree(buf, wg);
        stats[r * STATS + 5] = (float) (p == 3 ? mx : p == 2 ? Math.sqrt(v) : v);
    }
}
