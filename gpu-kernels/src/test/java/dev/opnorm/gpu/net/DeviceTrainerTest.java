package dev.opnorm.gpu.net;

import dev.opnorm.robust.train.PlacedTrainOps;
import dev.opnorm.nn.layers.PlacedModel;
import static dev.opnorm.gpu.net.NetTesting.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.optim.Adam;
import dev.opnorm.nn.optim.OptimizerState;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.StepRunner;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The device training loop's pieces: a checkpoint round trip through the host (parameters and optimizer
 * state downloaded, then uploaded into a fresh device model and optimizer) continues bit-identically; a
 * NaN loss changes nothing; a parameter made non-finite by an update is named; EVAL accuracy counts equal
 * the host's.
 */
class DeviceTrainerTest {
    private static final int BATCH = 4;

    private static Tensor batch(Random rnd) {
        return Tensor.of(BATCH, 3, 32, 32, randn(rnd, BATCH * 3 * 32 * 32));
    }

    @Test
    void resumeThroughHost_continuesBitIdentically() {
        OpenCl cl = NetTesting.runtime();
        Random rnd = new Random(6);
        Tensor[] xs = {batch(rnd), batch(rnd), batch(rnd)};
        int[][] ys = {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 0, 1}};
        Adam.Config cfg = Adam.Config.adam(1e-2).withWeightDecay(1e-3);

        Sequential a = NetTesting.cnn7(41L);
        try (DeviceTraining t = new DeviceTraining(new PlacedModel<>(cl.ops(), a), Objective.standard(),
                new Adam(a.params(), cfg))) {
            for (int s = 0; s < 3; s++) {
                t.runner.step(xs[s], ys[s], new Rng(s), 1e-2);
            }
            t.runner.store();
        }

        Sequential b = NetTesting.cnn7(41L);
        Adam hostB = new Adam(b.params(), cfg);
        OptimizerState saved;
        int stateBuffers = 2 * b.params().size(); // exp_avg, exp_avg_sq of every parameter
        try (DeviceTraining t = new DeviceTraining(new PlacedModel<>(cl.ops(), b), Objective.standard(), hostB)) {
            for (int s = 0; s < 2; s++) {
                t.runner.step(xs[s], ys[s], new Rng(s), 1e-2);
            }
            t.runner.store();
            long down = cl.downloads();
            saved = hostB.exportState(); // a checkpoint, straight from the device
            assertEquals(stateBuffers, cl.downloads() - down, "export: one download per state buffer");
        }
        Adam resumed = new Adam(b.params(), cfg);
        try (DeviceTraining t = new DeviceTraining(new PlacedModel<>(cl.ops(), b), Objective.standard(), resumed)) {
            long up = cl.uploads();
            resumed.importState(saved); // a resume, straight to the device
            assertEquals(stateBuffers, cl.uploads() - up, "import: one upload per state buffer");
            t.runner.step(xs[2], ys[2], new Rng(2), 1e-2);
            t.runner.store();
        }
        for (int i = 0; i < a.params().size(); i++) {
            assertArrayEquals(a.params().get(i).value, b.params().get(i).value, "resumed " + a.params().get(i).name());
        }
        for (int i = 0; i < a.buffers().size(); i++) {
            assertArrayEquals(a.buffers().get(i).value, b.buffers().get(i).value, "resumed " + a.buffers().get(i).name());
        }
    }

    @Test
    void nanLoss_changesNothing() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(42L);
        Tensor x = batch(new Random(7));
        List<float[]> before = new ArrayList<>();
        List<Param> all = new ArrayList<>(net.params());
        all.addAll(net.buffers());
        for (Param p : all) {
            before.add(p.value.clone());
        }
        Sgd sgd = new Sgd(net.params(), Sgd.Config.of(0.1).withMomentum(0.9));
        try (DeviceTraining t = new DeviceTraining(new PlacedModel<>(cl.ops(), net), Objective.standard(), sgd)) {
            StepResult r;
            // a label outside [0, 10) (only the device-batch entry point does not check them) gives a NaN loss;
            // a NaN pixel would not: train-mode BatchNorm spreads it over its channel and ReLU maps NaN to 0
            try (DeviceTensor dx = DeviceTensor.of(cl, x); DeviceInts dy = DeviceInts.of(cl, new int[]{0, 1, 10, 3})) {
                r = t.step(dx, dy, new Rng(0));
            }
            assertFalse(r.finite(), "loss " + r.loss());
            assertEquals(null, t.runner.nonFiniteParameter(), "no update ran");
            t.ops.store();
            assertTrue(sgd.exportState().buffers().isEmpty(), "no momentum buffer was created");
        }
        for (int i = 0; i < all.size(); i++) {
            assertArrayEquals(before.get(i), all.get(i).value, all.get(i).name() + " unchanged");
        }
    }

    @Test
    void explodingUpdate_namesTheFirstNonFiniteParameter_asTheHostCheckWould() {
        OpenCl cl = NetTesting.runtime();
        Sgd.Config cfg = Sgd.Config.of(1000).withWeightDecay(1e38); // p - 1e3 (1e38 p + g): Inf for |p| > 3.4e-3
        Sequential hostNet = NetTesting.cnn7(43L);
        new Sgd(hostNet.params(), cfg).step(withGradients(hostNet));
        String firstHost = null;
        for (Param p : hostNet.params()) {
            for (float v : p.value) {
                if (!Float.isFinite(v) && firstHost == null) {
                    firstHost = p.name();
                }
            }
        }
        assertNotNull(firstHost, "the host update overflows");
        Sequential net = NetTesting.cnn7(43L);
        try (StepRunner t = PlacedTrainOps.runners(cl.ops()).create(net, Objective.standard(), new Sgd(net.params(), cfg))) {
            StepResult r = t.step(batch(new Random(8)), new int[]{0, 1, 2, 3}, new Rng(0), 1000);
            assertTrue(r.finite(), "the loss before the update is finite");
            String msg = t.nonFiniteParameter();
            assertNotNull(msg);
            assertTrue(msg.startsWith("parameter " + firstHost + " became non-finite"), msg);
            assertEquals(null, t.nonFiniteParameter(), "checked once per update");
        }
    }

    /** Zero gradients for every parameter (the overflow comes from weight decay alone). */
    private static ParamGrads withGradients(Sequential net) {
        ParamGrads g = new ParamGrads();
        for (Param p : net.params()) {
            g.of(p);
        }
        return g;
    }

    @Test
    void correct_matchesHostEvalCount() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(44L);
        Random rnd = new Random(9);
        int n = 7;
        Tensor x = Tensor.of(n, 3, 32, 32, randn(rnd, n * 3 * 32 * 32));
        Tensor logits = net.forward(x);
        int[] labels = new int[n];
        int want = 0;
        for (int i = 0; i < n; i++) {
            int arg = 0;
            for (int j = 1; j < 10; j++) {
                arg = logits.data[i * 10 + j] > logits.data[i * 10 + arg] ? j : arg;
            }
            labels[i] = i % 2 == 0 ? arg : (arg + 1) % 10; // about half right, by construction
            want += labels[i] == arg ? 1 : 0;
        }
        try (DeviceTraining t = new DeviceTraining(new PlacedModel<>(cl.ops(), net), Objective.standard(),
                new Sgd(net.params(), Sgd.Config.of(0.1)))) {
            assertEquals(want, t.ops.correct(x, labels, 0));
        }
    }

    /**
     * A steady-state step of the training loop with Adam: 2 uploads (batch, labels), 1 download (the loss
     * and count), no device buffer created; the finiteness check 1 download; an evaluation batch 2 uploads
     * and 1 download.
     */
    @Test
    void steadyStateStep_transfersOnlyTheBatchAndTheScalars() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(45L);
        Random rnd = new Random(10);
        int[] y = {0, 1, 2, 3};
        try (DeviceTraining t = new DeviceTraining(new PlacedModel<>(cl.ops(), net), Objective.standard(),
                new Adam(net.params(), Adam.Config.adam(1e-3)))) {
            t.runner.step(batch(rnd), y, new Rng(0), 1e-3);
            t.runner.nonFiniteParameter();
            t.ops.correct(batch(rnd), y, 0);
            Tensor x = batch(rnd);
            long up = cl.uploads(), down = cl.downloads(), allocs = cl.allocations();
            t.runner.step(x, y, new Rng(1), 1e-3);
            assertEquals(2, cl.uploads() - up, "uploads of a step: the batch and its labels");
            assertEquals(1, cl.downloads() - down, "downloads of a step: the loss and the correct count");
            assertEquals(null, t.runner.nonFiniteParameter());
            assertEquals(2, cl.downloads() - down, "the finiteness check: one download");
            t.ops.correct(x, y, 0);
            assertEquals(4, cl.uploads() - up, "an evaluation batch: its images and labels");
            assertEquals(3, cl.downloads() - down, "an evaluation batch: the correct count");
            assertEquals(0, cl.allocations() - allocs, "device buffers created in steady state");
        }
    }
}
