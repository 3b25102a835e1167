package dev.opnorm.gpu.net;

import dev.opnorm.robust.reg.RegEngine;
import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
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
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.layers.AvgPool2d;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.reg.DdSpectralNorm;
import dev.opnorm.robust.reg.TangentGradient;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The sigma^2-form d.d. spectral norm regularization and the tangent gradient on the device against the
 * host ({@code DdSpectralNorm}, {@code TangentGradient} on ScalarKernels): the tangent gradient of the
 * 7-layer CNN (width 1/16, EVAL BatchNorm) and of MLPs (affine and plain BatchNorm, average pooling), its
 * errors (TRAIN mode, a residual block), one regularized SGD step (loss, parameters, running statistics to
 * 1e-4) and the transfers of a step.
 */
class DdSpectralNormOnDeviceTest {
    private static final int BATCH = 3;
    private static final long STEP_SEED = 78L;
    private static final Sgd.Config SGD = Sgd.Config.of(0.05).withMomentum(0.9).withWeightDecay(5e-4);

    /** AvgPool(2) -> Flatten -> Linear(48, 24) -> BatchNorm (1x1) -> ReLU -> Linear(24, 10) on (n, 3, 8, 8). */
    private static Sequential mlp(long seed, boolean affine) {
        ScalarKernels k = new ScalarKernels();
        Sequential net = new Sequential("mlp", new AvgPool2d("0", 2, 2, 0, k), new Flatten("1", k),
                new Linear("2", 48, 24, true, k), new BatchNorm2d("3", 24, affine, k), new ReLU("4", k),
                new Linear("5", 24, 10, true, k));
        Random rnd = new Random(seed);
        for (Param p : net.params()) {
            for (int i = 0; i < p.value.length; i++) {
                p.value[i] = 0.3f * (float) rnd.nextGaussian();
            }
        }
        return NetTesting.withRandomStatistics(net, seed + 1);
    }

    @Test
    void tangentGradient_cnn7_matchesHost() {
        compareTangentGradient(NetTesting.cnn7(41L), NetTesting.cnn7(41L), Tensor.of(BATCH, 3, 32, 32,
                randn(new Random(42), BATCH * 3 * 32 * 32)), 43L);
    }

    @Test
    void tangentGradient_mlpAffineAndPlainBatchNorm_matchesHost() {
        for (boolean affine : new boolean[]{true, false}) {
            compareTangentGradient(mlp(44L, affine), mlp(44L, affine), Tensor.of(4, 3, 8, 8,
                    randn(new Random(45), 4 * 3 * 8 * 8)), 46L);
        }
    }

    private static void compareTangentGradient(Sequential hostNet, Sequential devNet, Tensor x, long seed) {
        OpenCl cl = NetTesting.runtime();
        Linearization lin = hostNet.linearize(x, BnMode.EVAL);
        Random rnd = new Random(seed);
        float[] t = randn(rnd, lin.inShape().size()), c = randn(rnd, lin.outShape().size());
        ParamGrads want = new ParamGrads();
        TangentGradient.accumulate(hostNet, lin, t, c, want);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), devNet); Gradients<DeviceTensor> grads = new Gradients<>(cl.ops());
             DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor dt = DeviceTensor.of(cl, t);
             DeviceTensor dc = DeviceTensor.of(cl, c); PlacedLinearization<DeviceTensor> dl = model.linearize(dx, dx.shape(), BnMode.EVAL)) {
            long up = cl.uploads(), down = cl.downloads();
            TangentGradient.accumulate(dl, dt, dc, grads);
            TangentGradient.accumulate(dl, dt, dc, grads); // accumulates: twice the host's
            assertEquals(0, cl.uploads() - up, "uploads of the tangent gradient");
            assertEquals(0, cl.downloads() - down, "downloads of the tangent gradient");
            List<Param> hp = hostNet.params(), dp = devNet.params();
            boolean someNonZero = false;
            for (int i = 0; i < hp.size(); i++) {
                float[] w = want.has(hp.get(i)) ? want.of(hp.get(i)).clone() : new float[hp.get(i).size()];
                for (int j = 0; j < w.length; j++) {
                    w[j] *= 2;
                }
                someNonZero |= maxAbs(w) > 0;
                assertNear(w, grads.download(dp.get(i)), Math.max(maxAbs(w), 1e-3), "d<c, J t>/d " + hp.get(i).name());
            }
            assertTrue(someNonZero, "the gradient is not all zero");
            try (PlacedLinearization<DeviceTensor> train = model.linearize(dx, dx.shape(), BnMode.TRAIN)) {
                assertThrows(IllegalArgumentException.class, () -> TangentGradient.accumulate(train, dt, dc, grads),
                        "TRAIN-mode BatchNorm");
            }
            assertThrows(IllegalArgumentException.class, () -> TangentGradient.accumulate(dl, dc, dt, grads),
                    "a tangent shorter than the input");
        }
    }

    @Test
    void tangentGradient_residualBlock_isRejectedAsOnTheHost() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.wrn(47L);
        Tensor x = Tensor.of(2, 3, 32, 32, randn(new Random(48), 2 * 3 * 32 * 32));
        Linearization lin = net.linearize(x, BnMode.EVAL);
        float[] t = new float[lin.inShape().size()], c = new float[lin.outShape().size()];
        IllegalArgumentException host = assertThrows(IllegalArgumentException.class,
                () -> TangentGradient.accumulate(net, lin, t, c, new ParamGrads()));
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net); Gradients<DeviceTensor> grads = new Gradients<>(cl.ops());
             DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor dt = DeviceTensor.of(cl, t);
             DeviceTensor dc = DeviceTensor.of(cl, c); PlacedLinearization<DeviceTensor> dl = model.linearize(dx, dx.shape(), BnMode.EVAL)) {
            IllegalArgumentException dev = assertThrows(IllegalArgumentException.class,
                    () -> TangentGradient.accumulate(dl, dt, dc, grads));
            assertEquals(host.getMessage(), dev.getMessage());
        }
    }

    @Test
    void step_onDevice_matchesHostTrainerStep_withTransfers() {
        int it = 4;
        double lambda = 5e4; // sigma^2 of a fresh width-1/16 CNN is about 3e-6
        OpenCl cl = NetTesting.runtime();
        Sequential hostNet = NetTesting.cnn7(49L), devNet = NetTesting.cnn7(49L);
        Tensor x = Tensor.of(BATCH, 3, 32, 32, randn(new Random(50), BATCH * 3 * 32 * 32));
        int[] labels = {1, 4, 7};
        DdSpectralNorm hostReg = new DdSpectralNorm(lambda, it);
        ParamGrads grads = new ParamGrads();
        StepResult host = Objective.regularized(hostReg).step(hostNet, x, labels, new Rng(STEP_SEED), grads);
        new Sgd(hostNet.params(), SGD).step(grads);
        double penalty = host.penalties().get("dd-snr");
        assertTrue(penalty > 0.01 * host.loss(), "the penalty is a visible part of the loss: " + host.breakdown());
        try (DeviceTraining trainer = new DeviceTraining(new PlacedModel<>(cl.ops(), devNet),
                Objective.regularized(hostReg), new Sgd(devNet.params(), SGD));
             DeviceTensor dx = DeviceTensor.of(cl, x); DeviceInts dy = DeviceInts.of(cl, labels)) {
            long up = cl.uploads(), upBytes = cl.uploadedBytes(), down = cl.downloads(),
                    downBytes = cl.downloadedBytes();
            StepResult dev = trainer.step(dx, dy, new Rng(STEP_SEED));
            double[] pen = {dev.penalties().get("dd-snr")};
            int n = 3 * 32 * 32;
            long ups = cl.uploads() - up;
            // the power method: start vectors, then flag uploads in iterations where an example stops;
            // the penalty: one upload of the coefficients
            assertTrue(ups >= 2 && ups <= 2 + it, "uploads: start vectors, flags, coefficients, got " + ups);
            assertEquals(4L * BATCH * n + 4L * BATCH * (ups - 1), cl.uploadedBytes() - upBytes,
                    "upload bytes: the start vectors, then one int or float per example per upload");
            long downs = cl.downloads() - down;
            assertEquals(it + 2, downs, "downloads: one per power iteration, s, the loss");
            assertTrue(cl.downloadedBytes() - downBytes <= 4L * BATCH * (3 * it + 1) + 8,
                    "download bytes: per-example scalars only, got " + (cl.downloadedBytes() - downBytes));
            assertEquals(penalty, pen[0], NetTesting.NET_REL * penalty, "penalty");
            assertEquals(host.loss(), dev.loss(), NetTesting.NET_REL * host.loss(), "loss (CE + penalty)");
            trainer.ops.store();
            long allocs = cl.allocations();
            trainer.step(dx, dy, new Rng(STEP_SEED + 1));
            assertEquals(0, cl.allocations() - allocs, "device buffers created by a second regularized step (pooled)");
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
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), NetTesting.cnn7(49L)); Gradients<DeviceTensor> g = new Gradients<>(cl.ops());
             DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor u = DeviceTensor.of(cl, new float[BATCH * 10]);
             PlacedLinearization<DeviceTensor> train = model.linearize(dx, dx.shape(), BnMode.TRAIN)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> hostReg.penalty(RegEngine.placed(model, PlacedBatchOps.of(model)), RegEngine.view(train), u, dx, g));
            assertTrue(e.getMessage().contains("EVAL"), e.getMessage());
        }
    }
}
