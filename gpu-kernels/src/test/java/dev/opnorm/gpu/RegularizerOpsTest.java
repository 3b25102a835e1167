package dev.opnorm.gpu;

import static dev.opnorm.gpu.OpenClTesting.assertClose;
import static dev.opnorm.gpu.OpenClTesting.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.opnorm.nn.kernels.ScalarKernels;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The regularizers' and training step's {@code Ops} methods on {@link OpenClOps} against {@link ScalarKernels}
 * (the host reference) on odd sizes, to 1e-4 relative: matrix-vector products both ways, the rank-1 gradient
 * (accumulated), the l2 normalization (a zero vector left as it is), the inner product into an offset, and
 * the data-dependent regularizers' row ops (a + s b, double scaling, q-power gradients, row dot products, the
 * softmax cross-entropy's gradient and Hessian rows).
 */
class RegularizerOpsTest {
    private static final double TOL = 1e-4;
    private static final int[][] SIZES = {{1, 1}, {3, 7}, {17, 5}, {33, 129}};
    private final OpenCl cl = OpenClTesting.runtime();
    private final OpenClOps ops = cl.ops();
    private final ScalarKernels ref = new ScalarKernels();

    @Test
    void matVecAndTranspose_matchHost() {
        Random rnd = new Random(5);
        for (int[] rc : SIZES) {
            int rows = rc[0], cols = rc[1];
            float[] w = randn(rnd, rows * cols), x = randn(rnd, cols), u = randn(rnd, rows);
            float[] y = new float[rows], z = new float[cols];
            ref.matVec(y, w, x, rows, cols);
            ref.matTVec(z, w, u, rows, cols);
            try (DeviceTensor dw = DeviceTensor.of(cl, w);
                 DeviceTensor dx = DeviceTensor.of(cl, x);
                 DeviceTensor du = DeviceTensor.of(cl, u);
                 DeviceTensor dy = DeviceTensor.allocate(cl, rows);
                 DeviceTensor dz = DeviceTensor.allocate(cl, cols)) {
                ops.matVec(dy, dw, dx, rows, cols);
                ops.matTVec(dz, dw, du, rows, cols);
                assertClose(y, dy.download(), rows, TOL, 1, "matVec " + rows + "x" + cols);
                assertClose(z, dz.download(), cols, TOL, 1, "matTVec " + rows + "x" + cols);
            }
        }
    }

    @Test
    void outerAccumulate_addsToGradient() {
        Random rnd = new Random(6);
        for (int[] rc : SIZES) {
            int rows = rc[0], cols = rc[1];
            float[] g = randn(rnd, rows * cols), u = randn(rnd, rows), v = randn(rnd, cols);
            float[] want = g.clone();
            ref.outerAccumulate(want, -0.7f, u, v, rows, cols);
            try (DeviceTensor dg = DeviceTensor.of(cl, g);
                 DeviceTensor du = DeviceTensor.of(cl, u);
                 DeviceTensor dv = DeviceTensor.of(cl, v)) {
                ops.outerAccumulate(dg, -0.7f, du, dv, rows, cols);
                assertClose(want, dg.download(), rows * cols, TOL, 1, "outerAccumulate " + rows + "x" + cols);
            }
        }
    }

    @Test
    void normalizeL2AndInnerProduct_matchHost_zeroVectorUnchanged() {
        Random rnd = new Random(7);
        for (int len : new int[]{1, 7, 300, 1027}) {
            float[] a = randn(rnd, len), b = randn(rnd, len), dst = randn(rnd, len);
            float[] want = dst.clone(), dot = new float[3];
            ref.normalizeL2(want, a, len);
            ref.innerProduct(dot, 2, a, b, len);
            float[] zero = new float[len];
            try (DeviceTensor da = DeviceTensor.of(cl, a);
                 DeviceTensor db = DeviceTensor.of(cl, b);
                 DeviceTensor dd = DeviceTensor.of(cl, dst);
                 DeviceTensor dz = DeviceTensor.of(cl, zero);
                 DeviceTensor keep = DeviceTensor.of(cl, dst);
                 DeviceTensor dout = DeviceTensor.allocate(cl, 3)) {
                ops.normalizeL2(dd, da, len);
                assertClose(want, dd.download(), len, TOL, 1, "normalizeL2 of " + len);
                ops.normalizeL2(keep, dz, len);
                assertArrayEquals(dst, keep.download(), "a zero vector leaves dst as it is (" + len + ")");
                ops.normalizeL2(da, da, len);
                assertClose(want, da.download(), len, TOL, 1, "normalizeL2 in place of " + len);
                ops.innerProduct(dout, 2, db, dd, len);
                float[] got = dout.download();
                float[] wantDot = new float[3];
                ref.innerProduct(wantDot, 2, b, want, len);
                assertClose(new float[]{wantDot[2]}, new float[]{got[2]}, 1, TOL, len, "innerProduct of " + len);
            }
        }
    }

    @Test
    void elementwiseRowOps_matchHost() {
        Random rnd = new Random(8);
        for (int len : new int[]{1, 7, 33, 1027}) {
            float[] a = randn(rnd, len), b = randn(rnd, len);
            float[] sum = new float[len], dbl = new float[len], q2 = new float[len], q3 = new float[len];
            ref.addScaled(sum, a, -0.3f, b, len);
            ref.scaleDouble(dbl, 1.0 / 3, a, len);
            ref.qPowerGrad(q2, a, 0.7, 2, len);
            ref.qPowerGrad(q3, a, 0.7, 3, len);
            try (DeviceTensor da = DeviceTensor.of(cl, a);
                 DeviceTensor db = DeviceTensor.of(cl, b);
                 DeviceTensor out = DeviceTensor.allocate(cl, len);
                 DeviceTensor inPlace = DeviceTensor.of(cl, b)) {
                ops.addScaled(out, da, -0.3f, db, len);
                assertClose(sum, out.download(), len, TOL, 1, "addScaled of " + len);
                ops.addScaled(inPlace, da, -0.3f, inPlace, len);
                assertClose(sum, inPlace.download(), len, TOL, 1, "addScaled into b of " + len);
                ops.scaleDouble(out, 1.0 / 3, da, len);
                assertClose(dbl, out.download(), len, TOL, 1, "scaleDouble of " + len);
                ops.qPowerGrad(out, da, 0.7, 2, len);
                assertClose(q2, out.download(), len, TOL, 1, "qPowerGrad q=2 of " + len);
                ops.qPowerGrad(out, da, 0.7, 3, len);
                assertClose(q3, out.download(), len, TOL, 1, "qPowerGrad q=3 of " + len);
            }
        }
    }

    @Test
    void dotRowsAndSoftmaxRows_matchHost() {
        Random rnd = new Random(9);
        for (int[] rc : SIZES) {
            int rows = rc[0], cols = Math.max(2, rc[1]);
            float[] a = randn(rnd, rows * cols), b = randn(rnd, rows * cols), w = randn(rnd, rows * cols);
            int[] labels = new int[rows];
            for (int r = 0; r < rows; r++) {
                labels[r] = rnd.nextInt(cols);
            }
            float[] dots = new float[rows + 1], grad = new float[rows * cols], hess = new float[rows * cols];
            ref.dotRows(dots, 1, a, b, rows, cols);
            ref.softmaxGradRows(grad, a, labels, rows, cols);
            ref.softmaxHessianRows(hess, grad, w, labels, rows, cols, 0.25);
            try (DeviceTensor da = DeviceTensor.of(cl, a);
                 DeviceTensor db = DeviceTensor.of(cl, b);
                 DeviceTensor dw = DeviceTensor.of(cl, w);
                 DeviceInts dl = DeviceInts.of(cl, labels);
                 DeviceTensor dd = DeviceTensor.allocate(cl, rows + 1);
                 DeviceTensor dg = DeviceTensor.allocate(cl, rows * cols);
                 DeviceTensor dh = DeviceTensor.allocate(cl, rows * cols)) {
                ops.dotRows(dd, 1, da, db, rows, cols);
                float[] gotDots = dd.download();
                for (int r = 0; r < rows; r++) {
                    assertClose(new float[]{dots[1 + r]}, new float[]{gotDots[1 + r]}, 1, TOL, cols, "dotRows row " + r);
                }
                ops.softmaxGradRows(dg, da, dl, rows, cols);
                assertClose(grad, dg.download(), rows * cols, TOL, 1, "softmaxGradRows " + rows + "x" + cols);
                ops.softmaxHessianRows(dh, dg, dw, dl, rows, cols, 0.25);
                assertClose(hess, dh.download(), rows * cols, TOL, 1, "softmaxHessianRows " + rows + "x" + cols);
            }
        }
    }
}
