package dev.opnorm.gpu;

import dev.opnorm.gpu.OpenCl.Family;

/**
 * The kernels of projected gradient ascent (attack.cl) on device-resident batches, enqueued like
 * {@link OpenClOps} (no waiting, no transfer). A separate class from OpenClOps so that the attack's
 * additions stay in one place; Java twins in the tests (AttackTwins).
 *
 * <p>Per-example bookkeeping is one float tensor {@code stats} of n rows of {@link #STATS} floats:
 * 0 clean prediction, 1 reference label, 2 prediction at the kept point, 3 success (0 / 1), 4 loss at the
 * kept point, 5 ||x* - x||_p, 6 restart of the kept point, 7 whether the last restart was better. Codes:
 * norm p = 1, 2 or 3 (inf); loss 0 = cross-entropy, 1 / 2 / 3 = the l_1 / l_2 / l_inf logit loss.
 * Needs {@code cl_khr_fp64} (losses, norms and projections are computed in double, as on the host).
 *
 * @throws IllegalArgumentException (every method) when a buffer is null, too short or of another runtime,
 *                                  or a code is unknown
 */
public final class AttackOps {
    /** Floats per example of the statistics tensor. */
    public static final int STATS = 8;

    private final OpenCl cl;

    public AttackOps(OpenCl cl) {
        if (cl == null) {
            throw new IllegalArgumentException("AttackOps needs an OpenCL runtime");
        }
        this.cl = cl;
    }

    /**
     * stats[i, 0] = argmax of clean row i (first maximum); with usePredicted, ref[i] = that class
     * (overwritten); stats[i, 1] = ref[i].
     */
    public void initStats(DeviceTensor stats, DeviceInts ref, DeviceTensor clean, boolean usePredicted, int n, int k) {
        need(stats, (long) n * STATS, "initStats stats");
        need(ref, n, "initStats ref");
        need(clean, (long) n * k, "initStats clean");
        cl.launch(Family.ATTACK, "attack_init_stats", new long[]{n}, null, stats, ref, clean, usePredicted ? 1 : 0, n, k);
    }

    /**
     * gy (n, k) = dl/df at logits z per example, overwritten ({@code AdversarialLoss.gradient}, negated when
     * targeted); clean is read by the logit losses only.
     */
    public void lossGrad(DeviceTensor gy, DeviceTensor z, DeviceTensor clean, DeviceInts ref, int lossCode,
                         boolean targeted, int n, int k) {
        need(gy, (long) n * k, "lossGrad gy");
        need(z, (long) n * k, "lossGrad z");
        need(clean, (long) n * k, "lossGrad clean");
        need(ref, n, "lossGrad ref");
        checkLoss(lossCode);
        if (gy == z || gy == clean) {
            throw new IllegalArgumentException("lossGrad: gy must not alias the logits");
        }
        cl.launch(Family.ATTACK, "attack_loss_grad", new long[]{n}, null, gy, z, clean, ref, lossCode,
                targeted ? 1 : 0, n, k);
    }

    /** xk = clamp(x + off) to [lo, hi] elementwise (off null: clamp(x)), overwritten. */
    public void start(DeviceTensor xk, DeviceTensor x, DeviceTensor off, float lo, float hi, int len) {
        need(xk, len, "start xk");
        need(x, len, "start x");
        if (off != null) {
            need(off, len, "start off");
        }
        cl.launch(Family.ATTACK, "attack_start", new long[]{len}, null, xk, x, off == null ? x : off,
                off == null ? 0 : 1, lo, hi, len);
    }

    /**
     * One PGA step on each of n rows of length per (pga_direction, pga_offset and the projection of p in
     * attack.cl): xk overwritten with the new iterate, g (the input gradient) overwritten with scratch
     * (the direction, then the offsets). step is ignored when infinite.
     */
    public void pgaStep(DeviceTensor xk, DeviceTensor g, DeviceTensor x, int p, double step, double eps,
                        boolean infinite, float lo, float hi, int n, int per) {
        long len = (long) n * per;
        need(xk, len, "pgaStep xk");
        need(g, len, "pgaStep g");
        need(x, len, "pgaStep x");
        checkP(p);
        if (xk == g || xk == x || g == x) {
            throw new IllegalArgumentException("pgaStep: xk, g and x must be three different tensors");
        }
        if (!(eps > 0) || !(infinite || step > 0)) {
            throw new IllegalArgumentException("pgaStep: eps = " + eps + " and step = " + step + " must be > 0");
        }
        int wg = cl.reduceWorkGroup();
        long[] rows = {(long) n * wg}, group = {wg};
        cl.launch(Family.ATTACK, "pga_direction", rows, group, g, xk, p, lo, hi, per);
        cl.launch(Family.ATTACK, "pga_offset", new long[]{len}, null, xk, g, x, step, eps, infinite ? 1 : 0,
                lo, hi, (int) len);
        if (infinite) {
            return;
        }
        if (p == 1) {
            cl.launch(Family.ATTACK, "project_l1_clamp", rows, group, xk, g, x, eps, lo, hi, per);
        } else if (p == 2) {
            cl.launch(Family.ATTACK, "project_l2_clamp", rows, group, xk, g, x, eps, lo, hi, per);
        } else {
            cl.launch(Family.ATTACK, "project_linf_clamp", new long[]{len}, null, xk, g, x, eps, lo, hi, (int) len);
        }
    }

    /**
     * Loss and prediction at logits z of restart {@code restart}; stats rows updated where this restart beats
     * the kept one (restart 0 always does), stats[i, 7] = whether it did.
     */
    public void keepBest(DeviceTensor stats, DeviceTensor z, DeviceTensor clean, DeviceInts ref, int lossCode,
                         boolean targeted, int restart, int n, int k) {
        need(stats, (long) n * STATS, "keepBest stats");
        need(z, (long) n * k, "keepBest z");
        need(clean, (long) n * k, "keepBest clean");
        need(ref, n, "keepBest ref");
        checkLoss(lossCode);
        cl.launch(Family.ATTACK, "attack_keep_best", new long[]{n}, null, stats, z, clean, ref, lossCode,
                targeted ? 1 : 0, restart, n, k);
    }

    /** dst[r, :] = src[r, :] (rows of len) where stats[r, 7] is set; other rows unchanged. */
    public void copyRowsWhereBetter(DeviceTensor dst, DeviceTensor src, DeviceTensor stats, int n, int len) {
        need(dst, (long) n * len, "copyRowsWhereBetter dst");
        need(src, (long) n * len, "copyRowsWhereBetter src");
        need(stats, (long) n * STATS, "copyRowsWhereBetter stats");
        cl.launch(Family.ATTACK, "copy_rows_where_better", new long[]{(long) n * len}, null, dst, src, stats, n, len);
    }

    /** stats[r, 5] = ||a_r - b_r||_p (in double, then float) for n rows of length per. */
    public void norms(DeviceTensor stats, DeviceTensor a, DeviceTensor b, int p, int n, int per) {
        need(stats, (long) n * STATS, "norms stats");
        need(a, (long) n * per, "norms a");
        need(b, (long) n * per, "norms b");
        checkP(p);
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.ATTACK, "attack_norms", new long[]{(long) n * wg}, new long[]{wg}, stats, a, b, p, per);
    }

    /** The kernel code of an attack norm: 1, 2, or 3 for inf. */
    public static int normCode(double p) {
        if (p == 1) {
            return 1;
        }
        if (p == 2) {
            return 2;
        }
        if (p == Double.POSITIVE_INFINITY) {
            return 3;
        }
        throw new IllegalArgumentException("unknown attack norm p = " + p + ": supported are p in {1, 2, inf}");
    }

    private static void checkP(int p) {
        if (p < 1 || p > 3) {
            throw new IllegalArgumentException("attack norm code " + p + " must be 1, 2 or 3 (inf)");
        }
    }

    private static void checkLoss(int code) {
        if (code < 0 || code > 3) {
            throw new IllegalArgumentException("attack loss code " + code + " must be 0 (cross-entropy) or 1..3 (logit l_1, l_2, l_inf)");
        }
    }

    private void need(DeviceBuffer t, long count, String what) {
        if (t == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        t.checkUsable(cl);
        if (count < 0 || count > t.length()) {
            throw new IllegalArgumentException(what + ": needs " + count + " elements, " + t + " has " + t.length());
        }
    }
}
