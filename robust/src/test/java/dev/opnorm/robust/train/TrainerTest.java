package dev.opnorm.robust.train;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.checkpoint.TensorEntry;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.optim.LrSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    private static final Dataset TRAIN = TrainFixtures.data("synthetic/train", 48, 1);
    private static final Dataset TEST = TrainFixtures.data("synthetic/test", 30, 2);

    @Test
    void fit_lowersTheLossAndLearnsTheTask_standardTraining() throws IOException {
        Sequential model = TrainFixtures.model();
        TrainConfig cfg = TrainFixtures.config(3).withEpochs(6).withAugmentation(0, false);
        List<Double> losses = new ArrayList<>();
        Trainer.Result r = new Trainer(model, TRAIN, TEST, Objective.standard(), cfg).log(null)
                .onStep((e, s, res) -> losses.add(res.loss())).fit();
        assertEquals(6 * 6, r.steps());
        double firstEpoch = r.epochs().get(0).meanLoss(), lastEpoch = r.epochs().get(5).meanLoss();
        assertTrue(lastEpoch < 0.5 * firstEpoch, "loss " + firstEpoch + " -> " + lastEpoch);
        assertTrue(r.epochs().get(5).testAccuracy() > 0.8, "test accuracy " + r.epochs().get(5).testAccuracy());
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "adam", "rmsprop"})
    void fit_eachOptimizer_lowersTheLoss(String kind) throws IOException {
        OptimizerSpec spec = switch (kind) {
            case "sgd" -> OptimizerSpec.sgd(0.05, 0.9, 5e-4);
            case "adam" -> OptimizerSpec.adam(0.01, 0);
            default -> OptimizerSpec.rmsprop(0.003, 0, 0);
        };
        Sequential model = TrainFixtures.model();
        Trainer t = new Trainer(model, TRAIN, null, Objective.standard(),
                TrainFixtures.config(4).withEpochs(4).withOptimizer(spec).withAugmentation(0, false)).log(null);
        assertEquals(kind, t.optimizer().kind());
        Trainer.Result r = t.fit();
        assertTrue(r.epochs().get(3).meanLoss() < 0.7 * r.epochs().get(0).meanLoss(), kind + ": " + r.epochs());
    }

    @Test
    void fit_setsTheScheduledLearningRateBeforeEachStep() throws IOException {
        List<Double> cosine = new ArrayList<>(), step = new ArrayList<>();
        Sequential a = TrainFixtures.model(), b = TrainFixtures.model();
        Trainer ta = new Trainer(a, TRAIN, null, Objective.standard(), TrainFixtures.config(1)).log(null);
        ta.onStep((e, s, r) -> cosine.add(ta.optimizer().learningRate())).fit();
        Trainer tb = new Trainer(b, TRAIN, null, Objective.standard(),
                TrainFixtures.config(1).withSchedule(ScheduleSpec.stepAtEpochs(0.1, 1, 2))).log(null);
        tb.onStep((e, s, r) -> step.add(tb.optimizer().learningRate())).fit();
        LrSchedule expected = LrSchedule.cosine(0.05, 18, 2, 0.001);
        assertEquals(18, cosine.size());
        for (int s = 0; s < 18; s++) {
            assertEquals(expected.at(s), cosine.get(s), "step " + s);
            assertEquals(0.05 * Math.pow(0.1, s / 6), step.get(s), 1e-15, "step " + s);
        }
    }

    @Test
    void fit_sameSeed_givesBitIdenticalWeights_andAnotherSeedDoesNot() throws IOException {
        Sequential a = TrainFixtures.model(), b = TrainFixtures.model(), c = TrainFixtures.model();
        new Trainer(a, TRAIN, null, TrainFixtures.everything(a), TrainFixtures.config(7)).log(null).fit();
        new Trainer(b, TRAIN, null, TrainFixtures.everything(b), TrainFixtures.config(7)).log(null).fit();
        new Trainer(c, TRAIN, null, TrainFixtures.everything(c), TrainFixtures.config(8)).log(null).fit();
        List<float[]> sa = TrainFixtures.snapshot(a), sb = TrainFixtures.snapshot(b), sc = TrainFixtures.snapshot(c);
        for (int i = 0; i < sa.size(); i++) {
            assertArrayEquals(sa.get(i), sb.get(i), "tensor " + i);
        }
        assertFalse(java.util.Arrays.equals(sa.get(0), sc.get(0)));
    }

    /** A crash inside an epoch (an exception from the step listener), then a resume in a new trainer. */
    @Test
    void resumeFrom_midEpochCheckpoint_endsBitIdenticalToUninterruptedRun(@TempDir Path dir) throws IOException {
        Sequential ref = TrainFixtures.model();
        TrainConfig cfg = TrainFixtures.config(11).withCheckpointEverySteps(4);
        new Trainer(ref, TRAIN, TEST, TrainFixtures.everything(ref), cfg).log(null).checkpointTo(dir.resolve("ref.st"))
                .fit();

        Path ck = dir.resolve("ck.st");
        Sequential crashed = TrainFixtures.model();
        RuntimeException crash = assertThrows(RuntimeException.class, () -> new Trainer(crashed, TRAIN, TEST,
                TrainFixtures.everything(crashed), cfg).log(null).checkpointTo(ck).onStep((e, s, r) -> {
                    if (s == 10) {
                        throw new RuntimeException("simulated crash");
                    }
                }).fit());
        assertEquals("simulated crash", crash.getMessage());
        assertEquals(8, Checkpoint.load(ck).training().orElseThrow().step(), "last checkpoint: step 8 of epoch 2");

        Sequential resumed = TrainFixtures.model();
        Trainer t = new Trainer(resumed, TRAIN, TEST, TrainFixtures.everything(resumed), cfg).log(null)
                .checkpointTo(ck).resumeFrom(ck);
        assertEquals(1, t.epoch());
        assertEquals(8, t.step());
        Trainer.Result r = t.fit();
        assertEquals(18, r.steps());
        assertSameState(dir.resolve("ref.st"), ck);
        List<float[]> a = TrainFixtures.snapshot(ref), b = TrainFixtures.snapshot(resumed);
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), "tensor " + i);
        }
    }

    /** A run split into several invocations by stopAfterEpoch ends bit-identical; onEpoch sees every finished epoch. */
    @Test
    void stopAfterEpoch_thenResume_endsBitIdenticalToUninterruptedRun_andOnEpochSeesEachEpoch(@TempDir Path dir)
            throws IOException {
        TrainConfig cfg = TrainFixtures.config(5);
        Sequential ref = TrainFixtures.model();
        List<Trainer.EpochStats> seen = new ArrayList<>();
        Trainer.Result full = new Trainer(ref, TRAIN, TEST, TrainFixtures.everything(ref), cfg).log(null)
                .checkpointTo(dir.resolve("ref.st")).onEpoch(seen::add).fit();
        assertEquals(full.epochs(), seen);

        Path ck = dir.resolve("ck.st");
        Sequential first = TrainFixtures.model();
        Trainer.Result part = new Trainer(first, TRAIN, TEST, TrainFixtures.everything(first), cfg).log(null)
                .checkpointTo(ck).stopAfterEpoch(1).fit();
        assertEquals(1, part.epochs().size());
        assertEquals(full.epochs().get(0), part.epochs().get(0));
        assertEquals(1, Checkpoint.load(ck).training().orElseThrow().epoch());

        Sequential second = TrainFixtures.model();
        List<Trainer.EpochStats> later = new ArrayList<>();
        Trainer.Result rest = new Trainer(second, TRAIN, TEST, TrainFixtures.everything(second), cfg).log(null)
                .checkpointTo(ck).resumeFrom(ck).onEpoch(later::add).fit();
        assertEquals(full.epochs().subList(1, 3), rest.epochs());
        assertEquals(rest.epochs(), later);
        assertSameState(dir.resolve("ref.st"), ck);
        assertThrows(IllegalArgumentException.class, () -> new Trainer(second, TRAIN, TEST,
                Objective.standard(), cfg).stopAfterEpoch(0));
    }

    /** Every model, optimizer and regularizer tensor of two checkpoints is bit-identical, and so is the position. */
    static void assertSameState(Path a, Path b) throws IOException {
        Checkpoint ca = Checkpoint.load(a), cb = Checkpoint.load(b);
        assertEquals(ca.modelTensors().keySet(), cb.modelTensors().keySet());
        assertTrue(ca.modelTensors().keySet().stream().anyMatch(k -> k.startsWith("reg.global-snr.")),
                "the regularizer state must be in the checkpoint");
        for (String k : ca.modelTensors().keySet()) {
            TensorEntry ta = ca.modelTensors().get(k), tb = cb.modelTensors().get(k);
            assertArrayEquals(ta.toFloats(), tb.toFloats(), k);
        }
        var oa = ca.optimizer().orElseThrow().buffers();
        var ob = cb.optimizer().orElseThrow().buffers();
        assertEquals(oa.keySet(), ob.keySet());
        assertFalse(oa.isEmpty());
        for (String k : oa.keySet()) {
            assertArrayEquals(oa.get(k), ob.get(k), k);
        }
        assertEquals(ca.training().orElseThrow().step(), cb.training().orElseThrow().step());
        assertEquals(ca.training().orElseThrow().epoch(), cb.training().orElseThrow().epoch());
    }

    @Test
    void fit_nanLoss_stopsWithClearError_andKeepsLastGoodCheckpoint(@TempDir Path dir) throws IOException {
        // no BatchNorm (which would rescale the exploding activations): weights grow multiplicatively to Inf
        Sequential model = new Sequential("mlp", new Flatten("0"), new Linear("1", 36, 16, true), new ReLU("2"),
                new Linear("3", 16, TrainFixtures.CLASSES, true));
        Path ck = dir.resolve("ck.st");
        TrainConfig cfg = TrainFixtures.config(5).withOptimizer(OptimizerSpec.sgd(1e15, 0, 0))
                .withSchedule(ScheduleSpec.constant()).withCheckpointEverySteps(1).withEpochs(2);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> new Trainer(model, TRAIN, null, Objective.standard(), cfg).log(null).checkpointTo(ck).fit());
        String m = e.getMessage();
        assertTrue(e.step() >= 1, "diverged at step " + e.step());
        assertTrue(m.contains("diverged") && (m.contains("NaN") || m.contains("Infinity")), m);
        assertTrue(m.contains(ck.toString()), m);
        assertEquals(ck, e.lastCheckpoint());
        Checkpoint last = Checkpoint.load(ck);
        assertTrue(last.training().orElseThrow().step() <= e.step(), "checkpoint from before the divergence");
        for (TensorEntry t : last.modelTensors().values()) {
            for (float v : t.toFloats()) {
                assertTrue(Float.isFinite(v), "the kept checkpoint holds only finite values");
            }
        }
    }

    @Test
    void resumeFrom_checkpointOfAnotherConfiguration_isRejected(@TempDir Path dir) throws IOException {
        Sequential model = TrainFixtures.model();
        Path ck = dir.resolve("ck.st");
        TrainConfig cfg = TrainFixtures.config(5).withEpochs(1);
        new Trainer(model, TRAIN, null, Objective.standard(), cfg).log(null).checkpointTo(ck).fit();
        Sequential other = TrainFixtures.model();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(other, TRAIN, null, Objective.standard(), cfg.withSeed(6)).log(null).resumeFrom(ck));
        assertTrue(e.getMessage().contains("another configuration"), e.getMessage());
        // the differing entry by name, not two whole configurations to compare by eye
        assertTrue(e.getMessage().contains("trainer.seed: 5 vs 6"), e.getMessage());
        assertFalse(e.getMessage().contains("trainer.epochs"), e.getMessage());
    }

    /**
     * requestStop (as a shutdown hook calls it, here from the step listener) ends fit at the next step boundary
     * with a checkpoint of that position, mid-epoch; resumed, the run ends bit-identical to an uninterrupted one.
     */
    @Test
    void requestStop_checkpointsAtTheNextStepBoundary_andTheResumedRunEndsBitIdentical(@TempDir Path dir)
            throws IOException {
        TrainConfig cfg = TrainFixtures.config(5);
        Sequential ref = TrainFixtures.model();
        new Trainer(ref, TRAIN, TEST, TrainFixtures.everything(ref), cfg).log(null)
                .checkpointTo(dir.resolve("ref.st")).fit();

        Path ck = dir.resolve("ck.st");
        Sequential first = TrainFixtures.model();
        Trainer t = new Trainer(first, TRAIN, TEST, TrainFixtures.everything(first), cfg).log(null).checkpointTo(ck);
        t.onStep((epoch, step, r) -> {
            if (step == 9) {
                t.requestStop();
            }
        });
        Trainer.Result part = t.fit();
        assertTrue(t.interrupted());
        assertEquals(9, part.steps());
        assertEquals(1, part.epochs().size(), "epoch 1 (6 steps) finished, epoch 2 was cut after 3 steps");
        assertEquals(9, Checkpoint.load(ck).training().orElseThrow().step());
        assertEquals(1, Checkpoint.load(ck).training().orElseThrow().epoch());

        Sequential second = TrainFixtures.model();
        Trainer resumed = new Trainer(second, TRAIN, TEST, TrainFixtures.everything(second), cfg).log(null)
                .checkpointTo(ck).resumeFrom(ck);
        resumed.fit();
        assertFalse(resumed.interrupted());
        assertSameState(dir.resolve("ref.st"), ck);
    }

    @Test
    void fit_printsProgressWithLossAccuracyRateAndEta() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Sequential model = TrainFixtures.model();
        new Trainer(model, TRAIN, TEST, Objective.standard(), TrainFixtures.config(5).withEpochs(1))
                .log(new PrintStream(bytes, true, StandardCharsets.UTF_8)).fit();
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("epoch 1/1") && out.contains("img/s") && out.contains("ETA") && out.contains("loss=")
                && out.contains("acc=") && out.contains("test accuracy"), out);
    }

    @Test
    void defaults_augmentOnlyDataSetsWhereFlipsAndCropsMakeSense() {
        Dataset fashion = new Dataset("fashion-mnist/train", new Tensor(new Shape(2, 1, 4, 4)), new int[2], 10,
                Domain.SYMMETRIC);
        Dataset cifar = new Dataset("cifar10/train", new Tensor(new Shape(2, 3, 4, 4)), new int[2], 10,
                Domain.SYMMETRIC);
        TrainConfig f = TrainConfig.defaults(fashion, 1), c = TrainConfig.defaults(cifar, 1);
        assertEquals(0, f.cropPadding());
        assertFalse(f.horizontalFlip());
        assertEquals(4, c.cropPadding());
        assertTrue(c.horizontalFlip());
    }

    @Test
    void constructor_rejectsDataThatDoesNotFitTheModel() {
        Dataset wrong = new Dataset("five-classes", new Tensor(new Shape(16, 1, 6, 6)), new int[16], 5, Domain.SYMMETRIC);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(TrainFixtures.model(), wrong, null, Objective.standard(), TrainFixtures.config(1)));
        assertTrue(e.getMessage().contains("5 classes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Trainer(TrainFixtures.model(), TRAIN.slice(0, 4), null,
                Objective.standard(), TrainFixtures.config(1)));
        assertTrue(Files.notExists(Path.of("never-written")));
    }
}
