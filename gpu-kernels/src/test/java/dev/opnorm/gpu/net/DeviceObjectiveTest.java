package dev.opnorm.gpu.net;

import dev.opnorm.robust.train.PlacedTrainOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.DeviceInts;
import static dev.opnorm.gpu.net.NetTesting.assertNear;
import static dev.opnorm.gpu.net.NetTesting.maxAbs;
import static dev.opnorm.gpu.net.NetTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.StepRunner;
import dev.opnorm.robust.train.TrainingMethod;

import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * robust's {@code Objective} through the device runner ({@link PlacedTrainOps#runners}) against the host
 * {@code Objective} step (+ Sgd) over two steps: a weighted clean cross-entropy, adversarial training with
 * the clean term and part of the batch attacked (device PGA), the AT / d.d. SNR interpolation, the d.d. ONR;
 * loss and its parts, every parameter and BN statistic to 1e-4; and the device's refusal of a method that
 * is not an Objective.
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
        try (StepRunner t = PlacedTrainOps.runners(cl.ops()).create(devNet, Objective.of("half", 0.5, null, 0, 0, List.of()),
                new Sgd(devNet.params(), cfg))) {
            for (int s = 0; s < 2; s++) {
                StepResult r = t.step(xs[s], ys[s], new Rng(s), 0.05);
                assertEquals(want[s], r.loss(), NetTesting.NET_REL * want[s], "loss of step " + (s + 1));
                assertEquals(2 * want[s], r.cleanLoss(), NetTesting.NET_REL * want[s], "clean loss of step " + (s + 1));
                assertEquals(4, r.counted());
            }
            t.store();
        }
        List<Param> a = hostNet.params(), b = devNet.params();
        for (int i = 0; i < a.size(); i++) {
            assertNear(a.get(i).value, b.get(i).value, maxAbs(a.get(i).value), a.get(i).name());
        }
    }

    @Test
    void deviceRunner_rejectsAMethodThatIsNotAnObjective_namingIt() {
        TrainingMethod custom = new TrainingMethod() {
            @Override
            public String name() {
                return "my-method";
            }

            @Override
            public StepResult step(Layer model, Tensor x, int[] labels, Rng rng, ParamGrads grads) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Map<String, Object> config() {
                return Map.of();
            }
        };
        Sequential net = NetTesting.cnn7(50L);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlacedTrainOps.runners(
                NetTesting.runtime().ops()).create(net, custom, new Sgd(net.params(), Sgd.Config.of(0.1))));
        assertTrue(e.getMessage().contains("my-method"), e.getMessage());
    }

    private static Tensor uniform(Random rnd, int n) {
        float[] a = new float[n * 3 * 32 * 32];
        for (int i = 0; i < a.length; i++) {
            a[i] = 2 * rnd.nextFloat() - 1;
        }
        return Tensor.of(n, 3, 32, 32, a);
    }

    /** Eq. 14 with the clean term, 3 of 4 examples attacked: two device steps vs Objective.adversarial + Sgd. */
    @Test
    void adversarialObjective_cleanPlusAttackedFraction_matchesHostObjective() {
        Pga pga = Pga.l2(0.5).iterations(2);
        compareWithHost(Objective.adversarial(pga, 1, 0.8, 0.75), 61L);
    }

    /** Madry et al.'s form (no clean term, the whole batch attacked), the CLI's --clean-weight 0. */
    @Test
    void adversarialObjective_madryForm_matchesHostObjective() {
        Pga pga = Pga.l2(0.5).iterations(2).restarts(1);
        compareWithHost(Objective.adversarial(pga, 0, 1, 1.0), 64L);
    }

    /** Fig. 7's interpolation: clean CE + adversarial CE + the sum-of-squares d.d. SNR (TRAIN penalty mode). */
    @Test
    void interpolationObjective_attackPlusDdSnr_matchesHostObjective() {
        Pga pga = Pga.l2(0.5).iterations(2);
        compareWithHost(Objective.interpolation(pga, 0.5, 1, DdOperatorNorm.sumOfSquares(0.5, 0.1, 2, BnMode.TRAIN)),
                62L);
    }

    /**
     * The d.d. ONR alone ((2,1) norm form, EVAL penalty mode: the step's linearization is not reused). Not
     * p = inf here: its maximizer takes signs, so a coordinate within rounding of 0 may flip (see PgaBackend.placed).
     */
    @Test
    void regularizedObjective_ddOnr_matchesHostObjective() {
        compareWithHost(Objective.regularized(new DdOperatorNorm(2, 1, 1, 0.05, 2, false,
                        BnMode.EVAL)), 63L);
    }

    /** The same objective on the host and through the device runner (robust's one implementation). */
    private static void compareWithHost(Objective host, long seed) {
        OpenCl cl = NetTesting.runtime();
        Sequential hostNet = NetTesting.cnn7(seed), devNet = NetTesting.cnn7(seed);
        Random rnd = new Random(seed);
        Tensor[] xs = {uniform(rnd, 4), uniform(rnd, 4)};
        int[][] ys = {{2, 5, 7, 1}, {0, 0, 9, 3}};
        Sgd.Config cfg = Sgd.Config.of(0.05).withMomentum(0.9).withWeightDecay(5e-4);
        Sgd sgd = new Sgd(hostNet.params(), cfg);
        StepResult[] want = new StepResult[2];
        for (int s = 0; s < 2; s++) {
            ParamGrads grads = new ParamGrads();
            want[s] = host.step(hostNet, xs[s], ys[s], new Rng(200 + s), grads);
            sgd.step(grads);
        }
        try (StepRunner t = PlacedTrainOps.runners(cl.ops()).create(devNet, host, new Sgd(devNet.params(), cfg))) {
            for (int s = 0; s < 2; s++) {
                StepResult r = t.step(xs[s], ys[s], new Rng(200 + s), 0.05);
                String what = host.name() + " step " + (s + 1);
                assertEquals(want[s].loss(), r.loss(), NetTesting.NET_REL * want[s].loss(), what + " loss");
                assertEquals(want[s].cleanLoss(), r.cleanLoss(), NetTesting.NET_REL * want[s].loss(), what + " clean");
                assertEquals(want[s].adversarialLoss(), r.adversarialLoss(), NetTesting.NET_REL * want[s].loss(),
                        what + " adversarial");
                assertEquals(want[s].penalties().keySet(), r.penalties().keySet(), what + " penalty names");
                for (String k : want[s].penalties().keySet()) {
                    assertEquals(want[s].penalties().get(k), r.penalties().get(k),
                            NetTesting.NET_REL * Math.max(1e-3, want[s].loss()), what + " " + k);
                }
                assertEquals(want[s].correct(), r.correct(), what + " correct");
                assertEquals(want[s].counted(), r.counted(), what + " counted");
            }
            t.store();
        }
        List<Param> a = hostNet.params(), b = devNet.params();
        for (int i = 0; i < a.size(); i++) {
            assertNear(a.get(i).value, b.get(i).value, maxAbs(a.get(i).value), host.name() + ": " + a.get(i).name());
        }
        List<Param> ab = hostNet.buffers(), bb = devNet.buffers();
        for (int i = 0; i < ab.size(); i++) {
            assertNear(ab.get(i).value, bb.get(i).value, maxAbs(ab.get(i).value), host.name() + ": " + ab.get(i).name());
        }
    }
}
