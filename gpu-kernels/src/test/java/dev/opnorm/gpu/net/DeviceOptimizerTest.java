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
import dev.opnorm.nn.optim.Adam;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.optim.OptimizerState;
import dev.opnorm.nn.optim.RmsProp;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * Device optimizers in a device training step (standard method) against the host step with the
 * nn.optim optimizer over three steps: loss of each step, every parameter, every BatchNorm running
 * statistic and every optimizer state buffer / counter (through {@link DeviceOptimizer#downloadState()}, so
 * the checkpoint format is the host's) to {@link NetTesting#NET_REL}. CNN7 width 1/16 for every optimizer
 * variant, the Wide ResNet 10-1 for Adam and RMSprop.
 *
 * <p>Adam and RMSprop run with eps 1e-3 instead of PyTorch's 1e-8: with a tiny eps their first updates are
 * about lr * sign(g) element by element, also where the true gradient is zero and g is rounding noise (the
 * conv biases in front of TRAIN-mode BatchNorm), so two correct implementations differ there by O(lr).
 * A larger eps keeps the comparison well conditioned; the update formulas themselves (any eps) are checked
 * bit for bit against the host optimizers in {@code TrainingKernelsTest}.
 */
class DeviceOptimizerTest {
    private static final int BATCH = 4, STEPS = 3;
    private static final double EPS = 1e-3;

    @Test
    void adam_withWeightDecay_matchesHostOverThreeSteps_cnn7() {
        compare(NetTesting.cnn7(31L), NetTesting.cnn7(31L), ps -> new Adam(ps, Adam.Config.adam(1e-3).withEps(EPS).withWeightDecay(5e-4)));
    }

    @Test
    void adamW_matchesHostOverThreeSteps_cnn7() {
        compare(NetTesting.cnn7(32L), NetTesting.cnn7(32L), ps -> new Adam(ps, Adam.Config.adamW(1e-3).withEps(EPS)));
    }

    @Test
    void rmsprop_centeredWithMomentumAndWeightDecay_matchesHostOverThreeSteps_cnn7() {
        compare(NetTesting.cnn7(33L), NetTesting.cnn7(33L), ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withEps(EPS)
                .withCentered(true).withMomentum(0.9).withWeightDecay(5e-4)));
    }

    @Test
    void rmsprop_plain_matchesHostOverThreeSteps_cnn7() {
        compare(NetTesting.cnn7(34L), NetTesting.cnn7(34L), ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withEps(EPS)));
    }

    @Test
    void sgd_nesterov_matchesHostOverThreeSteps_cnn7() {
        compare(NetTesting.cnn7(35L), NetTesting.cnn7(35L), ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.9)
                .withNesterov(true).withWeightDecay(5e-4)));
    }

    @Test
    void adam_matchesHostOverThreeSteps_wideResNet() {
        compare(NetTesting.wrn(36L), NetTesting.wrn(36L), ps -> new Adam(ps, Adam.Config.adam(1e-3).withEps(EPS)));
    }

    @Test
    void rmsprop_withMomentum_matchesHostOverThreeSteps_wideResNet() {
        compare(NetTesting.wrn(37L), NetTesting.wrn(37L), ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withEps(EPS)
                .withMomentum(0.9)));
    }

    @Test
    void of_unknownOptimizer_isRejectedNamingIt() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(38L);
        Optimizer other = new Optimizer(net.params(), 0.1) {
            @Override
            public String kind() {
                return "lion";
            }

            @Override
            protected void update(int i, float[] value, float[] grad) {
            }

            @Override
            protected List<String> bufferNames() {
                return List.of();
            }

            @Override
            protected boolean hasState(int i) {
                return false;
            }

            @Override
            protected float[] buffer(int i, String name) {
                return null;
            }

            @Override
            protected void install(int i, Map<String, float[]> buffers, Map<String, Long> counters) {
            }

            @Override
            protected void clear(int i) {
            }

            @Override
            public String describe() {
                return "lion()";
            }
        };
        try (DeviceModel model = new DeviceModel(cl, net)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceOptimizer.of(model, other));
            assertEquals(true, e.getMessage().contains("lion()"), e.getMessage());
        }
    }

    private static void compare(Sequential hostNet, Sequential devNet, Function<List<Param>, Optimizer> make) {
        OpenCl cl = NetTesting.runtime();
        Random rnd = new Random(5);
        Tensor[] xs = new Tensor[STEPS];
        int[][] labels = new int[STEPS][BATCH];
        for (int s = 0; s < STEPS; s++) {
            xs[s] = Tensor.of(BATCH, 3, 32, 32, randn(rnd, BATCH * 3 * 32 * 32));
            for (int i = 0; i < BATCH; i++) {
                labels[s][i] = rnd.nextInt(10);
            }
        }
        Optimizer hostOpt = make.apply(hostNet.params());
        double[] hostLoss = new double[STEPS];
        for (int s = 0; s < STEPS; s++) {
            Linearization lin = hostNet.linearize(xs[s], BnMode.TRAIN);
            float[] g = new float[lin.outShape().size()];
            hostLoss[s] = SoftmaxCrossEntropy.lossAndGradient(lin.output(), labels[s], g);
            ParamGrads grads = new ParamGrads();
            lin.vjpParams(g, grads);
            hostOpt.step(grads);
            lin.commit();
        }

        Optimizer devHost = make.apply(devNet.params());
        try (DeviceModel model = new DeviceModel(cl, devNet);
             DeviceTrainer trainer = new DeviceTrainer(model, new DeviceStandardMethod(), DeviceOptimizer.of(model, devHost))) {
            for (int s = 0; s < STEPS; s++) {
                DeviceStepResult r = trainer.step(xs[s], labels[s], new Rng(s));
                assertEquals(hostLoss[s], r.loss(), NetTesting.NET_REL * hostLoss[s], devHost.describe() + ": loss of step " + (s + 1));
                assertEquals(null, trainer.nonFiniteParameter());
            }
            model.downloadParameters();
            trainer.optimizer().downloadState();
        }
        String what = devHost.describe() + " after " + STEPS + " steps: ";
        List<Param> want = hostNet.params(), got = devNet.params();
        for (int i = 0; i < want.size(); i++) {
            assertNear(want.get(i).value, got.get(i).value, maxAbs(want.get(i).value), what + want.get(i).name());
        }
        List<Param> wantB = hostNet.buffers(), gotB = devNet.buffers();
        for (int i = 0; i < wantB.size(); i++) {
            assertNear(wantB.get(i).value, gotB.get(i).value, maxAbs(wantB.get(i).value), what + wantB.get(i).name());
        }
        OptimizerState ws = hostOpt.exportState(), gs = devHost.exportState();
        assertEquals(ws.buffers().keySet(), gs.buffers().keySet(), what + "state buffer names");
        assertEquals(ws.counters(), gs.counters(), what + "state counters");
        // each state buffer relative to the largest value of its kind over the network (a bias with zero
        // true gradient holds only weight decay and rounding noise: its own maximum is no scale)
        Map<String, Double> scale = new java.util.HashMap<>();
        for (Map.Entry<String, float[]> e : ws.buffers().entrySet()) {
            scale.merge(kind(e.getKey()), maxAbs(e.getValue()), Math::max);
        }
        for (String k : ws.buffers().keySet()) {
            assertNear(ws.buffers().get(k), gs.buffers().get(k), scale.get(kind(k)), what + k);
        }
    }

    private static String kind(String key) {
        return key.substring(key.lastIndexOf('.') + 1);
    }
}
