package dev.opnorm.nn.kernels;

import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.Projections;
import dev.opnorm.nn.data.Domain;

/**
 * The per-example arithmetic of the PGA attack on host arrays, the reference the {@link Kernels} defaults of
 * the attack's {@link Ops} methods run (and robust's {@code AdversarialLoss} evaluates): the adversarial
 * loss and its gradient in double, the PGA step (l1 saturated-coordinate mask, {@code DualMaps.steepestAscent},
 * {@code Projections.ontoBall}, the domain clamp), argmax and the per-example statistics.
 *
 * <p>Host statistics ({@link #STATS} floats per example): 0 clean prediction, 1 reference label, 2 prediction
 * at the kept point, 3 success (0 / 1), 4 restart of the kept point, 5 whether the last restart was better,
 * 6..9 the loss and 10..13 the perturbation norm as doubles, each stored exactly as four 16-bit pieces
 * (so restart ties are decided on the double loss, as they always were on the host).
 */
public final class AttackRows {
    /** Floats per example of the host statistics. */
    public static final int STATS = 14;
    private static final int LOSS = 6, NORM = 10;

    private AttackRows() {
    }

    /**
     * The loss of one example: {@code -log softmax(logits)_label} for q = NaN (cross-entropy), else the logit
     * loss {@code ||logits - clean||_q}.
     */
    public static double lossValue(float[] logits, float[] clean, int off, int classes, int label, double q) {
        if (!Double.isNaN(q)) {
            double[] d = new double[classes];
            for (int j = 0; j < classes; j++) {
                d[j] = (double) logits[off + j] - clean[off + j];
            }
            return Norms.lp(d, q);
        }
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < classes; j++) {
            m = Math.max(m, logits[off + j]);
        }
        double s = 0;
        for (int j = 0; j < classes; j++) {
            s += Math.exp(logits[off + j] - m);
        }
        return m + Math.log(s) - logits[off + label];
    }

    /** gy[off, off+classes) = d {@link #lossValue} / d logits (overwritten). */
    public static void lossGradient(float[] logits, float[] clean, int off, int classes, int label, double q,
                                    float[] gy) {
        if (!Double.isNaN(q)) {
            float[] d = new float[classes];
            for (int j = 0; j < classes; j++) {
                d[j] = logits[off + j] - clean[off + j];
            }
            DualMaps.dual(d, 0, classes, q, gy, off);
            return;
        }
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < classes; j++) {
            m = Math.max(m, logits[off + j]);
        }
        double s = 0;
        for (int j = 0; j < classes; j++) {
            s += Math.exp(logits[off + j] - m);
        }
        for (int j = 0; j < classes; j++) {
            double softmax = Math.exp(logits[off + j] - m) / s;
            gy[off + j] = (float) (softmax - (j == label ? 1 : 0));
        }
    }

    /** Index of the largest logit per example (first on ties). */
    public static int[] argmax(float[] logits, int n, int classes) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 1; j < classes; j++) {
                if (logits[i * classes + j] > logits[i * classes + best]) {
                    best = j;
                }
            }
            out[i] = best;
        }
        return out;
    }

    static void initStats(float[] stats, int[] ref, float[] clean, boolean usePredicted, int n, int classes) {
        int[] pred = argmax(clean, n, classes);
        for (int i = 0; i < n; i++) {
            if (usePredicted) {
                ref[i] = pred[i];
            }
            stats[i * STATS] = pred[i];
            stats[i * STATS + 1] = ref[i];
        }
    }

    static void lossGrad(float[] gy, float[] z, float[] clean, int[] ref, double q, boolean targeted, int n,
                         int classes) {
        for (int i = 0; i < n; i++) {
            lossGradient(z, clean, i * classes, classes, ref[i], q, gy);
            if (targeted) {
                for (int j = i * classes; j < (i + 1) * classes; j++) {
                    gy[j] = -gy[j];
                }
            }
        }
    }

    static void start(float[] xk, float[] x, float[] off, Domain domain, int len) {
        if (off == null) {
            System.arraycopy(x, 0, xk, 0, len);
        } else {
            for (int j = 0; j < len; j++) {
                xk[j] = x[j] + off[j];
            }
        }
        clamp(xk, 0, len, domain);
    }

    static void step(float[] xk, float[] g, float[] x, double p, double alpha, double eps, Domain domain, int n,
                     int per) {
        float[] dir = new float[per]; // N_p(g) of one example
        boolean infinite = alpha == Double.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            int o = i * per;
            if (p == 1) {
                maskSaturated(g, xk, o, per, domain);
            }
            DualMaps.steepestAscent(g, o, per, p, dir, 0);
            if (infinite) {
                for (int j = 0; j < per; j++) {
                    xk[o + j] = (float) (x[o + j] + eps * dir[j]);
                }
            } else {
                for (int j = 0; j < per; j++) {
                    g[o + j] = (float) ((double) xk[o + j] - x[o + j] + alpha * dir[j]); // the offset before projection
                }
                Projections.ontoBall(g, o, per, p, eps, g, o);
                for (int j = o; j < o + per; j++) {
                    xk[j] = x[j] + g[j];
                }
            }
            clamp(xk, o, per, domain);
        }
    }

    static void keepBest(float[] s, float[] z, float[] clean, int[] ref, double q, boolean targeted, int restart,
                         int n, int classes) {
        int[] pred = argmax(z, n, classes);
        for (int i = 0; i < n; i++) {
            int o = i * STATS;
            double l = lossValue(z, clean, i * classes, classes, ref[i], q);
            boolean ok = targeted ? pred[i] == ref[i] : pred[i] != ref[i];
            boolean kept = s[o + 3] != 0f;
            double keptLoss = getDouble(s, o + LOSS);
            boolean better = restart == 0 || (ok && !kept)
                    || (ok == kept && (targeted ? l < keptLoss : l > keptLoss));
            if (better) {
                s[o + 2] = pred[i];
                putDouble(s, o + LOSS, l);
                s[o + 3] = ok ? 1f : 0f;
                s[o + 4] = restart;
            }
            s[o + 5] = better ? 1f : 0f;
        }
    }

    static void copyRowsWhereBetter(float[] dst, float[] src, float[] stats, int n, int len) {
        for (int i = 0; i < n; i++) {
            if (stats[i * STATS + 5] != 0f) {
                System.arraycopy(src, i * len, dst, i * len, len);
            }
        }
    }

    static void norms(float[] stats, float[] a, float[] b, double p, int n, int per) {
        double[] d = new double[per];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < per; j++) {
                d[j] = (double) a[i * per + j] - b[i * per + j];
            }
            putDouble(stats, i * STATS + NORM, Norms.lp(d, p));
        }
    }

    static double[] read(float[] s, int n) {
        double[] out = new double[n * 7];
        for (int i = 0; i < n; i++) {
            int o = i * STATS, r = i * 7;
            out[r] = s[o];
            out[r + 1] = s[o + 1];
            out[r + 2] = s[o + 2];
            out[r + 3] = s[o + 3];
            out[r + 4] = getDouble(s, o + LOSS);
            out[r + 5] = getDouble(s, o + NORM);
            out[r + 6] = s[o + 4];
        }
        return out;
    }

    /**
     * l1 only: N_1 puts the whole step on one coordinate; if that coordinate already sits on the domain boundary
     * and the gradient pushes it outward, clamping undoes the step and the attack stalls for good. Such
     * coordinates are dropped from the choice (their gradient entry zeroed), so the step goes to the steepest
     * coordinate that can move. p = 2 and inf spread the step over all coordinates and keep the plain N_p.
     */
    private static void maskSaturated(float[] g, float[] xk, int off, int len, Domain domain) {
        float lo = domain.low(), hi = domain.high();
        for (int j = off; j < off + len; j++) {
            if ((g[j] > 0 && xk[j] >= hi) || (g[j] < 0 && xk[j] <= lo)) {
                g[j] = 0;
            }
        }
    }

    private static void clamp(float[] a, int off, int len, Domain domain) {
        float lo = domain.low(), hi = domain.high();
        for (int j = off; j < off + len; j++) {
            a[j] = Math.max(lo, Math.min(hi, a[j]));
        }
    }

    // A double kept in a float array: its 64 bits as four 16-bit integers, each exact in a float and never
    // touched by arithmetic, so the value comes back bit for bit.
    private static void putDouble(float[] a, int off, double v) {
        long bits = Double.doubleToRawLongBits(v);
        for (int k = 0; k < 4; k++) {
            a[off + k] = (float) ((bits >>> (16 * k)) & 0xffff);
        }
    }

    private static double getDouble(float[] a, int off) {
        long bits = 0;
        for (int k = 0; k < 4; k++) {
            bits |= ((long) a[off + k]) << (16 * k);
        }
        return Double.longBitsToDouble(bits);
    }
}
