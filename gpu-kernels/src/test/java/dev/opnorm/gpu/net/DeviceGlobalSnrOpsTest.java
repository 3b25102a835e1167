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
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.optim.OptimizerState;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.reg.KernelGlobalSnrOps;
import dev.opnorm.robust.train.PlacedTerms;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.StepRunner;

import java.util.List;
import java.util.Random;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * robust's global spectral norm update on {@link KernelGlobalSnrOps} ({@link PlacedTerms#globalSpectralNorm} in
 * robust's {@code Objective} on the device runner) against the host training step of
 * {@code Objective.regularized(GlobalSpectralNorm ...)} + {@code Sgd} on ScalarKernels, both forms (reshaped
 * kernels, true conv operator norms), 2 power steps per update, over 3 steps of the 7-layer CNN at width
 * 1/16: loss, penalty, every parameter and BN statistic, and every layer's u, v to 1e-4; the resume path (a
 * new device model, optimizer and regularizer continued from the host copies after step 2); the transfers of
 * a step (the batch, its labels and the state after a resume up; the step's scalars and the sigmas down).
 * With the last layer's weights zero at the first update (A v = 0, A^T u = 0) the device keeps v as the
 * host does, so the iterations still agree afterwards.
 */
class DeviceGlobalSnrOpsTest {
    private static final int BATCH = 3;
    private static final int STEPS = 3;
    private static final Sgd.Config SGD = Sgd.Config.of(0.05).withMomentum(0.9).withWeightDecay(5e-4);
    private static final Shape INPUT = new Shape(BATCH, 3, 32, 32);

    @Test
    void reshapedForm_threeSteps_matchesHostTrainerSteps() {
        compare(net -> GlobalSpectralNorm.reshaped(net, 0.05, 2), 71L, false);
    }

    @Test
    void reshapedForm_zeroLayer_keepsVAsTheHost() {
        compare(net -> GlobalSpectralNorm.reshaped(net, 0.05, 2), 73L, true);
    }

    @Test
    void convolutionForm_zeroLayer_keepsVAsTheHost() {
        compare(net -> GlobalSpectralNorm.convolution(net, INPUT, 0.05, 2), 74L, true);
    }

    @Test
    void convolutionForm_threeSteps_matchesHostTrainerSteps() {
        compare(net -> GlobalSpectralNorm.convolution(net, INPUT, 0.05, 2), 72L, false);
    }

    @Test
    void regularizer_nullHost_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> PlacedTerms.globalSpectralNorm(null, null));
        assertThrows(IllegalArgumentException.class, () -> new KernelGlobalSnrOps<>(null));
    }

    private static void compare(Function<Sequential, GlobalSpectralNorm> make, long seed, boolean zeroLast) {
        OpenCl cl = NetTesting.runtime();
        Sequential hostNet = NetTesting.cnn7(seed), devNet = NetTesting.cnn7(seed);
        GlobalSpectralNorm hostReg = make.apply(hostNet), devHostReg = make.apply(devNet);
        int last = hostReg.layers() - 1;
        float[] start = null;
        if (zeroLast) {
            java.util.Arrays.fill(hostReg.weight(last).value, 0f);
            java.util.Arrays.fill(devHostReg.weight(last).value, 0f);
            hostReg.initialize(99);
            devHostReg.initialize(99);
            start = devHostReg.v(last).clone();
        }
        Objective host = Objective.regularized(hostReg);
        Random rnd = new Random(seed);
        Tensor[] xs = new Tensor[STEPS];
        int[][] ys = new int[STEPS][];
        for (int s = 0; s < STEPS; s++) {
            xs[s] = Tensor.of(BATCH, 3, 32, 32, randn(rnd, BATCH * 3 * 32 * 32));
            ys[s] = new int[]{rnd.nextInt(10), rnd.nextInt(10), rnd.nextInt(10)};
        }
        Sgd hostSgd = new Sgd(hostNet.params(), SGD);
        StepResult[] want = new StepResult[STEPS];
        for (int s = 0; s < STEPS; s++) {
            ParamGrads grads = new ParamGrads();
            want[s] = host.step(hostNet, xs[s], ys[s], new Rng(300 + s), grads);
            hostSgd.step(grads);
        }
        String name = hostReg.name();
        double penalty0 = want[0].penalties().get(name);
        assertTrue(penalty0 > 0.01 * want[0].loss(), "the penalty is a visible part of the loss: "
                + want[0].breakdown());

        int layers = devHostReg.layers();
        Sgd devSgd = new Sgd(devNet.params(), SGD);
        Objective devObjective = Objective.regularized(devHostReg);
        StepRunner t = PlacedTrainOps.runners(cl.ops()).create(devNet, devObjective, devSgd);
        try {
            for (int s = 0; s < STEPS; s++) {
                long up = cl.uploads(), down = cl.downloads();
                StepResult r = t.step(xs[s], ys[s], new Rng(300 + s), SGD.lr());
                String what = name + (start != null ? " (last layer zero at first)" : "") + " step " + (s + 1);
                assertEquals(want[s].loss(), r.loss(), NetTesting.NET_REL * want[s].loss(), what + " loss");
                assertEquals(want[s].penalties().get(name), r.penalties().get(name),
                        NetTesting.NET_REL * want[s].loss(), what + " penalty");
                assertEquals(want[s].correct(), r.correct(), what + " correct");
                int stateUploads = s == 0 || s == 2 ? 2 * layers : 0;
                assertEquals(2 + stateUploads, cl.uploads() - up,
                        what + ": uploads are the batch, its labels and (first step, after a resume) u and v");
                assertEquals(2, cl.downloads() - down, what + ": downloads are the step's scalars and the sigmas");
                if (s == 0 && start != null) {
                    // A^T u = 0 at the first update: v keeps its start (as on the host), not 0
                    t.store();
                    org.junit.jupiter.api.Assertions.assertArrayEquals(start, devHostReg.v(last),
                            name + ": v of the zero layer after the first update");
                }
                if (s == 1) {
                    // checkpoint and resume as the Trainer with the device runner does: host copies out (the
                    // optimizer state exported from the device), a fresh device side in
                    t.store();
                    OptimizerState saved = devSgd.exportState();
                    t.close();
                    Sgd resumed = new Sgd(devNet.params(), SGD);
                    t = PlacedTrainOps.runners(cl.ops()).create(devNet, devObjective, resumed);
                    resumed.importState(saved);
                    t.load();
                }
            }
            t.store();
        } finally {
            t.close();
        }
        List<Param> a = hostNet.params(), b = devNet.params();
        for (int i = 0; i < a.size(); i++) {
            assertNear(a.get(i).value, b.get(i).value, maxAbs(a.get(i).value), name + ": " + a.get(i).name());
        }
        List<Param> ab = hostNet.buffers(), bb = devNet.buffers();
        for (int i = 0; i < ab.size(); i++) {
            assertNear(ab.get(i).value, bb.get(i).value, maxAbs(ab.get(i).value), name + ": " + ab.get(i).name());
        }
        for (int i = 0; i < layers; i++) {
            assertNear(hostReg.u(i), devHostReg.u(i), 1, name + ": u of " + hostReg.layerName(i));
            assertNear(hostReg.v(i), devHostReg.v(i), 1, name + ": v of " + hostReg.layerName(i));
        }
    }
}
