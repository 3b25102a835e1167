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
}
