package dev.opnorm.gpu;

import static dev.opnorm.gpu.OpenClTesting.assertClose;
import static dev.opnorm.gpu.OpenClTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.Projections;
import dev.opnorm.nn.data.Domain;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * attack.cl against its Java twins (AttackTwins, exact except double exp / log), and the twins against the
 * host code they mirror: DualMaps.steepestAscent, Projections.ontoBall (l1 / l2 / l_inf), Norms.lp.
 */
class AttackKernelsTest {
    private final OpenCl cl = OpenClTesting.runtime();
    private final OpenClOps ops = cl.ops();

    /** The attack norm of a kernel code (1, 2, 3 = inf). */
    private static double norm(int code) {
        return code == 3 ? Double.POSITIVE_INFINITY : code;
    }

    /** The adversarial loss of a kernel code (0 = cross-entropy, NaN; else the logit loss's q). */
    private static double loss(int code) {
        return code == 0 ? Double.NaN : norm(code);
    }
    private final int wg = cl.reduceWorkGroup();

    /** Rows of odd length (not a multiple of the work-group), one with a tie and one all-zero gradient row. */
    private static final int N = 4, PER = 3 * 7 * 11;

    private static float[] gradients(Random rnd) {
        float[] g = randn(rnd, N * PER);
        g[5] = 4f;                   // row 0: two largest |g| tie
        g[17] = -4f;
        for (int i = 3 * PER; i < 4 * PER; i++) {
            g[i] = 0f;               // row 3: zero gradient (N_p(0) = 0)
        }
        g[PER + 3] = 0f;             // sign(0) = 0 inside a row
        return g;
    }

    private static float[] inDomain(Random rnd, int len, float lo, float hi) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) {
            x[i] = lo + (hi - lo) * rnd.nextFloat();
        }
        x[7] = hi;                   // on the boundary: l1 masks outward-pointing gradient entries
        x[8] = lo;
        return x;
    }

    @Test
    void pgaStep_matchesTwinExactly_forEveryNorm_finiteAndInfiniteStep() {
        Random rnd = new Random(61);
        float lo = -1f, hi = 1f;
        for (int p = 1; p <= 3; p++) {
            for (boolean infinite : new boolean[]{false, true}) {
                // eps small for l1 / l2 so that the ball projection is active, large enough for inf to clip some
                double eps = p == 1 ? 0.5 : p == 2 ? 0.3 : 0.05, step = p == 3 ? 0.02 : 0.2;
                float[] x = inDomain(rnd, N * PER, lo, hi);
                float[] xk = x.clone();
                for (int i = 0; i < xk.length; i++) {
                    xk[i] = Math.max(lo, Math.min(hi, xk[i] + 0.01f * (float) rnd.nextGaussian()));
                }
                float[] g = gradients(rnd);
                try (DeviceTensor dxk = DeviceTensor.of(cl, xk); DeviceTensor dg = DeviceTensor.of(cl, g);
                     DeviceTensor dx = DeviceTensor.of(cl, x)) {
                    ops.pgaStep(dxk, dg, dx, norm(p), infinite ? Double.POSITIVE_INFINITY : step, eps, new Domain(lo, hi), N, PER);
                    AttackTwins.pgaStep(wg, xk, g, x, p, step, eps, infinite, lo, hi, N, PER);
                    assertClose(xk, dxk.download(), xk.length, GpuTolerances.TWIN_F32, 1,
                            "PGA step kernels p=" + p + " infinite=" + infinite);
                }
            }
        }
    }

    @Test
    void pgaStepTwin_matchesHostSteepestAscentAndProjection() {
        Random rnd = new Random(62);
        float lo = -1f, hi = 1f;
        for (int p = 1; p <= 3; p++) {
            double pv = p == 3 ? Double.POSITIVE_INFINITY : p;
            double eps = p == 1 ? 0.5 : p == 2 ? 0.3 : 0.05, step = 0.2;
            float[] x = inDomain(rnd, N * PER, lo, hi);
            float[] xk = x.clone();
            float[] g = gradients(rnd);
            // the host path of Pga.run (without l1's boundary mask: no entry of xk is on the boundary here)
            for (int i = 0; i < xk.length; i++) {
                xk[i] = Math.max(lo + 1e-3f, Math.min(hi - 1e-3f, xk[i]));
            }
            float[] want = new float[xk.length], dir = new float[xk.length], off = new float[xk.length];
            for (int r = 0; r < N; r++) {
                int o = r * PER;
                DualMaps.steepestAscent(g, o, PER, pv, dir, o);
                for (int j = o; j < o + PER; j++) {
                    off[j] = (float) ((double) xk[j] - x[j] + step * dir[j]);
                }
                Projections.ontoBall(off, o, PER, pv, eps, off, o);
                for (int j = o; j < o + PER; j++) {
                    want[j] = Math.max(lo, Math.min(hi, x[j] + off[j]));
                }
            }
            AttackTwins.pgaStep(wg, xk, g, x, p, step, eps, false, lo, hi, N, PER);
            // the host sums in another order and projects l1 by sorting: equal to double rounding, then float
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], xk[i], GpuTolerances.PGA_STEP_VS_HOST, "p=" + p + " element " + i);
            }
            for (int r = 0; r < N; r++) {
                double norm = Norms.lp(diff(xk, x, r), pv);
                assertTrue(norm <= eps * (1 + 1e-5), "p=" + p + " row " + r + " left the ball: " + norm);
            }
        }
    }

    private static double[] diff(float[] a, float[] b, int r) {
        double[] d = new double[PER];
        for (int j = 0; j < PER; j++) {
            d[j] = (double) a[r * PER + j] - b[r * PER + j];
        }
        return d;
    }

    @Test
    void lossGradAndKeepBest_matchTwins_forEveryLossCode() {
        Random rnd = new Random(63);
        int n = 5, k = 10;
        float[] z = randn(rnd, n * k), clean = randn(rnd, n * k);
        for (int i = 0; i < z.length; i++) {
            z[i] *= 5f;
        }
        System.arraycopy(z, 0, clean, 0, k);   // example 0: f(x*) = f(x), the logit loss's zero gradient
        int[] ref = {3, 0, 9, 4, 4};
        for (int code = 0; code <= 3; code++) {
            for (boolean targeted : new boolean[]{false, true}) {
                float[] gy = new float[n * k];
                float[] stats = new float[n * OpenClOps.PGA_STATS];
                for (int i = 0; i < n; i++) {
                    stats[i * OpenClOps.PGA_STATS + 3] = i % 2;            // a kept success on odd examples
                    stats[i * OpenClOps.PGA_STATS + 4] = 1.5f;
                }
                try (DeviceTensor dz = DeviceTensor.of(cl, z); DeviceTensor dc = DeviceTensor.of(cl, clean);
                     DeviceInts dr = DeviceInts.of(cl, ref); DeviceTensor dgy = DeviceTensor.allocate(cl, n * k);
                     DeviceTensor ds = DeviceTensor.of(cl, stats)) {
                    ops.pgaLossGrad(dgy, dz, dc, dr, loss(code), targeted, n, k);
                    ops.pgaKeepBest(ds, dz, dc, dr, loss(code), targeted, 1, n, k);
                    for (int i = 0; i < n; i++) {
                        AttackTwins.lossGradAt(i, gy, z, clean, ref, code, targeted, k);
                        AttackTwins.keepBestAt(i, stats, z, clean, ref, code, targeted, 1, k);
                    }
                    String what = "loss code " + code + " targeted " + targeted;
                    assertClose(gy, dgy.download(), gy.length, GpuTolerances.TWIN_EXP_LOG, 1, what + " gradient");
                    assertClose(stats, ds.download(), stats.length, GpuTolerances.TWIN_EXP_LOG, 1, what + " stats");
                }
            }
        }
    }

    @Test
    void startInitNormsAndRowCopy_matchTwinsExactly() {
        Random rnd = new Random(64);
        int n = 3, k = 10, len = n * PER;
        float[] x = inDomain(rnd, len, 0f, 1f), off = randn(rnd, len), clean = randn(rnd, n * k);
        int[] ref = new int[n];
        float[] xk = new float[len], stats = new float[n * OpenClOps.PGA_STATS];
        for (int i = 0; i < n; i++) {
            stats[i * OpenClOps.PGA_STATS + 7] = i == 1 ? 0f : 1f;
        }
        float[] dst = randn(rnd, len);
        try (DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor doff = DeviceTensor.of(cl, off);
             DeviceTensor dxk = DeviceTensor.allocate(cl, len); DeviceTensor dc = DeviceTensor.of(cl, clean);
             DeviceInts dr = DeviceInts.of(cl, ref); DeviceTensor ds = DeviceTensor.of(cl, stats);
             DeviceTensor ddst = DeviceTensor.of(cl, dst)) {
            ops.pgaStart(dxk, dx, doff, new Domain(0f, 1f), len);
            ops.pgaInitStats(ds, dr, dc, true, n, k);
            ops.pgaCopyRowsWhereBetter(ddst, dxk, ds, n, PER);
            for (int e = 0; e < len; e++) {
                AttackTwins.startAt(e, xk, x, off, 0f, 1f);
            }
            for (int i = 0; i < n; i++) {
                AttackTwins.initStatsAt(i, stats, ref, clean, true, k);
            }
            for (int e = 0; e < len; e++) {
                AttackTwins.copyRowsWhereBetterAt(e, dst, xk, stats, PER);
            }
            for (int p = 1; p <= 3; p++) {
                ops.pgaNorms(ds, dxk, dx, norm(p), n, PER);
                float[] got = ds.download();
                for (int r = 0; r < n; r++) {
                    AttackTwins.normsGroup(r, wg, stats, xk, x, p, PER);
                    double host = Norms.lp(diff(xk, x, r), p == 3 ? Double.POSITIVE_INFINITY : p);
                    assertEquals(host, stats[r * OpenClOps.PGA_STATS + 5], GpuTolerances.NORM_F32 * host, "norm p=" + p + " row " + r);
                }
                assertClose(stats, got, stats.length, GpuTolerances.TWIN_F32, 1, "norms p=" + p);
            }
            assertClose(xk, dxk.download(), len, GpuTolerances.TWIN_F32, 1, "attack_start");
            assertClose(dst, ddst.download(), len, GpuTolerances.TWIN_F32, 1, "copy_rows_where_better");
            int[] gotRef = new int[n];
            dr.download(gotRef, n);
            OpenClTesting.assertSame(ref, gotRef, n, "predicted reference labels");
            // and without offsets: the clamped input itself
            ops.pgaStart(dxk, dx, null, new Domain(0f, 1f), len);
            assertClose(x, dxk.download(), len, GpuTolerances.TWIN_F32, 1, "attack_start without offsets");
        }
    }

    @Test
    void attackOps_badArguments_areClearErrors() {
        try (DeviceTensor a = DeviceTensor.allocate(cl, 8); DeviceTensor b = DeviceTensor.allocate(cl, 8);
             DeviceTensor c = DeviceTensor.allocate(cl, 8)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ops.pgaStep(a, b, c, norm(4), 0.1, 0.1, new Domain(-1f, 1f), 2, 4));
            assertTrue(e.getMessage().contains("p = 4"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ops.pgaStep(a, a, c, norm(2), 0.1, 0.1, new Domain(-1f, 1f), 2, 4));
            assertTrue(e.getMessage().contains("different"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ops.pgaStep(a, b, c, norm(2), 0.1, 0.1, new Domain(-1f, 1f), 3, 4));
            assertTrue(e.getMessage().contains("needs 12"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> OpenClOps.normCode(3));
            assertTrue(e.getMessage().contains("p = 3"), e.getMessage());
        }
    }

    /**
     * Each PGA op of OpenClOps against the host reference (ScalarKernels' AttackRows) on odd sizes (3 rows of
     * 37, 7 classes), through pgaReadStats for the statistics: classes, success and restarts exactly, the
     * continuous values (iterates, gradients, losses, norms) to 1e-4 relative.
     */
    @Test
    void pgaOps_matchScalarKernels_onOddSizes() {
        dev.opnorm.nn.kernels.ScalarKernels host = new dev.opnorm.nn.kernels.ScalarKernels();
        Random rnd = new Random(65);
        int n = 3, per = 37, k = 7, len = n * per;
        Domain d = new Domain(-1f, 1f);
        for (int p = 1; p <= 3; p++) {
            for (double alpha : new double[]{0.2, Double.POSITIVE_INFINITY}) {
                double eps = p == 1 ? 0.5 : p == 2 ? 0.3 : 0.05;
                float[] x = inDomain(rnd, len, -1f, 1f), off = randn(rnd, len), g = randn(rnd, len);
                for (int i = 0; i < len; i++) {
                    off[i] *= 0.01f;
                }
                float[] xk = new float[len];
                try (DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor doff = DeviceTensor.of(cl, off);
                     DeviceTensor dg = DeviceTensor.of(cl, g); DeviceTensor dxk = DeviceTensor.allocate(cl, len)) {
                    host.pgaStart(xk, x, off, d, len);
                    ops.pgaStart(dxk, dx, doff, d, len);
                    assertClose(xk, dxk.download(), len, 1e-4, 1, "pgaStart p=" + p);
                    host.pgaStep(xk, g, x, norm(p), alpha, eps, d, n, per);
                    ops.pgaStep(dxk, dg, dx, norm(p), alpha, eps, d, n, per);
                    assertClose(xk, dxk.download(), len, 1e-4, 1, "pgaStep p=" + p + " alpha=" + alpha);
                    float[] hs = new float[n * host.pgaStatsWidth()];
                    try (DeviceTensor ds = DeviceTensor.allocate(cl, n * ops.pgaStatsWidth())) {
                        ops.fill(ds, 0f, n * ops.pgaStatsWidth());
                        host.pgaNorms(hs, xk, x, norm(p), n, per);
                        ops.pgaNorms(ds, dxk, dx, norm(p), n, per);
                        double[] want = host.pgaReadStats(hs, n), got = ops.pgaReadStats(ds, n);
                        for (int r = 0; r < n; r++) {
                            assertEquals(want[r * 7 + 5], got[r * 7 + 5], 1e-4 * want[r * 7 + 5], "pgaNorms p=" + p);
                        }
                    }
                }
            }
        }
        float[] z0 = randn(rnd, n * k), z1 = randn(rnd, n * k), clean = randn(rnd, n * k);
        for (int code = 0; code <= 3; code++) {
            for (boolean targeted : new boolean[]{false, true}) {
                int[] ref = {6, 0, 3}, dref = new int[n];
                float[] gy = new float[n * k], hs = new float[n * host.pgaStatsWidth()];
                float[] rows = randn(rnd, n * per), best = new float[n * per];
                try (DeviceTensor dz0 = DeviceTensor.of(cl, z0); DeviceTensor dz1 = DeviceTensor.of(cl, z1);
                     DeviceTensor dc = DeviceTensor.of(cl, clean); DeviceInts dr = DeviceInts.allocate(cl, n);
                     DeviceTensor dgy = DeviceTensor.allocate(cl, n * k); DeviceTensor drows = DeviceTensor.of(cl, rows);
                     DeviceTensor dbest = DeviceTensor.of(cl, best);
                     DeviceTensor ds = DeviceTensor.allocate(cl, n * ops.pgaStatsWidth())) {
                    ops.uploadInts(dr, ref, n);
                    ops.fill(ds, 0f, n * ops.pgaStatsWidth());
                    boolean predicted = code == 1;
                    host.pgaInitStats(hs, ref, clean, predicted, n, k);
                    ops.pgaInitStats(ds, dr, dc, predicted, n, k);
                    dr.download(dref, n);
                    OpenClTesting.assertSame(ref, dref, n, "pgaInitStats reference");
                    host.pgaLossGrad(gy, z0, clean, ref, loss(code), targeted, n, k);
                    ops.pgaLossGrad(dgy, dz0, dc, dr, loss(code), targeted, n, k);
                    String what = "loss code " + code + " targeted " + targeted;
                    assertClose(gy, dgy.download(), gy.length, 1e-4, 1, what + " pgaLossGrad");
                    for (int r = 0; r < 2; r++) {
                        host.pgaKeepBest(hs, r == 0 ? z0 : z1, clean, ref, loss(code), targeted, r, n, k);
                        ops.pgaKeepBest(ds, r == 0 ? dz0 : dz1, dc, dr, loss(code), targeted, r, n, k);
                        host.pgaCopyRowsWhereBetter(best, rows, hs, n, per);
                        ops.pgaCopyRowsWhereBetter(dbest, drows, ds, n, per);
                        for (int i = 0; i < rows.length; i++) {
                            rows[i] += 1f; // the next restart's rows differ
                        }
                        drows.upload(rows);
                    }
                    assertClose(best, dbest.download(), best.length, 0, 1, what + " pgaCopyRowsWhereBetter");
                    double[] want = host.pgaReadStats(hs, n), got = ops.pgaReadStats(ds, n);
                    for (int i = 0; i < n * 7; i++) {
                        double tol = i % 7 == 4 ? 1e-4 * (1 + Math.abs(want[i])) : 0;
                        assertEquals(want[i], got[i], tol, what + " statistic " + i % 7 + " of example " + i / 7);
                    }
                }
            }
        }
    }
}
