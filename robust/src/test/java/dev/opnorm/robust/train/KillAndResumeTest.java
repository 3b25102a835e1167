package dev.opnorm.robust.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.opnorm.nn.checkpoint.Checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kills a training JVM in the middle of an epoch (SIGKILL, after it has written a checkpoint and done one
 * more unsaved step), resumes from the checkpoint in a new JVM, and checks that the final state is
 * bit-identical to an uninterrupted run. The uninterrupted run uses 1 engine thread and the interrupted and
 * resumed ones 2, so this also checks that training does not depend on the thread count.
 */
class KillAndResumeTest {
    private static final long TIMEOUT_S = 120;

    private static Process start(Path log, String threads, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "-Dopnorm.threads=" + threads, "-cp", System.getProperty("java.class.path"),
                ResumeChild.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    }

    private static String finish(Process p, Path log) throws IOException, InterruptedException {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(TIMEOUT_S, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), out + Files.readString(log));
        assertTrue(out.contains("DONE"), out);
        return out;
    }

    @Test
    void killedMidEpoch_resumedInNewJvm_endsBitIdenticalToUninterruptedRun(@TempDir Path dir)
            throws IOException, InterruptedException {
        Path reference = dir.resolve("reference.safetensors");
        Path log = dir.resolve("stderr.txt");
        finish(start(log, "1", "fresh", reference.toString()), log);

        // 6 steps per epoch; checkpoints at steps 2 and 4 of epoch 2 (global 8, 10); block after step 11
        Path ck = dir.resolve("interrupted.safetensors");
        long blockAt = 11;
        Process victim = start(log, "2", "fresh", ck.toString(), Long.toString(blockAt));
        BufferedReader lines = new BufferedReader(new InputStreamReader(victim.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null && !line.equals("BLOCKED")) {
            // the child prints nothing else before blocking
        }
        assertEquals("BLOCKED", line, "child ended without reaching step " + blockAt + ": " + Files.readString(log));
        assertTrue(Files.exists(ck), "no checkpoint written before the kill");
        victim.destroyForcibly();
        assertTrue(victim.waitFor(TIMEOUT_S, TimeUnit.SECONDS));
        Checkpoint atKill = Checkpoint.load(ck);
        assertEquals(10, atKill.training().orElseThrow().step(), "the last checkpoint before the kill");
        assertEquals(1, atKill.training().orElseThrow().epoch(), "killed in the middle of the second epoch");

        finish(start(log, "2", "resume", ck.toString()), log);
        TrainerTest.assertSameState(reference, ck);
        assertEquals(18, Checkpoint.load(ck).training().orElseThrow().step());
    }
}
