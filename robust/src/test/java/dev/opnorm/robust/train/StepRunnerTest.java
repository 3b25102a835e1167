package dev.opnorm.robust.train;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Trainer#runOn}: a runner that trains a private copy of the model (as a device runner keeps its
 * parameters on the device) and syncs only through load/store must give the default runner's run bit for
 * bit, including checkpoints, a mid-epoch crash and resume, and the per-epoch accuracy.
 */
class StepRunnerTest {
    private static final Dataset TRAIN = TrainFixtures.data("synthetic/train", 48, 1);
    private static final Dataset TEST = TrainFixtures.data("synthetic/test", 30, 2);

    /** Steps a shadow model with its own optimizer; the host objects change only in store(). */
    static final class ShadowRunner implements StepRunner {
        final Sequential shadow = TrainFixtures.model();
        final Layer host;
        final Optimizer hostOptimizer;
        final Optimizer shadowOptimizer;
        final StepRunner inner;
        int loads, stores, steps;

        ShadowRunner(Layer host, TrainingMethod method, Optimizer optimizer, OptimizerSpec spec) {
            this.host = host;
            this.hostOptimizer = optimizer;
            this.shadowOptimizer = spec.create(shadow.params());
            this.inner = PlacedTrainOps.runners(PlacedModel::host).create(shadow, method, shadowOptimizer);
        }

        private static void copy(List<Param> from, List<Param> to) {
            for (int i = 0; i < from.size(); i++) {
                System.arraycopy(from.get(i).value, 0, to.get(i).value, 0, from.get(i).value.length);
            }
        }

        @Override
        public void load() {
            loads++;
            copy(host.params(), shadow.params());
            copy(host.buffers(), shadow.buffers());
            shadowOptimizer.importState(hostOptimizer.exportState());
        }

        @Override
        public StepResult step(Tensor x, int[] labels, Rng rng, double lr) {
            steps++;
            return inner.step(x, labels, rng, lr);
        }

        @Override
        public String nonFiniteParameter() {
            return inner.nonFiniteParameter();
        }

        @Override
        public void store() {
            stores++;
            copy(shadow.params(), host.params());
            copy(shadow.buffers(), host.buffers());
            hostOptimizer.importState(shadowOptimizer.exportState());
        }

        @Override
        public int correct(Dataset data, int from, int count) {
            return inner.correct(data, from, count);
        }
    }

    @Test
    void runOn_shadowRunner_givesTheHostRunBitForBit_acrossCrashAndResume(@TempDir Path dir) throws IOException {
        TrainConfig cfg = TrainFixtures.config(21).withCheckpointEverySteps(4);
        Sequential ref = TrainFixtures.model();
        Trainer.Result want = new Trainer(ref, TRAIN, TEST, Objective.standard(), cfg).log(null)
                .checkpointTo(dir.resolve("ref.st")).fit();

        Path ck = dir.resolve("ck.st");
        Sequential crashed = TrainFixtures.model();
        List<ShadowRunner> made = new ArrayList<>();
        assertThrows(RuntimeException.class, () -> new Trainer(crashed, TRAIN, TEST, Objective.standard(), cfg).log(null)
                .runOn((m, method, opt) -> {
                    ShadowRunner r = new ShadowRunner(m, method, opt, cfg.optimizer());
                    made.add(r);
                    return r;
                }).checkpointTo(ck).onStep((e, s, r) -> {
                    if (s == 10) {
                        throw new RuntimeException("simulated crash");
                    }
                }).fit());
        assertEquals(10, made.get(0).steps, "every step went through the runner");

        Sequential resumed = TrainFixtures.model();
        Trainer t = new Trainer(resumed, TRAIN, TEST, Objective.standard(), cfg).log(null)
                .runOn((m, method, opt) -> new ShadowRunner(m, method, opt, cfg.optimizer())).checkpointTo(ck)
                .resumeFrom(ck);
        Trainer.Result got = t.fit();
        ShadowRunner runner = (ShadowRunner) t.runner();
        assertEquals(1, runner.loads, "loaded once, after the resume");
        assertTrue(runner.stores >= 3, "stored before each checkpoint and epoch end: " + runner.stores);
        assertEquals(want.steps(), got.steps());
        for (int i = 0; i < got.epochs().size(); i++) {
            Trainer.EpochStats w = want.epochs().get(want.epochs().size() - got.epochs().size() + i), g = got.epochs().get(i);
            assertEquals(w.testAccuracy(), g.testAccuracy(), "test accuracy of epoch " + g.epoch());
        }
        Checkpoint ca = Checkpoint.load(dir.resolve("ref.st")), cb = Checkpoint.load(ck);
        assertEquals(ca.modelTensors().keySet(), cb.modelTensors().keySet());
        for (String k : ca.modelTensors().keySet()) {
            assertArrayEquals(ca.modelTensors().get(k).toFloats(), cb.modelTensors().get(k).toFloats(), k);
        }
        var oa = ca.optimizer().orElseThrow().buffers();
        var ob = cb.optimizer().orElseThrow().buffers();
        assertEquals(oa.keySet(), ob.keySet());
        assertTrue(!oa.isEmpty(), "momentum buffers checkpointed");
        for (String k : oa.keySet()) {
            assertArrayEquals(oa.get(k), ob.get(k), k);
        }
        List<float[]> a = TrainFixtures.snapshot(ref), b = TrainFixtures.snapshot(resumed);
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), "tensor " + i);
        }
        assertEquals(Checkpoint.load(ck).training().orElseThrow().step(), got.steps());
    }

    @Test
    void runOn_nullFactoryOrRunner_isRejected() {
        Trainer t = new Trainer(TrainFixtures.model(), TRAIN, null, Objective.standard(), TrainFixtures.config(1));
        assertThrows(IllegalArgumentException.class, () -> t.runOn(null));
        assertThrows(IllegalArgumentException.class, () -> t.runOn((m, method, opt) -> null));
    }
}
