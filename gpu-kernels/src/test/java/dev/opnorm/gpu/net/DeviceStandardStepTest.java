package dev.opnorm.gpu.net;

import dev.opnorm.robust.train.PlacedTrainOps;
import dev.opnorm.nn.layers.PlacedModel;
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
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.StepRunner;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The standard training step on the device (robust's {@code Objective.standard()} on {@link PlacedTrainOps}:
 * TRAIN forward, cross-entropy, backward, SGD with momentum and weight decay, BatchNorm running statistics)
 * against the host step on ScalarKernels, over two steps (the second exercises the momentum buffer), for the
 * 7-layer CNN and the Wide ResNet 10-1 (affine BN parameters, residual blocks), and its transfers.
 */
class DeviceStandardStepTest {
    private static final int BATCH = 4;
    private static final Sgd.Config SGD = Sgd.Config.of(0.05).withMomentum(0.9).withWeightDecay(5e-4);

    @Test
    void trainingStep_onDevice_matchesHostStep_andMovesOnlyTheLoss() {
        compareTwoSteps(NetTesting.cnn7(21L), NetTesting.cnn7(21L));
    }

    @Test
    void trainingStep_wideResNet_matchesHostStep() {
        compareTwoSteps(NetTesting.wrn(24L), NetTesting.wrn(24L));
    }

    private static void compareTwoSteps(Sequential hostNet, Sequential devNet) {
        OpenCl cl = NetTesting.runtime();
        Random rnd = new Random(3);
        Tensor[] xs = {Tensor.of(BATCH, 3, 32, 32, randn(rnd, BATCH * 3 * 32 * 32)),
                Tensor.of(BATCH, 3, 32, 32, randn(rnd, BATCH * 3 * 32 * 32))};
        int[][] labels = {{0, 3, 7, 9}, {1, 1, 4, 8}};

        List<Param> devParams = devNet.params();
        float[] classifierBefore = devParams.get(devParams.size() - 2).value.clone();
        Sgd sgd = new Sgd(hostNet.params(), SGD);
        double[] hostLoss = new double[2];
        for (int s = 0; s < 2; s++) {
            Linearization lin = hostNet.linearize(xs[s], BnMode.TRAIN);
            float[] g = new float[lin.outShape().size()];
            hostLoss[s] = SoftmaxCrossEntropy.lossAndGradient(lin.output(), labels[s], g);
            ParamGrads grads = new ParamGrads();
            lin.vjpParams(g, grads);
            sgd.step(grads);
            lin.commit();
        }

        try (DeviceTraining trainer = new DeviceTraining(new PlacedModel<>(cl.ops(), devNet), Objective.standard(),
                new Sgd(devNet.params(), SGD))) {
            StepResult first = trainer.runner.step(xs[0], labels[0], new Rng(0), SGD.lr());
            assertEquals(hostLoss[0], first.loss(), NetTesting.NET_REL * hostLoss[0], "loss of step 1");
            try (DeviceTensor x = DeviceTensor.of(cl, xs[1]); DeviceInts y = DeviceInts.of(cl, labels[1])) {
                long up = cl.uploads(), down = cl.downloads(), downBytes = cl.downloadedBytes();
                long allocs = cl.allocations();
                StepResult second = trainer.step(x, y, new Rng(1));
                assertEquals(0, cl.allocations() - allocs, "device buffers created by a second step (pooled)");
                assertEquals(0, cl.uploads() - up, "uploads during a step with the batch on the device");
                assertEquals(1, cl.downloads() - down, "downloads during a step");
                assertEquals(8, cl.downloadedBytes() - downBytes, "bytes: the loss and the correct count");
                assertEquals(hostLoss[1], second.loss(), NetTesting.NET_REL * hostLoss[1], "loss of step 2");
            }
            trainer.runner.store();
        }
        float[] classifierAfter = devParams.get(devParams.size() - 2).value;
        double moved = 0;
        for (int i = 0; i < classifierAfter.length; i++) {
            moved = Math.max(moved, Math.abs(classifierAfter[i] - classifierBefore[i]));
        }
        assertTrue(moved > 100 * NetTesting.NET_REL * maxAbs(classifierBefore),
                "the device steps changed the classifier weights (by " + moved + ")");
        List<Param> want = hostNet.params(), got = devNet.params();
        for (int i = 0; i < want.size(); i++) {
            assertNear(want.get(i).value, got.get(i).value, maxAbs(want.get(i).value), "after 2 steps: " + want.get(i).name());
        }
        List<Param> wantB = hostNet.buffers(), gotB = devNet.buffers();
        for (int i = 0; i < wantB.size(); i++) {
            assertNear(wantB.get(i).value, gotB.get(i).value, maxAbs(wantB.get(i).value), "after 2 steps: " + wantB.get(i).name());
        }
    }

    @Test
    void trainingStep_badLabel_isRejected() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(22L);
        try (StepRunner trainer = PlacedTrainOps.runners(cl.ops()).create(net, Objective.standard(),
                new Sgd(net.params(), SGD))) {
            Tensor x = Tensor.of(2, 3, 32, 32, randn(new Random(4), 2 * 3 * 32 * 32));
            assertThrows(IllegalArgumentException.class, () -> trainer.step(x, new int[]{0, 10}, new Rng(0), 0.05));
            assertThrows(IllegalArgumentException.class, () -> trainer.step(x, new int[]{0}, new Rng(0), 0.05));
        }
    }
}
