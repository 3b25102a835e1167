package dev.opnorm.gpu;

import static dev.opnorm.gpu.OpenClTesting.assertClose;
import static dev.opnorm.gpu.OpenClTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The training kernels (softmax cross-entropy rows, mean and count, non-finite count) and BatchNorm's
 * coefficient / running-statistics kernels against their Java twins, and the twins against the host
 * implementations they mirror (SoftmaxCrossEntropy). The optimizer kernels are checked against the host
 * optimizers themselves in {@code net.OptimizerOnDeviceTest}.
 */
class TrainingKernelsTest {
    private final OpenCl cl = OpenClTesting.runtime();
    private final OpenClOps ops = cl.ops();

    @Test
    void softmaxXent_matchesTwinAndHostLoss_withBadLabelAsNaN() {
        Random rnd = new Random(51);
        int n = 37, k = 10;
        float[] z = randn(rnd, n * k);
        for (int i = 0; i < z.length; i++) {
            z[i] *= 20f; // large logits: the max subtraction matters
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(k);
        }
        float[] grad = new float[n * k], loss = new float[n], correct = new float[n], out = new float[2];
        for (int i = 0; i < n; i++) {
            TrainingTwins.softmaxXentRowAt(i, grad, loss, correct, z, labels, n, k);
        }
        TrainingTwins.meanAndCount(out, loss, correct, n);
        try (DeviceTensor dz = DeviceTensor.of(cl, z); DeviceInts dl = DeviceInts.of(cl, labels);
             DeviceTensor dg = DeviceTensor.allocate(cl, n * k); DeviceTensor dloss = DeviceTensor.allocate(cl, n);
             DeviceTensor dc = DeviceTensor.allocate(cl, n); DeviceTensor dout = DeviceTensor.allocate(cl, 2)) {
            ops.softmaxXentRows(dg, dloss, dc, dz, dl, n, k);
            ops.meanAndCount(dout, dloss, dc, n);
            assertClose(grad, dg.download(), n * k, GpuTolerances.TWIN_EXP_LOG, 1, "xent grad opencl vs twin");
            assertClose(loss, dloss.download(), n, GpuTolerances.TWIN_EXP_LOG, 1, "xent loss opencl vs twin");
            assertClose(correct, dc.download(), n, GpuTolerances.TWIN_F32, 1, "correct opencl vs twin");
            assertClose(out, dout.download(), 2, GpuTolerances.TWIN_EXP_LOG, 1, "mean/count opencl vs twin");

            labels[3] = k; // out of range: NaN loss, reported by the caller
            dl.upload(labels);
            ops.softmaxXentRows(dg, dloss, dc, dz, dl, n, k);
            ops.meanAndCount(dout, dloss, dc, n);
            assertTrue(Float.isNaN(dout.readScalar(0)));
        }
        labels[3] = 0;
        float[] hostGrad = new float[n * k];
        double hostLoss = SoftmaxCrossEntropy.lossAndGradient(Tensor.of(n, k, 1, 1, z), labels, hostGrad);
        for (int i = 0; i < n; i++) {
            TrainingTwins.softmaxXentRowAt(i, grad, loss, correct, z, labels, n, k);
        }
        TrainingTwins.meanAndCount(out, loss, correct, n);
        assertEquals(hostLoss, out[0], 1e-6 * hostLoss, "twin mean loss vs SoftmaxCrossEntropy");
        assertClose(hostGrad, grad, n * k, 0, 1, "twin gradient vs SoftmaxCrossEntropy");
        int count = 0;
        for (int i = 0; i < n; i++) {
            int arg = 0;
            for (int j = 1; j < k; j++) {
                arg = z[i * k + j] > z[i * k + arg] ? j : arg;
            }
            count += arg == labels[i] ? 1 : 0;
        }
        assertEquals(count, (int) out[1], "correct count");
    }

    @Test
    void bnCoefsAndRunningUpdate_matchTwins_withAndWithoutAffine() {
        Random rnd = new Random(53);
        int c = 19;
        float[] mean = randn(rnd, c), var = new float[c], gamma = randn(rnd, c), beta = randn(rnd, c);
        for (int i = 0; i < c; i++) {
            var[i] = 0.1f + rnd.nextFloat() * 3;
        }
        for (boolean affine : new boolean[]{true, false}) {
            float[] inv = new float[c], nmi = new float[c], scale = new float[c], shift = new float[c];
            for (int ch = 0; ch < c; ch++) {
                TrainingTwins.bnCoefsAt(ch, inv, nmi, scale, shift, mean, var, affine ? gamma : null,
                        affine ? beta : null, BatchNorm2d.EPS);
            }
            try (DeviceTensor dm = DeviceTensor.of(cl, mean); DeviceTensor dv = DeviceTensor.of(cl, var);
                 DeviceTensor dgm = DeviceTensor.of(cl, gamma); DeviceTensor dbt = DeviceTensor.of(cl, beta);
                 DeviceTensor a = DeviceTensor.allocate(cl, c); DeviceTensor b = DeviceTensor.allocate(cl, c);
                 DeviceTensor s = DeviceTensor.allocate(cl, c); DeviceTensor t = DeviceTensor.allocate(cl, c)) {
                ops.bnCoefs(a, b, s, t, dm, dv, affine ? dgm : null, affine ? dbt : null, BatchNorm2d.EPS, c);
                assertClose(inv, a.download(), c, GpuTolerances.TWIN_F32, 1, "inv affine=" + affine);
                assertClose(nmi, b.download(), c, GpuTolerances.TWIN_F32, 1, "-mean*inv affine=" + affine);
                assertClose(scale, s.download(), c, GpuTolerances.TWIN_F32, 1, "scale affine=" + affine);
                assertClose(shift, t.download(), c, GpuTolerances.TWIN_F32, 1, "shift affine=" + affine);
            }
        }
        float[] rm = randn(rnd, c), rv = var.clone();
        float[] wantM = rm.clone(), wantV = rv.clone();
        for (int ch = 0; ch < c; ch++) {
            TrainingTwins.bnRunningUpdateAt(ch, wantM, wantV, mean, var, BatchNorm2d.MOMENTUM, 50.0 / 49);
        }
        try (DeviceTensor drm = DeviceTensor.of(cl, rm); DeviceTensor drv = DeviceTensor.of(cl, rv);
             DeviceTensor dm = DeviceTensor.of(cl, mean); DeviceTensor dv = DeviceTensor.of(cl, var)) {
            ops.bnRunningUpdate(drm, drv, dm, dv, BatchNorm2d.MOMENTUM, 50.0 / 49, c);
            assertClose(wantM, drm.download(), c, GpuTolerances.TWIN_F32, 1, "running mean");
            assertClose(wantV, drv.download(), c, GpuTolerances.TWIN_F32, 1, "running var");
        }
    }

    @Test
    void countNonFinite_matchesTwin_forNaNInfAndFinite() {
        int len = 1000;
        float[] x = randn(new Random(56), len);
        float[] out = new float[3];
        try (DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor dout = DeviceTensor.allocate(cl, 3)) {
            ops.countNonFinite(dout, 0, dx, len);
            x[7] = Float.NaN;
            x[999] = Float.NEGATIVE_INFINITY;
            x[500] = Float.POSITIVE_INFINITY;
            dx.upload(x);
            ops.countNonFinite(dout, 1, dx, len);
            ops.countNonFinite(dout, 2, dx, 8); // only x[7] in range
            dout.download(out, 0, 0, 3);
        }
        assertEquals(0f, out[0], "all finite");
        assertEquals(TrainingTwins.countNonFinite(x, len), out[1], "NaN, -Inf, +Inf");
        assertEquals(3f, out[1], "NaN, -Inf, +Inf");
        assertEquals(1f, out[2], "prefix of 8");
    }

    /** Two parts of one logit matrix with their own weights, and the range copy that builds [x; x*]. */
    @Test
    void softmaxXentPartAndCopyRange_matchTwins() {
        Random rnd = new Random(57);
        int rows = 11, k = 10, n = 7, adv = rows - n;
        float[] z = randn(rnd, rows * k);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(k);
        }
        float[] grad = new float[rows * k], loss = new float[rows], correct = new float[rows], out = new float[4];
        for (int i = 0; i < n; i++) {
            TrainingTwins.softmaxXentPartAt(i, grad, loss, correct, z, labels, 0, n, k, 0.5f);
        }
        for (int i = 0; i < adv; i++) {
            TrainingTwins.softmaxXentPartAt(i, grad, loss, correct, z, labels, n, adv, k, 2f);
        }
        TrainingTwins.meanAndCountPart(out, 0, loss, correct, 0, n);
        TrainingTwins.meanAndCountPart(out, 2, loss, correct, n, adv);
        try (DeviceTensor dz = DeviceTensor.of(cl, z); DeviceInts dl = DeviceInts.of(cl, labels);
             DeviceTensor dg = DeviceTensor.allocate(cl, rows * k); DeviceTensor dloss = DeviceTensor.allocate(cl, rows);
             DeviceTensor dc = DeviceTensor.allocate(cl, rows); DeviceTensor dout = DeviceTensor.allocate(cl, 4);
             DeviceTensor cat = DeviceTensor.allocate(cl, 2 * rows * k)) {
            ops.softmaxXentPart(dg, dloss, dc, dz, dl, 0, n, k, 0.5f);
            ops.softmaxXentPart(dg, dloss, dc, dz, dl, n, adv, k, 2f);
            ops.meanAndCountPart(dout, 0, dloss, dc, 0, n);
            ops.meanAndCountPart(dout, 2, dloss, dc, n, adv);
            assertClose(grad, dg.download(), rows * k, GpuTolerances.TWIN_EXP_LOG, 1, "part grad opencl vs twin");
            assertClose(loss, dloss.download(), rows, GpuTolerances.TWIN_EXP_LOG, 1, "part loss opencl vs twin");
            assertClose(out, dout.download(), 4, GpuTolerances.TWIN_EXP_LOG, 1, "part means opencl vs twin");
            ops.copy(cat, dz, rows * k);
            ops.copyRange(cat, rows * k, dg, 0, rows * k);
            float[] both = cat.download(), g = dg.download();
            for (int i = 0; i < rows * k; i++) {
                assertEquals(z[i], both[i], "first half");
                assertEquals(g[i], both[rows * k + i], "second half");
            }
        }
        // weight 1 on the whole matrix is softmax_xent_rows
        float[] g1 = new float[n * k], l1 = new float[n], c1 = new float[n], g2 = new float[n * k];
        for (int i = 0; i < n; i++) {
            TrainingTwins.softmaxXentRowAt(i, g1, l1, c1, z, labels, n, k);
            TrainingTwins.softmaxXentPartAt(i, g2, l1, c1, z, labels, 0, n, k, 1f);
        }
        assertClose(g1, g2, n * k, 0, 1, "part with weight 1 vs rows");
    }
}
