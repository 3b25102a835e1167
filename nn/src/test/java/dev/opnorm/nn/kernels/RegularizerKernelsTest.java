package dev.opnorm.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The regularizers' and training step's ops on the host: every host implementation ({@link VectorKernels} at 1
 * and 3 threads) gives {@link ScalarKernels}' bits on odd sizes, and the reference meets the documented maths:
 * W x and W^T u against double sums, a rank-1 accumulate, the unit l2 normalization (a zero vector leaves
 * dst), the cross-entropy gradient rows (summing to zero, nn's loss times rows) and a part of the rows
 * (weight / count times them, the rows outside untouched, a bad label's NaN loss), the mean and count, the
 * NaN/Inf count.
 */
class RegularizerKernelsTest {
    private static final ScalarKernels REF = new ScalarKernels();
    private static final Kernels[] HOSTS = {new VectorKernels(1), new VectorKernels(3)};

    private static float[] randn(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    @Test
    void matrixOps_matchDoubleSums_andEveryHostBitForBit() {
        Random rnd = new Random(3);
        for (int[] rc : new int[][]{{1, 1}, {3, 7}, {17, 33}}) {
            int rows = rc[0], cols = rc[1];
            float[] w = randn(rnd, rows * cols), x = randn(rnd, cols), u = randn(rnd, rows), g = randn(rnd, rows * cols);
            float[] y = new float[rows], z = new float[cols], gw = g.clone();
            REF.matVec(y, w, x, rows, cols);
            REF.matTVec(z, w, u, rows, cols);
            REF.outerAccumulate(gw, 0.5f, u, x, rows, cols);
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int c = 0; c < cols; c++) {
                    s += (double) w[r * cols + c] * x[c];
                    assertEquals(g[r * cols + c] + 0.5f * u[r] * x[c], gw[r * cols + c], 0, "outer " + r + "," + c);
                }
                assertEquals((float) s, y[r], 0, "W x row " + r);
            }
            for (int c = 0; c < cols; c++) {
                double s = 0;
                for (int r = 0; r < rows; r++) {
                    s += (double) u[r] * w[r * cols + c];
                }
                assertEquals((float) s, z[c], 1e-6 * (1 + Math.abs(s)), "W^T u column " + c);
            }
            for (Kernels k : HOSTS) {
                float[] y2 = new float[rows], z2 = new float[cols], gw2 = g.clone();
                k.matVec(y2, w, x, rows, cols);
                k.matTVec(z2, w, u, rows, cols);
                k.outerAccumulate(gw2, 0.5f, u, x, rows, cols);
                assertArrayEquals(y, y2, k.name());
                assertArrayEquals(z, z2, k.name());
                assertArrayEquals(gw, gw2, k.name());
            }
        }
    }

    @Test
    void normalizeAndRowOps_unitNorm_zeroKept_andEveryHostBitForBit() {
        Random rnd = new Random(4);
        float[] a = randn(rnd, 33), dst = randn(rnd, 33), keep = dst.clone();
        REF.normalizeL2(dst, a, 33);
        double n = 0;
        for (float v : dst) {
            n += (double) v * v;
        }
        assertEquals(1, Math.sqrt(n), 1e-6, "unit norm");
        float[] before = keep.clone();
        REF.normalizeL2(keep, new float[33], 33);
        assertArrayEquals(before, keep, "a zero vector leaves dst");
        float[] b = randn(rnd, 33), dots = new float[4];
        REF.dotRows(dots, 1, a, b, 3, 11);
        REF.innerProduct(dots, 0, a, b, 33);
        assertEquals(dots[1] + dots[2] + dots[3], dots[0], 1e-5, "rows add up to the whole inner product");
        for (Kernels k : HOSTS) {
            float[] d2 = randn(new Random(4), 33), dots2 = new float[4], out1 = new float[33], out2 = new float[33];
            k.normalizeL2(d2, a, 33);
            assertArrayEquals(dst, d2, k.name());
            k.dotRows(dots2, 1, a, b, 3, 11);
            k.innerProduct(dots2, 0, a, b, 33);
            assertArrayEquals(dots, dots2, k.name());
            REF.addScaled(out1, a, -0.3f, b, 33);
            k.addScaled(out2, a, -0.3f, b, 33);
            assertArrayEquals(out1, out2, k.name() + " addScaled");
            REF.scaleDouble(out1, 1.0 / 3, a, 33);
            k.scaleDouble(out2, 1.0 / 3, a, 33);
            assertArrayEquals(out1, out2, k.name() + " scaleDouble");
            REF.qPowerGrad(out1, a, 0.7, 3, 33);
            k.qPowerGrad(out2, a, 0.7, 3, 33);
            assertArrayEquals(out1, out2, k.name() + " qPowerGrad");
        }
    }

    @Test
    void crossEntropyRowsAndParts_meetTheirDefinitions() {
        Random rnd = new Random(5);
        int rows = 5, k = 7;
        float[] z = randn(rnd, rows * k);
        int[] y = {0, 6, 3, 3, 1};
        float[] s = new float[rows * k], nn = new float[rows * k];
        REF.softmaxGradRows(s, z, y, rows, k);
        SoftmaxCrossEntropy.lossAndGradient(new Tensor(Shape.features(rows, k), z.clone()), y, nn);
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += s[r * k + j];
                assertEquals(nn[r * k + j] * rows, s[r * k + j], 0, "nn's gradient times rows at " + r + "," + j);
            }
            assertEquals(0, sum, 1e-6, "softmax - onehot sums to zero in row " + r);
        }
        float[] grad = randn(rnd, rows * k), untouched = grad.clone(), loss = new float[rows], correct = new float[rows];
        int[] part = {6, 3, 9}; // rows 1..3, the last label bad
        REF.softmaxXentPart(grad, loss, correct, z, part, 1, 3, k, 0.5f);
        for (int j = 0; j < k; j++) {
            assertEquals(untouched[j], grad[j], 0, "row 0 outside the part");
            assertEquals(untouched[4 * k + j], grad[4 * k + j], 0, "row 4 outside the part");
            assertEquals(0.5f * s[k + j] / rows / 3 * rows, grad[k + j], 1e-6, "row 1: weight / count (p - onehot)");
        }
        assertTrue(Float.isNaN(loss[3]), "a bad label's loss is NaN");
        assertTrue(loss[1] > 0 && loss[2] > 0, "cross-entropy losses are positive");
        float[] out = new float[2], counts = new float[2];
        REF.meanAndCountPart(out, 0, loss, correct, 1, 2);
        assertEquals((float) ((loss[1] + (double) loss[2]) / 2), out[0], 0, "mean of the part's losses");
        assertEquals(correct[1] + correct[2], out[1], 0, "count of the part's correct rows");
        REF.countNonFinite(counts, 1, new float[]{1, Float.NaN, Float.NEGATIVE_INFINITY, 2}, 4);
        assertEquals(2, counts[1], 0, "NaN and -inf counted");
        for (Kernels h : HOSTS) {
            float[] s2 = new float[rows * k], g2 = untouched.clone(), l2 = new float[rows], c2 = new float[rows];
            h.softmaxGradRows(s2, z, y, rows, k);
            h.softmaxXentPart(g2, l2, c2, z, part, 1, 3, k, 0.5f);
            assertArrayEquals(s, s2, h.name());
            assertArrayEquals(grad, g2, h.name());
            assertArrayEquals(loss, l2, h.name());
            assertArrayEquals(correct, c2, h.name());
            float[] hs = new float[rows * k], hs2 = new float[rows * k];
            REF.softmaxHessianRows(hs, s, z, y, rows, k, 0.25);
            h.softmaxHessianRows(hs2, s, z, y, rows, k, 0.25);
            assertArrayEquals(hs, hs2, h.name() + " softmaxHessianRows");
        }
    }
}
