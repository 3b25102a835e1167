package dev.opnorm.gpu.net;

import static dev.opnorm.gpu.net.NetTesting.assertNear;
import static dev.opnorm.gpu.net.NetTesting.maxAbs;
import static dev.opnorm.gpu.net.NetTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link DeviceObjective} without an attack: a weighted clean cross-entropy (Objective.of(name, 0.5, null,
 * ...)) over two SGD steps against the host step, and the host Objective's argument checks.
 */
class DeviceObjectiveTest {
    @Test
    void weightedCleanObjective_matchesHostStep_overTwoSteps() {
        OpenCl cl = NetTesting.runtime();
        Sequential hostNet = NetTesting.cnn7(51L), devNet = NetTesting.cnn7(51L);
        Random rnd = new Random(11);
        Tensor[] xs = {Tensor.of(4, 3, 32, 32, randn(rnd, 4 * 3 * 32 * 32)), Tensor.of(4, 3, 32, 32, randn(rnd, 4 * 3 * 32 * 32))};
        int[][] ys = {{1, 2, 3, 4}, {5, 6, 7, 8}};
        Sgd.Config cfg = Sgd.Config.of(0.05).withMomentum(0.9);
        Sgd hostSgd = new Sgd(hostNet.params(), cfg);
        double[] want = new double[2];
        for (int s = 0; s < 2; s++) {
            Linearization lin = hostNet.linearize(xs[s], BnMode.TRAIN);
            float[] g = new float[lin.outShape().size()];
            want[s] = 0.5 * SoftmaxCrossEntropy.lossAndGradient(lin.output(), ys[s], g);
            for (int j = 0; j < g.length; j++) {
                g[j] = 0.5f * g[j]; // Objective.part: gy += (float) weight * g
            }
            ParamGrads grads = new ParamGrads();
            lin.vjpParams(g, grads);
            hostSgd.step(grads);
            lin.commit();
        }
        try (DeviceModel model = new DeviceModel(cl, devNet);
             DeviceTrainer t = new DeviceTrainer(model, new DeviceObjective("half", 0.5, null, 0, 0, List.of()),
                     DeviceOptimizer.of(model, new Sgd(devNet.params(), cfg)))) {
            for (int s = 0; s < 2; s++) {
                DeviceStepResult r = t.step(xs[s], ys[s], new Rng(s));
                assertEquals(want[s], r.loss(), NetTesting.NET_REL * want[s], "loss of step " + (s + 1));
                assertEquals(2 * want[s], r.cleanLoss(), NetTesting.NET_REL * want[s], "clean loss of step " + (s + 1));
                assertEquals(4, r.counted());
            }
            model.downloadParameters();
        }
        List<Param> a = hostNet.params(), b = devNet.params();
        for (int i = 0; i < a.size(); i++) {
            assertNear(a.get(i).value, b.get(i).value, maxAbs(a.get(i).value), a.get(i).name());
        }
    }

    @Test
    void constructor_rejectsTheHostObjectivesBadCombinations() {
        assertThrows(IllegalArgumentException.class, () -> new DeviceObjective("x", 0, null, 1, 1, List.of()));
        assertThrows(IllegalArgumentException.class, () -> new DeviceObjective("x", -1, null, 0, 0, List.of()));
        DeviceObjective.Attack none = (m, x, y, seed, out) -> { };
        assertThrows(IllegalArgumentException.class, () -> new DeviceObjective("x", 1, none, 1, 0, List.of()));
        assertEquals(3, new DeviceObjective("x", 1, none, 1, 0.75, List.of()).attacked(4));
        assertEquals(0, new DeviceObjective("x", 1, none, 0, 0.75, List.of()).attacked(4));
    }
}
