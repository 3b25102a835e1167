package dev.opnorm.gpu.net;

import static dev.opnorm.gpu.net.NetTesting.assertNear;
import static dev.opnorm.gpu.net.NetTesting.maxAbs;
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
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Adversarial training steps on the device against robust.train.Objective.adversarial(attack, 0, 1, 1)
 * plus nn.optim.Sgd on the host (7-layer CNN, two steps: the momentum buffer is used), and the transfers
 * of a step with the batch on the device.
 */
class DeviceAdversarialStepTest {
    private static final Sgd.Config SGD = Sgd.Config.of(0.05).withMomentum(0.9).withWeightDecay(5e-4);

    private static Tensor uniform(Random rnd, int n) {
        float[] a = new float[n * 3 * 32 * 32];
        for (int i = 0; i < a.length; i++) {
            a[i] = 2 * rnd.nextFloat() - 1;
        }
        return Tensor.of(n, 3, 32, 32, a);
    }

    @Test
    void adversarialStep_matchesHostObjectiveStep_andMovesNoActivation() {
        OpenCl cl = NetTesting.runtime();
        Sequential hostNet = NetTesting.cnn7(91L), devNet = NetTesting.cnn7(91L);
        Random rnd = new Random(92);
        Tensor[] xs = {uniform(rnd, 3), uniform(rnd, 3)};
        int[][] labels = {{2, 5, 7}, {0, 0, 9}};
        Pga pga = Pga.l2(0.5).iterations(2).restarts(1);

        Objective at = Objective.adversarial(pga, 0, 1, 1.0);
        Sgd sgd = new Sgd(hostNet.params(), SGD);
        double[] hostLoss = new double[2];
        long[] seeds = new long[2];
        for (int s = 0; s < 2; s++) {
            seeds[s] = new Rng(100 + s).fork("attack").nextLong(); // the seed Objective draws from the step's generator
            ParamGrads grads = new ParamGrads();
            StepResult r = at.step(hostNet, xs[s], labels[s], new Rng(100 + s), grads);
            hostLoss[s] = r.loss();
            sgd.step(grads);
        }

        try (DeviceModel model = new DeviceModel(cl, devNet);
             DeviceSgdTrainer trainer = new DeviceSgdTrainer(model, SGD);
             DeviceAdversarialStep step = new DeviceAdversarialStep(model, trainer, pga)) {
            DeviceSgdTrainer.StepResult first = step.step(xs[0], labels[0], seeds[0]);
            assertEquals(hostLoss[0], first.loss(), NetTesting.NET_REL * hostLoss[0], "loss of step 1");
            try (DeviceTensor x = DeviceTensor.of(cl, xs[1]); DeviceInts y = DeviceInts.of(cl, labels[1])) {
                long up = cl.uploads(), down = cl.downloads();
                DeviceSgdTrainer.StepResult second = step.step(x, y, seeds[1]);
                assertEquals(1, cl.uploads() - up, "uploads: the random start only");
                assertEquals(2, cl.downloads() - down, "downloads: the attack's statistics and the loss");
                assertEquals(hostLoss[1], second.loss(), NetTesting.NET_REL * hostLoss[1], "loss of step 2");
            }
            model.downloadParameters();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> step.step(xs[0], new int[]{0, 1, 10}, 1L));
            assertTrue(e.getMessage().contains("label 10"), e.getMessage());
        }
        List<Param> want = hostNet.params(), got = devNet.params();
        for (int i = 0; i < want.size(); i++) {
            assertNear(want.get(i).value, got.get(i).value, maxAbs(want.get(i).value), "after 2 AT steps: "
                    + want.get(i).name());
        }
        List<Param> wantB = hostNet.buffers(), gotB = devNet.buffers();
        for (int i = 0; i < wantB.size(); i++) {
            assertNear(wantB.get(i).value, gotB.get(i).value, maxAbs(wantB.get(i).value), "after 2 AT steps: "
                    + wantB.get(i).name());
        }
    }
}
