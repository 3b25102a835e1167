package dev.opnorm.gpu.net;

import dev.opnorm.robust.train.PlacedTerms;
import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.Gradients;
import static dev.opnorm.gpu.net.NetTesting.assertNear;
import static dev.opnorm.gpu.net.NetTesting.maxAbs;
import static dev.opnorm.gpu.net.NetTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.reg.InputGradient;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Input-gradient regularization on the device against the host ({@code Objective.regularized(new
 * InputGradient(lambda))} + {@code Sgd} on ScalarKernels): one step of the 7-layer CNN at width 1/16 (loss,
 * penalty, every parameter and running statistic to 1e-4), the transfers of a step, and its errors.
 */
class InputGradientOnDeviceTest {
    private static final int BATCH = 3;
    private static final long STEP_SEED = 79L;
    private static final Sgd.Config SGD = Sgd.Config.of(0.05).withMomentum(0.9).withWeightDecay(5e-4);

    /** The logit-Hessian kernel against the formula in double, and its aliasing error. */
    @Test
    void softmaxHessianRows_matchesFormula_andRejectsAliasing() {
        OpenCl cl = NetTesting.runtime();
        int rows = 5, k = 7;
        Random rnd = new Random(53);
        float[] s = new float[rows * k], w = randn(rnd, rows * k);
        int[] y = {0, 6, 3, 3, 1};
        for (int r = 0; r < rows; r++) { // s = softmax - onehot of random logits
            double sum = 0;
            double[] e = new double[k];
            for (int j = 0; j < k; j++) {
                e[j] = Math.exp(rnd.nextGaussian());
                sum += e[j];
            }
            for (int j = 0; j < k; j++) {
                s[r * k + j] = (float) (e[j] / sum - (j == y[r] ? 1 : 0));
            }
        }
        double coef = 0.7;
        float[] want = new float[rows * k];
        for (int r = 0; r < rows; r++) {
            double pw = 0;
            for (int j = 0; j < k; j++) {
                pw += (s[r * k + j] + (j == y[r] ? 1.0 : 0.0)) * w[r * k + j];
            }
            for (int j = 0; j < k; j++) {
                want[r * k + j] = (float) (coef * (s[r * k + j] + (j == y[r] ? 1.0 : 0.0)) * (w[r * k + j] - pw));
            }
        }
        try (DeviceTensor ds = DeviceTensor.of(cl, s); DeviceTensor dw = DeviceTensor.of(cl, w);
             DeviceTensor dh = DeviceTensor.allocate(cl, rows * k); DeviceInts dy = DeviceInts.of(cl, y)) {
            cl.ops().softmaxHessianRows(dh, ds, dw, dy, rows, k, coef);
            assertNear(want, dh.download(), maxAbs(want), "coef H w");
            assertThrows(IllegalArgumentException.class, () -> cl.ops().softmaxHessianRows(dw, ds, dw, dy, rows, k, coef));
        }
    }

    @Test
    void step_onDevice_matchesHostTrainerStep_withTransfers() {
        double lambda = 2e5; // ||dCE/dx||^2 of a fresh width-1/16 CNN is small
        OpenCl cl = NetTesting.runtime();
        Sequential hostNet = NetTesting.cnn7(51L), devNet = NetTesting.cnn7(51L);
        Tensor x = Tensor.of(BATCH, 3, 32, 32, randn(new Random(52), BATCH * 3 * 32 * 32));
        int[] labels = {3, 0, 8};
        InputGradient hostReg = new InputGradient(lambda);
        ParamGrads grads = new ParamGrads();
        StepResult host = Objective.regularized(hostReg).step(hostNet, x, labels, new Rng(STEP_SEED), grads);
        new Sgd(hostNet.params(), SGD).step(grads);
        double penalty = host.penalties().get("input-grad");
        assertTrue(penalty > 0.01 * host.loss(), "the penalty is a visible part of the loss: " + host.breakdown());
        try (DeviceTraining trainer = new DeviceTraining(new PlacedModel<>(cl.ops(), devNet),
                Objective.regularized(hostReg), new Sgd(devNet.params(), SGD));
             DeviceTensor dx = DeviceTensor.of(cl, x); DeviceInts dy = DeviceInts.of(cl, labels)) {
            long up = cl.uploads(), down = cl.downloads(), downBytes = cl.downloadedBytes();
            StepResult dev = trainer.step(dx, dy, new Rng(STEP_SEED));
            double[] pen = {dev.penalties().get("input-grad")};
            assertEquals(0, cl.uploads() - up, "uploads of a step (the batch is on the device)");
            assertEquals(2, cl.downloads() - down, "downloads: ||g_i||^2, the loss");
            assertEquals(4L * BATCH + 8, cl.downloadedBytes() - downBytes, "download bytes: per-example scalars");
            assertEquals(penalty, pen[0], NetTesting.NET_REL * penalty, "penalty");
            assertEquals(host.loss(), dev.loss(), NetTesting.NET_REL * host.loss(), "loss (CE + penalty)");
            trainer.ops.store();
            long allocs = cl.allocations();
            trainer.step(dx, dy, new Rng(STEP_SEED + 1));
            assertEquals(0, cl.allocations() - allocs, "device buffers created by a second regularized step (pooled)");
            var devReg = PlacedTerms.dataDependent(hostReg, trainer.ops.model(), PlacedBatchOps.of(trainer.ops.model()));
            assertEquals("input-grad", devReg.name());
            try (Gradients<DeviceTensor> g = new Gradients<>(cl.ops())) {
                assertThrows(IllegalArgumentException.class, () -> devReg.accumulate(dx, dx.shape(), null, 0L, null, g),
                        "no labels");
            }
        }
        List<Param> want = hostNet.params(), got = devNet.params();
        for (int i = 0; i < want.size(); i++) {
            assertNear(want.get(i).value, got.get(i).value, maxAbs(want.get(i).value), "after the step: " + want.get(i).name());
        }
        List<Param> wantB = hostNet.buffers(), gotB = devNet.buffers();
        for (int i = 0; i < wantB.size(); i++) {
            assertNear(wantB.get(i).value, gotB.get(i).value, maxAbs(wantB.get(i).value),
                    "after the step: " + wantB.get(i).name());
        }
    }
}
