package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.nn.checkpoint.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM to a training run (a child JVM, {@link Process#destroy()}): it checkpoints at the next step
 * boundary, marks run.json interrupted, releases the folder, and {@code --resume} continues from there. No
 * assertion depends on timing: the signal goes out once the child has written its first step's checkpoint,
 * and every wait is bounded only to keep a broken build from hanging.
 */
class InterruptTest {
    private static final long WAIT_S = 600;

    @TempDir
    Path tmp;

    @Test
    void sigterm_checkpointsAndMarksRunJsonInterrupted_andResumeContinuesFromThere() throws Exception {
        Path data = TrainCommandTest.writeFashion(tmp.resolve("data"), 200, 10);
        Path out = tmp.resolve("run");
        // 500 epochs of 20 steps: far more than the child does before the signal reaches it
        List<String> args = List.of("train", "--data", data.toString(), "--model", "cnn7-w0.0625", "--train-subset",
                "200", "--test-subset", "0", "--epochs", "500", "--batch", "10", "--checkpoint-every", "1",
                "--threads", "1", "--out", out.toString());
        String childLog = runAndTerminate(args, out.resolve(TrainCommand.STATE_FILE), tmp.resolve("child.log"));
        Map<String, Object> run = Json.parseObject(Files.readString(out.resolve("run.json")));
        String status = String.valueOf(run.get("status"));
        assertTrue(status.startsWith("interrupted in epoch ") && status.contains("continue with --resume"),
                status + "\n" + childLog);
        assertTrue(childLog.contains("interrupted: checkpoint"), childLog);
        assertEquals("", Files.readString(out.resolve(RunFolder.LOCK_FILE)), "the folder is released");
        try (var files = Files.list(out)) {
            assertTrue(files.noneMatch(p -> RunFolder.isTemporary(p.getFileName().toString())));
        }

        assertTrue(run.get("epochs_done") instanceof Long && run.get("steps") instanceof Long, "typed: " + run);
        long done = (Long) run.get("epochs_done");
        long step = (Long) run.get("steps");
        assertTrue(step >= 1 && step < 500 * 20, "stopped mid-run at step " + step);
        List<String> resume = new ArrayList<>(args);
        resume.addAll(List.of("--resume", "--stop-after-epoch", Long.toString(done + 1)));
        NormCommandTest.Run r = NormCommandTest.run(resume.toArray(new String[0]));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("continuing in epoch " + (done + 1) + "/500 at step " + step), r.out());
        Map<String, Object> after = Json.parseObject(Files.readString(out.resolve("run.json")));
        assertEquals("stopped after epoch " + (done + 1) + " (--stop-after-epoch)", after.get("status"));
        assertEquals(step, after.get("resumed_at_step"));
    }

    /**
     * SIGTERM to a reproduction while it trains its first network: the training checkpoints at its next step
     * boundary, the command exits 143 naming the checkpoint, the folder is released, and nothing later was started.
     */
    @Test
    void sigterm_reproduce_checkpointsTheTrainingInProgress() throws Exception {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("rdata"), 60, 30);
        Path out = tmp.resolve("repro");
        // 500 epochs: far more than the child trains before the signal reaches it
        List<String> args = List.of("reproduce", "--profile", "smoke", "--data", data.toString(), "--out",
                out.toString(), "--threads", "1", "--set", "epochs=500", "--set", "checkpointEvery=1");
        Path ck = out.resolve("models").resolve("standard.checkpoint.safetensors");
        String childLog = runAndTerminate(args, ck, tmp.resolve("repro.log"));
        assertTrue(childLog.contains("interrupted: stopped on request while training standard"), childLog);
        assertTrue(Files.exists(ck), "the checkpoint of the training in progress stays: " + childLog);
        assertTrue(!Files.exists(out.resolve("models").resolve("standard.safetensors")), childLog);
        assertTrue(!childLog.contains("choose-eps ..."), "no later phase started: " + childLog);
        assertEquals("", Files.readString(out.resolve(RunFolder.LOCK_FILE)), "the folder is released");
        try (var files = Files.walk(out)) {
            assertTrue(files.noneMatch(p -> RunFolder.isTemporary(p.getFileName().toString())));
        }
    }

    /** Starts the command in a child JVM, sends SIGTERM once {@code marker} exists, returns its log; exit 143. */
    private static String runAndTerminate(List<String> args, Path marker, Path log) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx512m", "-cp",
                System.getProperty("java.class.path"), OpnormCli.class.getName()));
        cmd.addAll(args);
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            while (!Files.exists(marker) && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(marker) && child.isAlive(), "the child should be working: " + Files.readString(log));
            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(WAIT_S, TimeUnit.SECONDS), "the child should stop: " + Files.readString(log));
            assertEquals(TrainCommand.EXIT_INTERRUPTED, child.exitValue(), Files.readString(log));
        } finally {
            child.destroyForcibly();
        }
        return Files.readString(log);
    }
}
