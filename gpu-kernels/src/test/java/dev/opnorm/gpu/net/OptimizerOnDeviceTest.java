package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.gpu.DeviceInts;
import static dev.opnorm.gpu.net.NetTesting.assertNear;
import static dev.opnorm.gpu.net.NetTesting.maxAbs;
import static dev.opnorm.gpu.net.NetTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.opnorm.robust.train.StepRunner;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;
import dev.opnorm.nn.optim.Adam;
import dev.opnorm.nn.optim.KernelUpdateOps;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.optim.OptimizerState;
import dev.opnorm.nn.optim.RmsProp;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * The nn.optim optimizers (written once) with their state on the device ({@link KernelUpdateOps} on {@code OpenClOps}).
 *
 * <p>Alone, on odd sizes: every option combination against the same optimizer on the host, element for
 * element - equal bit for bit on PoCL (the kernels are the host {@code Kernels}' loops operation for
 * operation), within a few float ulps elsewhere for the updates that divide or take a square root (Adam,
 * RMSprop); a step transfers nothing, creates the state on the device at a parameter's first gradient,
 * and the state crosses only on export (one download per buffer), import (one upload per buffer) and
 * {@code moveTo}.
 *
 * <p>In a device training step (standard method) against the host step over three steps: loss of each
 * step, every parameter, every BatchNorm running statistic and every optimizer state buffer / counter
 * (exported from the device in the host's checkpoint format) to {@link NetTesting#NET_REL}. CNN7 width
 * 1/16 for every optimizer variant, the Wide ResNet 10-1 for Adam and RMSprop.
 *
 * <p>Adam and RMSprop run with eps 1e-3 instead of PyTorch's 1e-8: with a tiny eps their first updates are
 * about lr * sign(g) element by element, also where the true gradient is zero and g is rounding noise (the
 * conv biases in front of TRAIN-mode BatchNorm), so two correct implementations differ there by O(lr).
 * A larger eps keeps the comparison well conditioned; the update formulas themselves (any eps) are checked
 * bit for bit against the host optimizers in {@code TrainingKernelsTest}.
 */
class OptimizerOnDeviceTest {
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

    private static List<Function<List<Param>, Optimizer>> everyOption() {
        return List.of(
                ps -> new Sgd(ps, Sgd.Config.of(0.05)),
                ps -> new Sgd(ps, Sgd.Config.of(0.05).withWeightDecay(1e-2)),
                ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.9)),
                ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.8).withDampening(0.3).withWeightDecay(5e-4)),
                ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.9).withNesterov(true).withWeightDecay(5e-4)),
                ps -> new Adam(ps, Adam.Config.adam(1e-2)),
                ps -> new Adam(ps, Adam.Config.adam(1e-2).withWeightDecay(1e-2).withBetas(0.8, 0.95)),
                ps -> new Adam(ps, Adam.Config.adamW(1e-2)),
                ps -> new Adam(ps, Adam.Config.adamW(3e-2).withWeightDecay(0).withEps(1e-3)),
                ps -> new RmsProp(ps, RmsProp.Config.of(1e-3)),
                ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withWeightDecay(1e-2).withAlpha(0.9)),
                ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withMomentum(0.5)),
                ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withCentered(true)),
                ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withCentered(true).withMomentum(0.9)
                        .withWeightDecay(1e-3).withEps(1e-6)));
    }

    private static final int[] SIZES = {1, 7, 333, 1025, 5};
    private static final float[] SCALES = {3e-3f, 1f, 40f, 0.2f, 1f};

    private static List<Param> oddParams() {
        Random rnd = new Random(12);
        List<Param> ps = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) {
            ps.add(new Param("layer" + i + ".weight", randn(rnd, SIZES[i]), SIZES[i]));
        }
        return ps;
    }

    /** Exact on PoCL; elsewhere OpenCL's float division and sqrt may be off by a few ulps (Adam, RMSprop). */
    private static double updateTolerance(OpenCl cl, Optimizer o) {
        boolean pocl = cl.device().platformName.toLowerCase(java.util.Locale.ROOT).contains("portable");
        return pocl || o instanceof Sgd ? 0 : 1e-5;
    }

    private static void assertUpdated(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int j = 0; j < want.length; j++) {
            boolean ok = tol == 0 ? Float.floatToIntBits(want[j]) == Float.floatToIntBits(got[j])
                    : Math.abs((double) got[j] - want[j]) <= tol * (1 + Math.abs(want[j]));
            if (!ok) {
                fail(what + ": element " + j + " of " + want.length + " is " + got[j] + ", expected " + want[j]
                        + (tol == 0 ? " (bit for bit)" : " (tolerance " + tol + " * (1 + |expected|))"));
            }
        }
    }

    /**
     * Six steps of every option combination over parameters of sizes 1, 7, 333, 1025 (gradients of scales
     * 3e-3 to 40, some exact zeros), one that first gets a gradient at step 3 and one that never does, a
     * learning rate that changes every step, and a checkpoint (export, fresh optimizer, import) after step 3.
     */
    @Test
    void everyOption_equalsTheHostOptimizer_andTransfersOnlyItsState() {
        OpenCl cl = NetTesting.runtime();
        KernelUpdateOps<DeviceTensor> ops = KernelUpdateOps.on(cl.ops());
        for (Function<List<Param>, Optimizer> make : everyOption()) {
            List<Param> hostPs = oddParams(), devPs = oddParams();
            Optimizer host = make.apply(hostPs), dev = make.apply(devPs);
            double tol = updateTolerance(cl, host);
            Map<Param, DeviceTensor> values = new IdentityHashMap<>();
            for (Param p : devPs) {
                values.put(p, DeviceTensor.of(cl, p.value));
            }
            Map<Param, DeviceTensor> grads = new IdentityHashMap<>();
            try {
                dev.moveTo(ops);
                Random rnd = new Random(77);
                for (int s = 0; s < 6; s++) {
                    ParamGrads hg = new ParamGrads();
                    for (int i = 0; i < 4; i++) {
                        if (i == 3 && s < 2) {
                            continue;
                        }
                        float[] g = hg.of(hostPs.get(i));
                        for (int j = 0; j < g.length; j++) {
                            g[j] = j % 11 == 5 ? 0f : SCALES[i] * (float) rnd.nextGaussian();
                        }
                        grads.computeIfAbsent(devPs.get(i), p -> DeviceTensor.allocate(cl, p.size())).upload(g);
                    }
                    double lr = host.learningRate() * (1 + 0.37 * s) / (1 + 0.1 * s * s);
                    host.setLearningRate(lr);
                    dev.setLearningRate(lr);
                    host.step(hg);
                    long up = cl.uploads(), down = cl.downloads(), allocs = cl.allocations();
                    dev.step(ops, values::get, grads::get);
                    String what = dev + " step " + (s + 1);
                    assertEquals(0, cl.uploads() - up, what + ": uploads");
                    assertEquals(0, cl.downloads() - down, what + ": downloads");
                    int created = s == 0 ? 3 : s == 2 ? 1 : 0; // parameters getting their first gradient
                    int names = host.exportState().buffers().keySet().stream()
                            .filter(k -> k.startsWith("layer0.")).mapToInt(k -> 1).sum();
                    assertEquals((long) created * names, cl.allocations() - allocs, what + ": state buffers created");
                    if (s == 2) {
                        OptimizerState saved = dev.exportState();
                        assertEquals(saved.buffers().size(), cl.downloads() - down, what + ": export downloads");
                        Optimizer fresh = make.apply(devPs);
                        fresh.moveTo(ops);
                        long before = cl.uploads();
                        fresh.importState(saved);
                        assertEquals(saved.buffers().size(), cl.uploads() - before, what + ": import uploads");
                        dev.moveTo(KernelUpdateOps.HOST); // frees its device buffers
                        dev = fresh;
                    }
                    for (int i = 0; i < hostPs.size(); i++) {
                        assertUpdated(hostPs.get(i).value, values.get(devPs.get(i)).download(), tol,
                                what + " " + hostPs.get(i).name());
                    }
                }
                long down = cl.downloads();
                dev.moveTo(KernelUpdateOps.HOST);
                OptimizerState want = host.exportState(), got = dev.exportState();
                assertEquals(want.buffers().size(), cl.downloads() - down, dev + ": moving home downloads each buffer");
                assertEquals(want.buffers().keySet(), got.buffers().keySet(), dev + ": state names");
                assertEquals(want.counters(), got.counters(), dev + ": counters");
                for (String k : want.buffers().keySet()) {
                    assertUpdated(want.buffers().get(k), got.buffers().get(k), tol, dev + " " + k);
                }
            } finally {
                dev.moveTo(KernelUpdateOps.HOST);
                values.values().forEach(DeviceTensor::close);
                grads.values().forEach(DeviceTensor::close);
            }
        }
    }

    @Test
    void aStepOnTheHost_whileTheStateIsOnTheDevice_isRefusedNamingIt() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(38L);
        Sgd sgd = new Sgd(net.params(), Sgd.Config.of(0.1).withMomentum(0.9));
        try (DeviceTraining t = new DeviceTraining(new PlacedModel<>(cl.ops(), net), Objective.standard(), sgd)) {
            assertEquals(KernelUpdateOps.on(cl.ops()), sgd.backend());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> sgd.step(new ParamGrads()));
            assertTrue(e.getMessage().contains("OpenCL device"), e.getMessage());
        }
        assertSame(KernelUpdateOps.HOST, sgd.backend());
        sgd.step(new ParamGrads()); // home again
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
        try (DeviceTraining t = new DeviceTraining(new PlacedModel<>(cl.ops(), devNet), Objective.standard(),
                devHost)) {
            StepRunner trainer = t.runner;
            for (int s = 0; s < STEPS; s++) {
                StepResult r = trainer.step(xs[s], labels[s], new Rng(s), devHost.learningRate());
                assertEquals(hostLoss[s], r.loss(), NetTesting.NET_REL * hostLoss[s], devHost.describe() + ": loss of step " + (s + 1));
                assertEquals(null, trainer.nonFiniteParameter());
            }
            trainer.store();
        }
        assertSame(KernelUpdateOps.HOST, devHost.backend(), "closing the trainer brings the state home");
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
