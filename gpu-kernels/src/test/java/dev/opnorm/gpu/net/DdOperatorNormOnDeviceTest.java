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
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.RegBatch;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * robust's finite-difference d.d. regularizer ({@code DdOperatorNorm}, written once) on the device engine
 * ({@link RegEngine#placed}) against the same regularizer on the host engine. One regularized training step on the
 * device (cross-entropy + the regularizer,
 * SGD with momentum and weight decay, BatchNorm commit) against the host training step of
 * {@code Objective.regularized(DdOperatorNorm ...)} + {@code Sgd} on ScalarKernels (what the host Trainer
 * runs per step, with the same step generator): loss, every parameter and running statistic to 1e-4,
 * for the paper's sum-of-squares d.d. SNR (TRAIN penalty mode) and for (p,q) != (2,2) cases, and the
 * transfers of a step.
 */
class DdOperatorNormOnDeviceTest {
    private static final int BATCH = 3;
    private static final long STEP_SEED = 77L;
    private static final Sgd.Config SGD = Sgd.Config.of(0.05).withMomentum(0.9).withWeightDecay(5e-4);

    @Test
    void sumOfSquaresStep_onDevice_matchesHostTrainerStep() {
        compareStep(DdOperatorNorm.sumOfSquares(10.0, 0.5, 3, BnMode.TRAIN), 31L, true);
    }

    @Test
    void operatorNormStep_p2q1NormForm_evalPenalty_matchesHostTrainerStep() {
        compareStep(new DdOperatorNorm(2, 1, 20.0, 0.5, 4, false, BnMode.EVAL), 32L, false);
    }

    /**
     * EVAL penalty mode: with TRAIN-mode BatchNorm over a batch of 3 at width 1/16, the q = 1.5 power
     * form's gradient at this point is so ill-conditioned (batch statistics of 3 values amplify float
     * round-off by orders of magnitude) that two correct float implementations differ by percents.
     */
    @Test
    void operatorNormStep_qPowerForm_generalExponents_matchesHostTrainerStep() {
        compareStep(new DdOperatorNorm(3, 1.5, 500.0, 0.5, 3, true, BnMode.EVAL), 33L, false);
    }

    private static void compareStep(DdOperatorNorm hostReg, long netSeed, boolean checkTransfers) {
        OpenCl cl = NetTesting.runtime();
        Sequential hostNet = NetTesting.cnn7(netSeed), devNet = NetTesting.cnn7(netSeed);
        Random rnd = new Random(netSeed + 100);
        Tensor x = Tensor.of(BATCH, 3, 32, 32, randn(rnd, BATCH * 3 * 32 * 32));
        int[] labels = {2, 5, 9};

        ParamGrads grads = new ParamGrads();
        StepResult host = Objective.regularized(hostReg).step(hostNet, x, labels, new Rng(STEP_SEED), grads);
        new Sgd(hostNet.params(), SGD).step(grads);
        double penalty = host.penalties().get(hostReg.name());
        assertTrue(penalty > 0.01 * host.loss(), "the penalty is a visible part of the loss: " + host.breakdown());

        try (DeviceTraining trainer = new DeviceTraining(new PlacedModel<>(cl.ops(), devNet),
                Objective.regularized(hostReg), new Sgd(devNet.params(), SGD));
             DeviceTensor dx = DeviceTensor.of(cl, x); DeviceInts dy = DeviceInts.of(cl, labels)) {
            long up = cl.uploads(), upBytes = cl.uploadedBytes(), down = cl.downloads(),
                    downBytes = cl.downloadedBytes();
            StepResult dev = trainer.step(dx, dy, new Rng(STEP_SEED));
            if (checkTransfers) {
                int n = 3 * 32 * 32, it = hostReg.iterations();
                long ups = cl.uploads() - up;
                assertTrue(ups >= 2 && ups <= 1 + it, "uploads: the start vectors and the flags, got " + ups);
                assertEquals(it + 2, cl.downloads() - down, "downloads: one per power iteration, the penalty, the loss");
                assertEquals(4L * BATCH * (2 + 3 * (it - 1)) + 4L * BATCH + 8, cl.downloadedBytes() - downBytes,
                        "download bytes: per-example norms only, then the loss and the correct count");
                assertEquals(4L * BATCH * n + 4L * BATCH * (ups - 1), cl.uploadedBytes() - upBytes,
                        "upload bytes: the start vectors, then one int per example per flag upload");
            }
            assertEquals(host.loss(), dev.loss(), NetTesting.NET_REL * host.loss(), "loss (CE + penalty)");
            trainer.ops.store();
            if (checkTransfers) {
                long allocs = cl.allocations();
                trainer.step(dx, dy, new Rng(STEP_SEED + 1));
                assertEquals(0, cl.allocations() - allocs, "device buffers created by a second regularized step (pooled)");
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

    @Test
    void regularizer_penaltyAndGradientAlone_matchHost_andRejectBadInput() {
        checkPenaltyAlone(DdOperatorNorm.sumOfSquares(1.0, 0.5, 3, BnMode.TRAIN), true);
        checkPenaltyAlone(DdOperatorNorm.sumOfSquares(1.0, 0.5, 3, BnMode.TRAIN), false);
        checkPenaltyAlone(new DdOperatorNorm(2, 1, 1.0, 0.5, 4, false, BnMode.EVAL), false);
        checkPenaltyAlone(new DdOperatorNorm(3, 1.5, 1.0, 0.5, 3, true, BnMode.TRAIN), false);
        OpenCl cl = NetTesting.runtime();
        Tensor x = Tensor.of(BATCH, 3, 32, 32, randn(new Random(35), BATCH * 3 * 32 * 32));
        DdOperatorNorm reg = DdOperatorNorm.sumOfSquares(1.0, 0.5, 3, BnMode.TRAIN);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), NetTesting.cnn7(34L)); Gradients<DeviceTensor> grads = new Gradients<>(cl.ops());
             DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor other = DeviceTensor.of(cl, x);
             PlacedLinearization<DeviceTensor> eval = model.linearize(dx, dx.shape(), BnMode.EVAL);
             PlacedLinearization<DeviceTensor> trainElsewhere = model.linearize(other, other.shape(), BnMode.TRAIN)) {
            var e = RegEngine.placed(model, PlacedBatchOps.of(model));
            IllegalArgumentException notTrain = assertThrows(IllegalArgumentException.class,
                    () -> reg.penalty(e, dx, dx.shape(), dx, RegEngine.train(eval, dx), grads),
                    "an EVAL linearization as the TRAIN one");
            assertTrue(notTrain.getMessage().contains("TRAIN-mode"), notTrain.getMessage());
            assertThrows(IllegalArgumentException.class, () -> RegEngine.train(trainElsewhere, dx),
                    "a TRAIN linearization at another batch");
            assertThrows(IllegalArgumentException.class,
                    () -> reg.accumulate(e, dx, x.shape.withBatch(2), 1L, null, grads), "a shape that is not x's");
        }
    }

    /**
     * The penalty value and its parameter gradient (no training step) against the host engine; with
     * reuseTrain, both sides reuse a TRAIN linearization at x for f(x).
     */
    private static void checkPenaltyAlone(DdOperatorNorm reg, boolean reuseTrain) {
        OpenCl cl = NetTesting.runtime();
        Sequential hostNet = NetTesting.cnn7(34L), devNet = NetTesting.cnn7(34L);
        Tensor x = Tensor.of(BATCH, 3, 32, 32, randn(new Random(35), BATCH * 3 * 32 * 32));
        ParamGrads hostGrads = new ParamGrads();
        double hostValue = reg.accumulate(new RegBatch(hostNet, x, null, 9L,
                reuseTrain ? hostNet.linearize(x, BnMode.TRAIN) : null), hostGrads);
        String what = reg.name() + " (" + reg.p() + "," + reg.q() + ")" + (reuseTrain ? " reusing TRAIN" : "");
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), devNet); Gradients<DeviceTensor> grads = new Gradients<>(cl.ops());
             DeviceTensor dx = DeviceTensor.of(cl, x)) {
            double value;
            if (reuseTrain) {
                try (PlacedLinearization<DeviceTensor> train = model.linearize(dx, dx.shape(), BnMode.TRAIN)) {
                    value = reg.accumulate(RegEngine.placed(model, PlacedBatchOps.of(model)), dx, dx.shape(), 9L,
                            RegEngine.train(train, dx), grads);
                    assertEquals(BATCH, train.output().shape().n(), "the step's linearization is left open");
                }
            } else {
                value = reg.accumulate(RegEngine.placed(model, PlacedBatchOps.of(model)), dx, dx.shape(), 9L, null, grads);
            }
            assertEquals(hostValue, value, NetTesting.NET_REL * hostValue, what + " penalty value");
            List<Param> hp = hostNet.params(), dp = devNet.params();
            // relative to the largest gradient entry of the network: a conv bias ahead of a TRAIN-mode
            // BatchNorm has gradient 0, computed as the roundoff of a cancelling sum on both sides
            double scale = 0;
            for (Param p : hp) {
                scale = Math.max(scale, hostGrads.has(p) ? maxAbs(hostGrads.of(p)) : 0);
            }
            assertTrue(scale > 0, what + ": the host gradient is not zero");
            for (int i = 0; i < hp.size(); i++) {
                float[] want = hostGrads.has(hp.get(i)) ? hostGrads.of(hp.get(i)) : new float[hp.get(i).size()];
                assertNear(want, grads.download(dp.get(i)), scale, what + " penalty gradient " + hp.get(i).name());
            }
        }
    }
}
