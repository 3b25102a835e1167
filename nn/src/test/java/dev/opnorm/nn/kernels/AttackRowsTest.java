package dev.opnorm.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.data.Domain;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The PGA's row operations of the host {@link Kernels} ({@link AttackRows}) on odd sizes, against what they
 * must compute: the statistics keep the double loss and norm bit for bit, the restart rule (restart 0, then
 * success, then the higher / targeted lower loss), the step stays in the ball and the domain, l1 skips
 * saturated coordinates, the cross-entropy gradient is the derivative of its value.
 */
class AttackRowsTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final Kernels[] HOSTS = {new ScalarKernels(), new VectorKernels(2)};

    private static float[] randn(Random r, int len, float scale) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = scale * (float) r.nextGaussian();
        }
        return a;
    }

    @Test
    void keepBest_keepsTheDoubleLossAndTheRestartRule() {
        int n = 7, k = 5;
        Random rnd = new Random(3);
        for (Kernels ops : HOSTS) {
            float[] z0 = randn(rnd, n * k, 3f), z1 = randn(rnd, n * k, 3f), clean = randn(rnd, n * k, 1f);
            int[] ref = {0, 1, 2, 3, 4, 0, 1};
            float[] stats = new float[n * ops.pgaStatsWidth()];
            ops.pgaInitStats(stats, ref, clean, false, n, k);
            ops.pgaKeepBest(stats, z0, clean, ref, Double.NaN, false, 0, n, k);
            ops.pgaKeepBest(stats, z1, clean, ref, Double.NaN, false, 1, n, k);
            double[] st = ops.pgaReadStats(stats, n);
            int[] p0 = AttackRows.argmax(z0, n, k), p1 = AttackRows.argmax(z1, n, k), pc = AttackRows.argmax(clean, n, k);
            for (int i = 0; i < n; i++) {
                double l0 = AttackRows.lossValue(z0, clean, i * k, k, ref[i], Double.NaN);
                double l1 = AttackRows.lossValue(z1, clean, i * k, k, ref[i], Double.NaN);
                boolean ok0 = p0[i] != ref[i], ok1 = p1[i] != ref[i];
                boolean second = (ok1 && !ok0) || (ok1 == ok0 && l1 > l0);
                assertEquals(pc[i], st[i * 7], "clean prediction " + i);
                assertEquals(ref[i], st[i * 7 + 1], "reference " + i);
                assertEquals(second ? p1[i] : p0[i], st[i * 7 + 2], "kept prediction " + i);
                assertEquals((second ? ok1 : ok0) ? 1 : 0, st[i * 7 + 3], "success " + i);
                // bit for bit: the double is kept, not rounded to float
                assertEquals(Double.doubleToRawLongBits(second ? l1 : l0), Double.doubleToRawLongBits(st[i * 7 + 4]),
                        "loss " + i);
                assertEquals(second ? 1 : 0, st[i * 7 + 6], "restart " + i);
            }
            // targeted: the lower loss of the target wins among equally (un)successful restarts
            float[] t = new float[n * ops.pgaStatsWidth()];
            ops.pgaKeepBest(t, z0, clean, ref, 2, true, 0, n, k);
            ops.pgaKeepBest(t, z1, clean, ref, 2, true, 1, n, k);
            double[] tt = ops.pgaReadStats(t, n);
            for (int i = 0; i < n; i++) {
                double l0 = AttackRows.lossValue(z0, clean, i * k, k, ref[i], 2);
                double l1 = AttackRows.lossValue(z1, clean, i * k, k, ref[i], 2);
                boolean ok0 = p0[i] == ref[i], ok1 = p1[i] == ref[i];
                boolean second = (ok1 && !ok0) || (ok1 == ok0 && l1 < l0);
                assertEquals(second ? l1 : l0, tt[i * 7 + 4], "targeted loss " + i);
                float[] dst = new float[n * 3], src = randn(rnd, n * 3, 1f);
                ops.pgaCopyRowsWhereBetter(dst, src, t, n, 3);
                for (int j = 0; j < 3; j++) {
                    assertEquals(second ? src[i * 3 + j] : 0f, dst[i * 3 + j], "copied row " + i);
                }
            }
        }
    }

    @Test
    void initStats_predicted_overwritesTheReference() {
        float[] clean = {0, 2, 2, 1, 5, -1, 3, 3, 3};
        int[] ref = {9, 9, 9};
        Kernels ops = HOSTS[0];
        float[] stats = new float[3 * ops.pgaStatsWidth()];
        ops.pgaInitStats(stats, ref, clean, true, 3, 3);
        assertArrayEquals(new int[]{1, 1, 0}, ref, "first maximum of each row");
        double[] st = ops.pgaReadStats(stats, 3);
        assertEquals(1, st[7 + 1]);
        assertEquals(0, st[14]);
    }

    @Test
    void step_staysInTheBallAndTheDomain_normsAreTheirLp() {
        int n = 3, per = 37;
        Random rnd = new Random(5);
        Domain d = Domain.SYMMETRIC;
        for (Kernels ops : HOSTS) {
            for (double p : new double[]{1, 2, INF}) {
                double eps = p == 1 ? 0.8 : p == 2 ? 0.3 : 0.05;
                for (double alpha : new double[]{0.2, INF}) {
                    float[] x = randn(rnd, n * per, 0.5f), off = randn(rnd, n * per, 0.01f), xk = new float[n * per];
                    for (int j = 0; j < x.length; j++) {
                        x[j] = Math.max(-0.9f, Math.min(0.9f, x[j])); // every row can move
                    }
                    x[4] = 1f; // on the boundary, and the start stays there
                    off[4] = 0.01f;
                    ops.pgaStart(xk, x, off, d, n * per);
                    float[] g = randn(rnd, n * per, 1f);
                    g[4] = 100f; // the steepest coordinate, but it cannot move: l1 must pick another one
                    ops.pgaStep(xk, g, x, p, alpha, eps, d, n, per);
                    float[] stats = new float[n * ops.pgaStatsWidth()];
                    ops.pgaNorms(stats, xk, x, p, n, per);
                    double[] st = ops.pgaReadStats(stats, n);
                    for (int i = 0; i < n; i++) {
                        double[] diff = new double[per];
                        for (int j = 0; j < per; j++) {
                            float v = xk[i * per + j];
                            assertTrue(v >= -1f && v <= 1f, "domain");
                            diff[j] = (double) v - x[i * per + j];
                        }
                        double norm = Norms.lp(diff, p);
                        assertEquals(norm, st[i * 7 + 5], "norm p=" + p);
                        assertTrue(norm <= eps * (1 + 1e-5), "p=" + p + " alpha=" + alpha + " left the ball: " + norm);
                        assertTrue(norm > 0, "p=" + p + " alpha=" + alpha + " did not move row " + i);
                    }
                    if (p == 1) {
                        assertEquals(1f, xk[4], "l1 moved the saturated coordinate");
                    }
                }
            }
        }
    }

    @Test
    void crossEntropyGradient_isTheDerivativeOfItsValue_logitGradientIsTheDualMap() {
        int n = 3, k = 7;
        Random rnd = new Random(7);
        float[] z = randn(rnd, n * k, 2f), clean = randn(rnd, n * k, 2f), gy = new float[n * k];
        int[] ref = {6, 0, 3};
        HOSTS[1].pgaLossGrad(gy, z, clean, ref, Double.NaN, false, n, k);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                float[] a = z.clone(), b = z.clone();
                a[i * k + j] += 1e-2f;
                b[i * k + j] -= 1e-2f;
                double fd = (AttackRows.lossValue(a, clean, i * k, k, ref[i], Double.NaN)
                        - AttackRows.lossValue(b, clean, i * k, k, ref[i], Double.NaN)) / (a[i * k + j] - b[i * k + j]);
                assertEquals(fd, gy[i * k + j], 1e-3, "d CE / d z[" + i + ", " + j + "]");
            }
        }
        float[] neg = new float[n * k];
        HOSTS[0].pgaLossGrad(neg, z, clean, ref, 2, true, n, k);
        for (int i = 0; i < n; i++) {
            double norm = Norms.lp(neg, i * k, k, 2);
            assertEquals(1, norm, 1e-6, "the l2 dual map has unit norm");
            assertTrue((z[i * k] - clean[i * k]) * neg[i * k] <= 0, "targeted: the negated gradient");
        }
    }
}
