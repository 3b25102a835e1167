package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.cli.ReproduceCommandTest;
import dev.opnorm.nn.Engine;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.VectorKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The phase machinery of {@link Reproduction}: a training killed mid-phase resumes from its checkpoint. */
class ReproductionTest {
    @TempDir
    Path tmp;

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    private Reproduction repro(Path data, Path out) {
        Kernels k = new VectorKernels(2);
        Engine.setKernels(k);
        return new Reproduction(Profile.SMOKE, out, data, 0, k, 2, QUIET);
    }

    @Test
    void training_killedMidPhase_resumesFromCheckpoint_bitIdenticalWeights() throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 60, 30);
        Path straight = tmp.resolve("straight"), killed = tmp.resolve("killed");
        repro(data, straight).stopAfter("train-at").run();

        Reproduction first = repro(data, killed).stopAfter("train-at").killTrainingAfter("at", 2);
        assertThrows(Reproduction.SimulatedKill.class, first::run);
        assertFalse(first.store().done("train-at"));
        assertTrue(first.store().done("choose-eps"));
        Path ck = killed.resolve("models/at.checkpoint.safetensors");
        assertTrue(Files.isRegularFile(ck), "the trainer left a checkpoint");
        assertFalse(Files.exists(killed.resolve("models/at.safetensors")));

        List<String> ran = repro(data, killed).stopAfter("train-at").run();
        assertEquals(List.of("train-at"), ran);
        assertFalse(Files.exists(ck), "checkpoint removed once the network is final");
        assertArrayEquals(Files.readAllBytes(straight.resolve("models/at.safetensors")),
                Files.readAllBytes(killed.resolve("models/at.safetensors")));
        assertEquals(repro(data, straight).store().values("train-at").get("clean_accuracy"),
                repro(data, killed).store().values("train-at").get("clean_accuracy"));
    }

    @Test
    void furtherSeeds_areOneUnitPerNetwork_andTrainingThemAsUnitsEqualsThePhase() throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 60, 30);
        Profile twoSeeds = Profile.SMOKE.with(Map.of("seeds", "2"));
        Kernels k = new VectorKernels(2);
        Engine.setKernels(k);
        Reproduction units = new Reproduction(twoSeeds, tmp.resolve("units"), data, 0, k, 2, QUIET);
        Map<String, List<String>> graph = new java.util.LinkedHashMap<>();
        for (Reproduction.Unit u : units.units()) {
            graph.put(u.name(), u.inputs());
        }
        for (String m : Reproduction.METHODS) {
            List<String> in = graph.get(Reproduction.MODEL_UNIT + m + "-seed1");
            assertEquals(List.of(m.equals("standard") || m.equals("at") ? "choose-eps" : "train-" + m), in, m);
        }
        assertEquals(Reproduction.METHODS.stream().map(m -> Reproduction.MODEL_UNIT + m + "-seed1").toList(),
                graph.get("train-seeds"));

        // the seed units each train their network; the phase then only loads them and writes the same values
        for (Reproduction.Unit u : units.units()) {
            units.runUnit(u.name());
            if (u.name().equals("train-seeds")) {
                break;
            }
        }
        Reproduction phases = new Reproduction(twoSeeds, tmp.resolve("phases"), data, 0, k, 2, QUIET);
        phases.stopAfter("train-seeds").run();
        for (String m : Reproduction.METHODS) {
            String f = "models/" + m + "-seed1.safetensors";
            assertArrayEquals(Files.readAllBytes(tmp.resolve("phases").resolve(f)),
                    Files.readAllBytes(tmp.resolve("units").resolve(f)), f);
        }
        assertEquals(phases.store().values("train-seeds").get("clean_accuracy_dd-onr-seed1"),
                units.store().values("train-seeds").get("clean_accuracy_dd-onr-seed1"));
    }

    @Test
    void profile_overrides_replaceNamedSizes_andRejectUnknownKeys() {
        Profile p = Profile.QUICK.with(Map.of("epochs", "7", "epsGrid", "0.5,1"));
        assertEquals(7, p.epochs());
        assertArrayEquals(new double[]{0.5, 1}, p.epsGrid());
        assertEquals("quick+custom", p.name());
        assertEquals(Profile.QUICK.trainPerClass(), p.trainPerClass());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Profile.QUICK.with(Map.of("epoch", "7")));
        assertTrue(e.getMessage().contains("epoch"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Profile.QUICK.with(Map.of("epsGrid", "2,1")));
    }

    @Test
    void phaseStore_values_roundTrip_andMissingPhaseNamed() throws IOException {
        PhaseStore st = new PhaseStore(tmp);
        assertFalse(st.done("fig3"));
        st.finish("fig3", new java.util.LinkedHashMap<>(Map.of("acc_l2_at", "0.5")), 1.25);
        assertTrue(st.done("fig3"));
        assertEquals(0.5, st.number("fig3", "acc_l2_at"));
        assertEquals("1.3", st.values("fig3").get("seconds"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> st.values("fig2"));
        assertTrue(e.getMessage().contains("fig2"), e.getMessage());
    }

    @Test
    void robust_attacksOnlyTheImagesStillAlive_andAgreesWithRobustAccuracyWhenAllAre() throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 20, 40);
        Kernels k = new VectorKernels(2);
        Engine.setKernels(k);
        dev.opnorm.nn.layers.Sequential net = dev.opnorm.nn.models.Models.create("cnn7-w0.0625", 1, 10, 3, k);
        dev.opnorm.nn.data.Dataset raw = dev.opnorm.nn.data.FashionMnist.load(data,
                dev.opnorm.nn.data.FashionMnist.Split.TEST, dev.opnorm.nn.data.Domain.SYMMETRIC).padTo(32, 32);
        // labels = the network's own predictions: every image starts correct, so "alive" alone decides
        int[] pred = new int[raw.size()];
        var logits = net.forward(raw.images());
        for (int i = 0; i < pred.length; i++) {
            for (int c = 1; c < 10; c++) {
                pred[i] = logits.data[i * 10 + c] > logits.data[i * 10 + pred[i]] ? c : pred[i];
            }
        }
        var test = new dev.opnorm.nn.data.Dataset("own labels", raw.images(), pred, 10, raw.domain());
        var pga = dev.opnorm.robust.attack.Pga.l2(0.05).iterations(3).seed(0)
                .domain(dev.opnorm.nn.data.Domain.SYMMETRIC);
        boolean[] all = new boolean[test.size()];
        java.util.Arrays.fill(all, true);
        boolean[] everyImage = Reproduction.robust(net, test, pga, all);
        assertEquals(dev.opnorm.robust.attack.RobustAccuracy.of(net, test, pga, 50).robustCorrect(),
                Reproduction.count(everyImage));
        assertTrue(Reproduction.count(everyImage) > test.size() / 2, "a small radius leaves most images unbroken");

        boolean[] half = new boolean[test.size()];
        for (int i = 0; i < half.length; i += 2) {
            half[i] = true;
        }
        boolean[] some = Reproduction.robust(net, test, pga, half);
        for (int i = 0; i < some.length; i++) {
            if (!half[i]) {
                assertFalse(some[i], "image " + i + " was broken before: it stays broken");
            }
        }
        assertTrue(Reproduction.count(some) > 0);
        assertArrayEquals(some, Reproduction.robust(net, test, pga, half), "deterministic");

        // the per-image encodings the report reads back
        double[] v = {0.1, 1e-300, 3.0};
        assertArrayEquals(v, Reproduction.nums(Reproduction.nums(v)));
        assertArrayEquals(new double[]{1, 0, 1}, Reproduction.bits(Reproduction.bits(new boolean[]{true, false, true})));
        assertThrows(IllegalStateException.class, () -> Reproduction.bits("10x"));
    }
}
