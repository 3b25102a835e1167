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
 * The training kernels (softmax cross-entropy rows, mean and count, SGD update) and BatchNorm's
 * coefficient / running-statistics kernels against their Java twins, and the twins against the host
 * implementations they mirror (SoftmaxCrossEntropy).
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
    void sgdUpdate_matchesTwin_forMomentumNesterovAndPlain() {
        Random rnd = new Random(52);
        int len = 333;
        float[] p0 = randn(rnd, len), g = randn(rnd, len);
        float[][] settings = {{5e-4f, 0.9f, 1f, 0}, {0f, 0.9f, 0.8f, 0}, {1e-3f, 0.9f, 1f, 1}, {0f, 0f, 1f, 0}};
        for (float[] s : settings) {
            boolean nesterov = s[3] != 0, hasMomentum = s[1] != 0;
            float[] p = p0.clone(), buf = new float[len];
            try (DeviceTensor dp = DeviceTensor.of(cl, p0); DeviceTensor dg = DeviceTensor.of(cl, g);
                 DeviceTensor db = DeviceTensor.allocate(cl, len)) {
                for (int step = 0; step < 3; step++) {
                    for (int j = 0; j < len; j++) {
                        TrainingTwins.sgdUpdateAt(j, p, g, buf, s[0], s[1], s[2], -0.1f, hasMomentum, step == 0, nesterov);
                    }
                    ops.sgdUpdate(dp, dg, hasMomentum ? db : null, s[0], s[1], s[2], -0.1f, step == 0, nesterov, len);
                }
                String what = "sgd wd=" + s[0] + " momentum=" + s[1] + " keep=" + s[2] + " nesterov=" + nesterov;
                assertClose(p, dp.download(), len, GpuTolerances.TWIN_F32, 1, what + " p");
                if (hasMomentum) {
                    assertClose(buf, db.download(), len, GpuTolerances.TWIN_F32, 1, what + " buffer");
                }
            }
        }
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
}
