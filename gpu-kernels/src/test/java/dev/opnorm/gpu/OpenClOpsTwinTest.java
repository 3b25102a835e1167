package dev.opnorm.gpu;

import static dev.opnorm.gpu.OpenClTesting.assertClose;
import static dev.opnorm.gpu.OpenClTesting.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;

import dev.opnorm.nn.kernels.PoolDims;
import dev.opnorm.nn.kernels.ScalarKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * gemm, elementwise, BatchNorm and pooling kernels against their Java twins (exactly) and against
 * ScalarKernels (to rounding), through {@link OpenClKernels}, on odd sizes.
 */
class OpenClOpsTwinTest {
    private final ScalarKernels ref = new ScalarKernels();
    private final OpenCl cl = OpenClTesting.runtime();
    private final OpenClKernels k = new OpenClKernels(cl);
    private final int wg = cl.reduceWorkGroup();

    @Test
    void gemm_matchesTwinAndScalar_forEveryTransposeOffsetAndBeta() {
        Random rnd = new Random(21);
        int[][] sizes = {{1, 1, 1}, {7, 5, 3}, {70, 67, 33}, {3, 130, 17}, {65, 2, 0}};
        int checked = 0;
        for (int[] s : sizes) {
            int m = s[0], n = s[1], kk = s[2];
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                for (float beta : new float[]{0f, 0.5f}) {
                    int aOff = 3, bOff = 2, cOff = 5;
                    int lda = (ta ? m : kk) + 2, ldb = (tb ? kk : n) + 1, ldc = n + 3;
                    float[] a = randn(rnd, aOff + (ta ? kk : m) * lda + 1);
                    float[] b = randn(rnd, bOff + (tb ? n : kk) * ldb + 1);
                    float[] c0 = randn(rnd, cOff + m * ldc + 2);
                    if (beta == 0f) {
                        c0[cOff] = Float.NaN; // beta == 0 ignores C, NaN included
                    }
                    float[] want = c0.clone(), twin = c0.clone(), got = c0.clone();
                    ref.gemm(ta, tb, m, n, kk, 1.5f, a, aOff, lda, b, bOff, ldb, beta, want, cOff, ldc);
                    GemmTwins.gemm(ta, tb, m, n, kk, 1.5f, a, aOff, lda, b, bOff, ldb, beta, twin, cOff, ldc);
                    k.gemm(ta, tb, m, n, kk, 1.5f, a, aOff, lda, b, bOff, ldb, beta, got, cOff, ldc);
                    String what = "gemm " + m + "x" + n + "x" + kk + " transA=" + ta + " transB=" + tb + " beta=" + beta;
                    assertClose(want, twin, want.length, GpuTolerances.BACKEND_F32, kk + 2, what + " twin vs scalar");
                    assertClose(twin, got, want.length, GpuTolerances.TWIN_F32, 1, what + " opencl vs twin");
                    checked++;
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals(sizes.length * 8, checked);
    }

    @Test
    void elementwise_matchTwinAndScalar_includingAliases() {
        Random rnd = new Random(22);
        int len = 1037;
        float[] x = randn(rnd, len), in = randn(rnd, len), y0 = randn(rnd, len);
        x[3] = 0f; // ReLU'(0) = 0
        x[4] = -0f;

        float[] want = new float[len], got = new float[len], twin = new float[len];
        try (DeviceTensor filled = DeviceTensor.allocate(cl, len)) {
            cl.ops().fill(filled, -2.5f, len);
            for (int i = 0; i < len; i++) {
                ElementwiseTwins.fillAt(i, twin, -2.5f);
            }
            assertClose(twin, filled.download(), len, 0, 1, "fill twin");
        }
        ref.relu(want, x, len);
        k.relu(got, x, len);
        for (int i = 0; i < len; i++) {
            ElementwiseTwins.reluAt(i, twin, x);
        }
        assertClose(want, got, len, 0, 1, "relu");
        assertClose(twin, got, len, 0, 1, "relu twin");
        float[] inPlace = x.clone();
        k.relu(inPlace, inPlace, len);
        assertClose(want, inPlace, len, 0, 1, "relu in place");

        ref.reluMask(want, in, x, len);
        k.reluMask(got, in, x, len);
        for (int i = 0; i < len; i++) {
            ElementwiseTwins.reluMaskAt(i, twin, in, x);
        }
        assertClose(want, got, len, 0, 1, "reluMask");
        assertClose(twin, got, len, 0, 1, "reluMask twin");
        float[] maskInPlace = in.clone();
        k.reluMask(maskInPlace, maskInPlace, x, len);
        assertClose(want, maskInPlace, len, 0, 1, "reluMask out aliasing in");

        want = y0.clone();
        got = y0.clone();
        twin = y0.clone();
        ref.axpy(want, -0.7f, x, len);
        k.axpy(got, -0.7f, x, len);
        for (int i = 0; i < len; i++) {
            ElementwiseTwins.axpyAt(i, twin, -0.7f, x);
        }
        assertClose(want, got, len, 0, 1, "axpy");
        assertClose(twin, got, len, 0, 1, "axpy twin");

        want = new float[len];
        got = new float[len];
        ref.add(want, x, in, len);
        k.add(got, x, in, len);
        assertClose(want, got, len, 0, 1, "add");
        float[] addAlias = x.clone();
        k.add(addAlias, addAlias, in, len);
        assertClose(want, addAlias, len, 0, 1, "add y aliasing a");
        float[] twice = new float[len], twiceRef = new float[len];
        k.add(twice, in, in, len);
        ref.add(twiceRef, in, in, len);
        assertClose(twiceRef, twice, len, 0, 1, "add a aliasing b");

        ref.scale(want, 3.25f, x, len);
        k.scale(got, 3.25f, x, len);
        assertClose(want, got, len, 0, 1, "scale");
        for (int i = 0; i < len; i++) {
            ElementwiseTwins.addAt(i, twin, x, in);
        }
        ref.add(want, x, in, len);
        assertClose(want, twin, len, 0, 1, "add twin");
        for (int i = 0; i < len; i++) {
            ElementwiseTwins.scaleAt(i, twin, 3.25f, x);
        }
        ref.scale(want, 3.25f, x, len);
        assertClose(want, twin, len, 0, 1, "scale twin");
    }

    @Test
    void rowOps_matchTwinAndScalar() {
        Random rnd = new Random(23);
        int m = 37, n = 13;
        float[] c0 = randn(rnd, m * n), bias = randn(rnd, n), gb0 = randn(rnd, n);
        float[] want = c0.clone(), got = c0.clone(), twin = c0.clone();
        ref.addRowBias(want, bias, m, n);
        k.addRowBias(got, bias, m, n);
        for (int e = 0; e < m * n; e++) {
            ElementwiseTwins.addRowBiasAt(e, twin, bias, n);
        }
        assertClose(want, got, m * n, 0, 1, "addRowBias");
        assertClose(twin, got, m * n, 0, 1, "addRowBias twin");

        float[] gw = gb0.clone(), gg = gb0.clone(), gt = gb0.clone();
        ref.sumRowsAccumulate(gw, c0, m, n);
        k.sumRowsAccumulate(gg, c0, m, n);
        for (int j = 0; j < n; j++) {
            ElementwiseTwins.sumRowsAccumulateAt(j, gt, c0, m, n);
        }
        assertClose(gw, gg, n, 0, 1, "sumRowsAccumulate (the reference's order)");
        assertClose(gt, gg, n, 0, 1, "sumRowsAccumulate twin");
    }

    @Test
    void dotRowsAndNormalize_matchTwinAndDoubleReference() {
        Random rnd = new Random(24);
        int rows = 5, cols = 1031;
        float[] a = randn(rnd, rows * cols), b = randn(rnd, rows * cols);
        Arrays.fill(a, 2 * cols, 3 * cols, 0f); // a zero row stays zero when normalized
        try (DeviceTensor da = DeviceTensor.of(cl, a); DeviceTensor db = DeviceTensor.of(cl, b);
             DeviceTensor out = DeviceTensor.allocate(cl, rows + 2); DeviceTensor y = DeviceTensor.allocate(cl, rows * cols)) {
            cl.ops().dotRows(out, 2, da, db, rows, cols);
            float[] got = out.download();
            float[] twin = new float[rows + 2];
            for (int r = 0; r < rows; r++) {
                ElementwiseTwins.dotRowsAt(r, wg, twin, 2, a, b, cols);
                double exact = 0;
                for (int i = 0; i < cols; i++) {
                    exact += (double) a[r * cols + i] * b[r * cols + i];
                }
                assertClose(new float[]{(float) exact}, new float[]{got[2 + r]}, 1, GpuTolerances.BACKEND_F32, cols,
                        "dotRows row " + r + " vs double");
            }
            assertClose(Arrays.copyOfRange(twin, 2, rows + 2), Arrays.copyOfRange(got, 2, rows + 2), rows,
                    GpuTolerances.TWIN_F32, 1, "dotRows twin");

            cl.ops().dotRows(out, 0, da, da, rows, cols);
            cl.ops().scaleRowsInvSqrt(y, da, out, 0, rows, cols);
            float[] ss = out.download(), normalized = y.download(), tw = new float[rows * cols];
            for (int e = 0; e < rows * cols; e++) {
                ElementwiseTwins.scaleRowsInvSqrtAt(e, tw, a, ss, 0, cols);
            }
            assertClose(tw, normalized, rows * cols, GpuTolerances.TWIN_DIV_SQRT_F32, 1, "scaleRowsInvSqrt twin");
            for (int r = 0; r < rows; r++) {
                double norm = 0;
                for (int i = 0; i < cols; i++) {
                    norm += (double) normalized[r * cols + i] * normalized[r * cols + i];
                }
                org.junit.jupiter.api.Assertions.assertEquals(r == 2 ? 0.0 : 1.0, norm, 1e-5, "row " + r + " norm");
            }
        }
    }

    @Test
    void batchNormKernels_matchTwinAndScalar() {
        Random rnd = new Random(25);
        int n = 3, c = 5, hw = 37;
        int len = n * c * hw;
        float[] x = randn(rnd, len), in = randn(rnd, len), xhat = randn(rnd, len);
        for (int i = 0; i < len; i++) {
            x[i] = 3f + 2f * x[i]; // a nonzero mean, as activations have
        }
        float[] scale = randn(rnd, c), shift = randn(rnd, c), coef = randn(rnd, c);

        float[] mw = new float[c], vw = new float[c], mg = new float[c], vg = new float[c], mt = new float[c], vt = new float[c];
        ref.channelMeanVar(mw, vw, x, n, c, hw);
        k.channelMeanVar(mg, vg, x, n, c, hw);
        for (int ch = 0; ch < c; ch++) {
            BatchNormTwins.channelMeanVarAt(ch, wg, mt, vt, x, n, c, hw);
        }
        // double accumulation: the float results agree to the last bit with the reference in practice
        assertClose(mw, mg, c, 1e-7, 1, "mean");
        assertClose(vw, vg, c, 1e-7, 1, "var");
        assertClose(mt, mg, c, GpuTolerances.TWIN_F32, 1, "mean twin");
        assertClose(vt, vg, c, GpuTolerances.TWIN_F32, 1, "var twin");

        for (float[] sh : new float[][]{shift, null}) {
            float[] want = new float[len], got = new float[len], twin = new float[len];
            ref.channelAffine(want, x, scale, sh, n, c, hw);
            k.channelAffine(got, x, scale, sh, n, c, hw);
            for (int j = 0; j < len; j++) {
                BatchNormTwins.channelAffineAt(j, twin, x, scale, sh, c, hw);
            }
            assertClose(want, got, len, 0, 1, "channelAffine shift=" + (sh != null));
            assertClose(twin, got, len, 0, 1, "channelAffine twin");
        }
        float[] inPlace = x.clone(), affWant = new float[len];
        k.channelAffine(inPlace, inPlace, scale, shift, n, c, hw);
        ref.channelAffine(affWant, x, scale, shift, n, c, hw);
        assertClose(affWant, inPlace, len, 0, 1, "channelAffine in place");

        float[] jw = new float[len], jg = new float[len], jt = new float[len];
        ref.bnTrainJacobian(jw, in, xhat, coef, n, c, hw);
        k.bnTrainJacobian(jg, in, xhat, coef, n, c, hw);
        for (int ch = 0; ch < c; ch++) {
            BatchNormTwins.bnTrainJacobianAt(ch, wg, jt, in, xhat, coef, n, c, hw);
        }
        assertClose(jw, jg, len, 1e-6, 1, "bnTrainJacobian");
        assertClose(jt, jg, len, GpuTolerances.TWIN_F32, 1, "bnTrainJacobian twin");

        float[] sa0 = randn(rnd, c), sab0 = randn(rnd, c);
        for (float[] b : new float[][]{xhat, null}) {
            float[] saw = sa0.clone(), sabw = sab0.clone(), sag = sa0.clone(), sabg = sab0.clone(),
                    sat = sa0.clone(), sabt = sab0.clone();
            ref.channelSumsAccumulate(saw, sabw, in, b, n, c, hw);
            k.channelSumsAccumulate(sag, sabg, in, b, n, c, hw);
            for (int ch = 0; ch < c; ch++) {
                BatchNormTwins.channelSumsAccumulateAt(ch, wg, sat, sabt, in, b, n, c, hw);
            }
            assertClose(saw, sag, c, 1e-7, 1, "channelSums sumA b=" + (b != null));
            assertClose(sabw, sabg, c, 1e-7, 1, "channelSums sumAB b=" + (b != null));
            assertClose(sat, sag, c, GpuTolerances.TWIN_F32, 1, "channelSums twin sumA");
            assertClose(sabt, sabg, c, GpuTolerances.TWIN_F32, 1, "channelSums twin sumAB");
            if (b == null) {
                assertArrayEquals(sab0, sabg, "sumAB untouched without b");
            }
        }
    }

    static PoolDims[] poolShapes() {
        return new PoolDims[]{
                new PoolDims(2, 3, 7, 5, 2, 2, 2, 0),
                new PoolDims(1, 2, 9, 11, 3, 3, 2, 1),
                new PoolDims(2, 1, 6, 7, 3, 2, 1, 1), // overlapping windows: a gx element gathers from several
                new PoolDims(1, 1, 1, 1, 1, 1, 1, 0),
                new PoolDims(3, 2, 8, 8, 4, 4, 4, 0),
        };
    }

    @ParameterizedTest
    @MethodSource("poolShapes")
    void pooling_matchTwinAndScalar_includingTiesAndNaN(PoolDims d) {
        Random rnd = new Random(26);
        float[] x = randn(rnd, d.inputSize());
        for (int i = 0; i < x.length; i += 5) {
            x[i] = 0.5f; // ties: the first in row-major order wins
        }
        if (x.length > 7) {
            x[7] = Float.NaN; // NaN propagates
        }
        int out = d.outputSize(), inp = d.inputSize();
        float[] yw = new float[out], yg = new float[out], yt = new float[out];
        int[] aw = new int[out], ag = new int[out], at = new int[out];
        ref.maxPool2dForward(yw, aw, x, d);
        k.maxPool2dForward(yg, ag, x, d);
        for (int o = 0; o < out; o++) {
            PoolingTwins.maxForwardAt(o, yt, at, x, d);
        }
        assertClose(yw, yg, out, 0, 1, "maxPool forward " + d);
        OpenClTesting.assertSame(aw, ag, out, "maxPool argmax " + d);
        assertClose(yt, yg, out, 0, 1, "maxPool forward twin " + d);
        OpenClTesting.assertSame(at, ag, out, "maxPool argmax twin " + d);

        float[] dx = randn(rnd, inp), gy = randn(rnd, out);
        float[] dyw = new float[out], dyg = new float[out];
        ref.maxPool2dJvp(dyw, dx, aw, d);
        k.maxPool2dJvp(dyg, dx, aw, d);
        assertClose(dyw, dyg, out, 0, 1, "maxPool jvp " + d);
        float[] dyt = new float[out];
        for (int o = 0; o < out; o++) {
            PoolingTwins.maxJvpAt(o, dyt, dx, aw);
        }
        assertClose(dyt, dyg, out, 0, 1, "maxPool jvp twin " + d);

        float[] gxw = new float[inp], gxg = new float[inp], gxt = new float[inp];
        Arrays.fill(gxg, Float.NaN); // overwritten
        ref.maxPool2dVjp(gxw, gy, aw, d);
        k.maxPool2dVjp(gxg, gy, aw, d);
        for (int e = 0; e < inp; e++) {
            PoolingTwins.maxVjpAt(e, gxt, gy, aw, d);
        }
        // the gather adds in the order of the reference's scatter: identical floats
        assertClose(gxw, gxg, inp, 0, 1, "maxPool vjp " + d);
        assertClose(gxt, gxg, inp, 0, 1, "maxPool vjp twin " + d);

        float[] xf = randn(rnd, inp);
        float[] aw2 = new float[out], ag2 = new float[out], at2 = new float[out];
        ref.avgPool2dForward(aw2, xf, d);
        k.avgPool2dForward(ag2, xf, d);
        for (int o = 0; o < out; o++) {
            PoolingTwins.avgForwardAt(o, at2, xf, d);
        }
        assertClose(aw2, ag2, out, 0, 1, "avgPool forward " + d);
        assertClose(at2, ag2, out, 0, 1, "avgPool forward twin " + d);

        float[] gw2 = new float[inp], gg2 = new float[inp], gt2 = new float[inp];
        ref.avgPool2dVjp(gw2, gy, d);
        k.avgPool2dVjp(gg2, gy, d);
        for (int e = 0; e < inp; e++) {
            PoolingTwins.avgVjpAt(e, gt2, gy, d);
        }
        assertClose(gw2, gg2, inp, 0, 1, "avgPool vjp " + d);
        assertClose(gt2, gg2, inp, 0, 1, "avgPool vjp twin " + d);
    }
}
