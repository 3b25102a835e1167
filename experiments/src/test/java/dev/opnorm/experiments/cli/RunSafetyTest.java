package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static dev.opnorm.experiments.cli.NormCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line under hostile use: bad checkpoints, shared and reused output folders, unusable --out
 * values, compare on folders that are no runs, and sizes that cannot fit the heap.
 */
class RunSafetyTest {
    private static final String MODEL = "cnn7-w0.0625";

    @TempDir
    Path tmp;

    private Path data() throws IOException {
        Path d = tmp.resolve("data");
        return Files.exists(d) ? d : NormCommandTest.writeFashion(d, 6);
    }

    private String[] norm(Path out, String... more) throws IOException {
        String[] base = {"norm", "--data", data().toString(), "--count", "4", "--batch", "4", "--model", MODEL,
                "--iterations", "5", "--threads", "1", "--out", out.toString()};
        String[] r = Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, r, base.length, more.length);
        return r;
    }

    /** The checkpoint of the test network with {@code value} at index 0 (every index when all) of one tensor. */
    private Path checkpointWith(String tensor, float value, boolean all, String... more) throws IOException {
        Sequential net = Models.create(MODEL, 1, 10, 0);
        boolean found = false;
        java.util.List<String> names = new java.util.ArrayList<>(Arrays.asList(more));
        names.add(tensor);
        for (Param p : net.params()) {
            if (names.contains(p.name())) {
                if (all) {
                    Arrays.fill(p.value, value);
                } else {
                    p.value[0] = value;
                }
                found = true;
            }
        }
        assertTrue(found, tensor);
        Path f = tmp.resolve(tensor + "-" + value + ".safetensors");
        Checkpoint.of(net).save(f);
        return f;
    }

    // ---- 1: weights are validated, a non-finite output is never a result ----

    @Test
    void norm_checkpointWithNaN_isAnErrorNamingTheFileAndTensor_andWritesNothing() throws IOException {
        for (String tensor : new String[] {"classifier.weight", "classifier.bias", "features.0.weight"}) {
            Path ck = checkpointWith(tensor, Float.NaN, false);
            Path out = tmp.resolve("out-" + tensor);
            NormCommandTest.Run r = run(norm(out, "--checkpoint", ck.toString()));
            assertEquals(2, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("--checkpoint " + ck) && r.err().contains("'" + tensor + "'")
                    && r.err().contains("NaN"), r.err());
            assertFalse(r.err().contains("Conv2d"), "the checkpoint is to blame, not a layer: " + r.err());
            assertFalse(r.out().contains("operator norm"), r.out());
            assertFalse(Files.exists(out.resolve("norms.csv")));
        }
    }

    @Test
    void norm_networkWhoseOutputOverflows_reportsNoValue() throws IOException {
        // finite weights that make every logit overflow to infinity
        Path ck = checkpointWith("classifier.weight", Float.MAX_VALUE, true, "classifier.bias");
        Path out = tmp.resolve("out");
        NormCommandTest.Run r = run(norm(out, "--checkpoint", ck.toString()));
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("output at test image") && r.err().contains("no result"), r.err());
        assertFalse(r.out().contains("mean"), r.out());
        assertFalse(Files.exists(out.resolve("norms.csv")));

        NormCommandTest.Run a = run("attack", "--data", data().toString(), "--count", "4", "--model", MODEL, "--eps", "1",
                "--iterations", "2", "--checkpoint", ck.toString(), "--out", tmp.resolve("attack").toString());
        assertEquals(2, a.code(), a.out() + a.err());
        assertTrue(a.err().contains("output at test image"), a.err());
        assertFalse(Files.exists(tmp.resolve("attack/attack.csv")));

        NormCommandTest.Run e = run("eval", "--data", data().toString(), "--count", "4", "--model", MODEL,
                "--eps-list", "0,1", "--iterations", "2", "--checkpoint", ck.toString(), "--out",
                tmp.resolve("eval").toString());
        assertEquals(2, e.code(), e.out() + e.err());
        assertTrue(e.err().contains("output at test image"), e.err());

        NormCommandTest.Run z = run("analyze", "--data", data().toString(), "--points", "2", "--model", MODEL,
                "--checkpoint", ck.toString(), "--out", tmp.resolve("analyze").toString());
        assertEquals(2, z.code(), z.out() + z.err());
        assertTrue(z.err().contains("output at test image"), z.err());
        assertFalse(Files.exists(tmp.resolve("analyze")), "nothing written");
    }

    // ---- 2, 3: one owner per folder, earlier results are not replaced silently ----

    @Test
    void secondCommandIntoAnOwnedFolder_isRefused_andRunsOnceReleased() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("shared"));
        StringWriter notes = new StringWriter();
        try (RunFolder held = RunFolder.claim(out, "--out", "train", RunFolder.Policy.REFUSE, null,
                new PrintWriter(notes))) {
            String lock = Files.readString(out.resolve(RunFolder.LOCK_FILE));
            assertTrue(lock.contains("pid=" + ProcessHandle.current().pid()) && lock.contains("command=train"), lock);
            NormCommandTest.Run r = run(norm(out));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("in use by process " + ProcessHandle.current().pid()), r.err());
            NormCommandTest.Run t = run("train", "--data", data().toString(), "--out", out.toString());
            assertEquals(2, t.code(), t.err());
            assertTrue(t.err().contains("in use"), t.err());
        }
        assertEquals("", Files.readString(out.resolve(RunFolder.LOCK_FILE)), "released");
        NormCommandTest.Run ok = run(norm(out));
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void folderLockedByAnotherLiveProcess_isRefused_evenWithoutAnOsLock() throws Exception {
        Process other = new ProcessBuilder("sleep", "600").start();
        try {
            Path out = tmp.resolve("other");
            Files.createDirectories(out);
            Files.writeString(out.resolve(RunFolder.LOCK_FILE), "pid=" + other.pid() + "\nstarted="
                    + other.info().startInstant().map(Instant::toString).orElse("?") + "\ncommand=train\n");
            NormCommandTest.Run r = run(norm(out));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("in use by process " + other.pid()), r.err());
            assertFalse(Files.exists(out.resolve("norms.csv")));
        } finally {
            other.destroyForcibly();
            other.waitFor(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void staleLockOfAKilledRun_isTakenOver_runJsonMarkedKilled_andTempFilesRemoved() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor(60, TimeUnit.SECONDS);
        Path out = tmp.resolve("killed");
        Files.createDirectories(out);
        Files.writeString(out.resolve(RunFolder.LOCK_FILE), "pid=" + gone.pid() + "\nstarted=?\ncommand=train\n");
        new RunManifest("train").put("status", "running").write(out);
        Path temp = out.resolve(".model.safetensors.12ab34.tmp");
        Files.writeString(temp, "half a write");

        // norm may not write there (a train run's folder), but it finds the lock stale and cleans up
        NormCommandTest.Run r = run(norm(out));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("process " + gone.pid()) && r.err().contains("stale"), r.err());
        assertTrue(r.err().contains("results of `opnorm train`") && r.err().contains("--force"), r.err());
        assertFalse(Files.exists(temp), "temporary file of the killed write removed");
        assertTrue(Files.readString(out.resolve("run.json")).contains("\"status\": \"killed: process " + gone.pid()),
                Files.readString(out.resolve("run.json")));
        assertEquals("", Files.readString(out.resolve(RunFolder.LOCK_FILE)));
    }

    @Test
    void rerunIntoAFolderWithResults_isRefusedUnlessForced_andNormDoesNotReplaceATrainRun() throws IOException {
        Path out = tmp.resolve("norm");
        assertEquals(0, run(norm(out)).code());
        String first = Files.readString(out.resolve("norms.csv"));
        NormCommandTest.Run again = run(norm(out, "--seed", "7"));
        assertEquals(2, again.code(), again.err());
        assertTrue(again.err().contains("results of `opnorm norm`") && again.err().contains("norms.csv")
                && again.err().contains("--force"), again.err());
        assertEquals(first, Files.readString(out.resolve("norms.csv")));
        NormCommandTest.Run forced = run(norm(out, "--seed", "7", "--force"));
        assertEquals(0, forced.code(), forced.err());
        assertTrue(Files.readString(out.resolve("run.json")).contains("\"seed\": 7"));

        // a training run's folder: norm refuses to replace its run.json
        Path train = tmp.resolve("train");
        Files.createDirectories(train);
        new RunManifest("train").put("status", "finished").write(train);
        Files.writeString(train.resolve(TrainCommand.MODEL_FILE), "weights");
        NormCommandTest.Run n = run(norm(train));
        assertEquals(2, n.code(), n.err());
        assertTrue(n.err().contains("results of `opnorm train`"), n.err());
        assertTrue(Files.readString(train.resolve("run.json")).contains("\"command\": \"train\""));

        // train does not replace weights whose training state is gone, with or without --resume
        for (boolean resume : new boolean[] {false, true}) {
            NormCommandTest.Run t = run(resume
                    ? new String[] {"train", "--data", data().toString(), "--out", train.toString(), "--resume"}
                    : new String[] {"train", "--data", data().toString(), "--out", train.toString()});
            assertEquals(2, t.code(), t.err());
            assertTrue(t.err().contains("already holds") && t.err().contains("--force"), t.err());
            assertEquals("weights", Files.readString(train.resolve(TrainCommand.MODEL_FILE)));
        }
    }

    // ---- 4: --out is checked before any computation ----

    @Test
    void unusableOut_isAnErrorBeforeAnyComputation() throws IOException {
        Path file = tmp.resolve("f");
        Files.writeString(file, "x\n");
        NormCommandTest.Run e = run("eval", "--data", data().toString(), "--count", "4", "--model", MODEL,
                "--eps-list", "0,1", "--iterations", "2", "--out", file.toString());
        assertEquals(2, e.code(), e.err());
        assertTrue(e.err().contains("--out " + file + " is a file"), e.err());
        assertFalse(e.err().contains("%"), "no progress: nothing may be computed first: " + e.err());
        assertEquals("x\n", Files.readString(file));

        NormCommandTest.Run empty = run(norm(Path.of("")));
        assertEquals(2, empty.code(), empty.err());
        assertTrue(empty.err().contains("--out must name a folder"), empty.err());
    }

    // ---- 5: compare ----

    @Test
    void compare_refusesFoldersWithoutResults() throws IOException {
        Path a = Files.createDirectories(tmp.resolve("e1")), b = Files.createDirectories(tmp.resolve("e2"));
        NormCommandTest.Run r = run("compare", a.toString(), b.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("holds no results"), r.err());
        assertFalse(r.out().contains("AGREE"), r.out());
    }

    @Test
    void compare_twoIdenticalTrainRuns_agree_ignoringTimingsLockAndTempFiles() throws IOException {
        Path d = TrainCommandTest.writeFashion(tmp.resolve("tdata"), 20, 10);
        Path a = tmp.resolve("t1"), b = tmp.resolve("t2");
        for (Path out : new Path[] {a, b}) {
            NormCommandTest.Run t = run("train", "--data", d.toString(), "--model", MODEL, "--train-subset", "20",
                    "--test-subset", "0", "--epochs", "1", "--batch", "10", "--threads", "1", "--out", out.toString());
            assertEquals(0, t.code(), t.err());
        }
        Files.writeString(b.resolve(".metrics.csv.77aa.tmp"), "left by a killed write");
        NormCommandTest.Run r = run("compare", a.toString(), b.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("bit-identical") && r.out().contains("AGREE"), r.out());
        assertTrue(r.out().contains("timing columns not compared") && r.out().contains("metrics.csv:seconds")
                && r.out().contains("metrics.csv:images_per_s"), r.out());
        assertFalse(r.out().contains(".tmp") || r.out().contains(RunFolder.LOCK_FILE), r.out());
    }

    @Test
    void compare_readsRunJsonAsJson_namesDifferingOptions_andAnUnfinishedRunIsAMismatch() throws IOException {
        Path a = fakeRun("a", "{\"lambda\": 0.1}", "finished"), b = fakeRun("b", "{\"lambda\": 0.2}", "finished");
        NormCommandTest.Run r = run("compare", a.toString(), b.toString());
        assertTrue(r.out().contains("options.objective differs: {\"lambda\": 0.1} vs {\"lambda\": 0.2}"), r.out());
        assertFalse(r.out().contains("bit-identical"), r.out());
        assertEquals(0, r.code(), r.out());

        Path c = fakeRun("c", "{\"lambda\": 0.1}", "interrupted in epoch 1/2 at step 3");
        NormCommandTest.Run u = run("compare", a.toString(), c.toString());
        assertEquals(1, u.code(), u.out());
        assertTrue(u.out().contains("B DID NOT FINISH") && u.out().contains("MISMATCH"), u.out());
    }

    private Path fakeRun(String name, String objective, String status) throws IOException {
        Path d = Files.createDirectories(tmp.resolve(name));
        new RunManifest("train").put("backend", "vector").put("status", status).option("objective", objective)
                .option("out", d).write(d);
        Files.writeString(d.resolve("metrics.csv"), "epoch,loss,seconds\n1,0.5," + name.length() + "\n");
        return d;
    }

    // ---- 6: errors say why and which file ----

    @Test
    void fileErrors_nameTheFileAndTheReason() throws IOException {
        Path missing = tmp.resolve("missing.safetensors");
        NormCommandTest.Run m = run(norm(tmp.resolve("o1"), "--checkpoint", missing.toString()));
        assertEquals(2, m.code());
        assertTrue(m.err().contains(missing + ": no such file"), m.err());

        NormCommandTest.Run d = run(norm(tmp.resolve("o2"), "--checkpoint", tmp.toString()));
        assertEquals(2, d.code());
        assertTrue(d.err().contains(tmp + ": is a folder"), d.err());

        Path npy = tmp.resolve("a.npy");
        NormCommandTest.Run it = run("matrix-norm", "--p", "2", "--q", "2", "--iterations", "0", npy.toString());
        assertEquals(2, it.code());
        assertTrue(it.err().contains("--iterations must be >= 1"), it.err());
        assertFalse(it.err().contains("maxIterations"), it.err());
        NormCommandTest.Run tol = run("matrix-norm", "--p", "2", "--q", "2", "--tol", "-1", npy.toString());
        assertTrue(tol.err().contains("--tol") && !tol.err().contains("relTol"), tol.err());
        NormCommandTest.Run none = run("matrix-norm", "--p", "2", "--q", "2", npy.toString());
        assertTrue(none.err().contains(npy + ": no such file"), none.err());
    }

    // ---- 7: sizes that cannot fit are refused before allocating ----

    @Test
    void hugeModelOrBatch_isRefusedBeforeAllocating_sayingWhatToLower() throws IOException {
        NormCommandTest.Run w = run("norm", "--data", data().toString(), "--count", "4", "--model", "cnn7-w100",
                "--out", tmp.resolve("w").toString());
        assertEquals(2, w.code(), w.err());
        assertTrue(w.err().contains("--model") && w.err().contains("smaller model")
                && w.err().contains("OPNORM_JAVA_OPTS=-Xmx"), w.err());
        assertFalse(w.err().contains("OutOfMemoryError"), w.err());

        // the full-width CNN keeps about 10 MB of activations per image: 2000 at once exceed any test heap
        Path big = NormCommandTest.writeFashion(tmp.resolve("big"), 2000);
        NormCommandTest.Run b = run("norm", "--data", big.toString(), "--count", "2000", "--batch", "2000",
                "--model", "cnn7", "--out", tmp.resolve("b").toString());
        assertEquals(2, b.code(), b.err());
        assertTrue(b.err().contains("--batch 2000") && b.err().contains("lower --batch")
                && b.err().contains("OPNORM_JAVA_OPTS=-Xmx"), b.err());
    }

    @Test
    void outOfMemory_isExplained_notAStackTrace() throws Exception {
        // 10000 test images are loaded whole (31 MB of floats, 41 MB padded): more than a 24 MB heap holds
        Path big = NormCommandTest.writeFashion(tmp.resolve("oom"), 10000);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = tmp.resolve("oom.log");
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Xmx24m", "-cp",
                System.getProperty("java.class.path"), OpnormCli.class.getName(), "norm", "--data", big.toString(),
                "--count", "4", "--model", MODEL, "--out", tmp.resolve("o").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "the child should end");
        String out = Files.readString(log);
        assertEquals(OpnormCli.EXIT_OUT_OF_MEMORY, p.exitValue(), out);
        assertTrue(out.contains("error: out of memory") && out.contains("OPNORM_JAVA_OPTS=-Xmx"), out);
        assertFalse(out.contains("java.lang.OutOfMemoryError") || out.contains("\tat "), out);
    }

    // ---- 8: a failed run does not stay "running" ----

    @Test
    void train_whoseCheckpointCannotBeWritten_marksRunJsonFailed() throws IOException {
        Path d = TrainCommandTest.writeFashion(tmp.resolve("tdata"), 20, 10);
        Path out = tmp.resolve("full");
        // a folder where the checkpoint file should go: its atomic rename fails, as on a full disk
        Files.createDirectories(out.resolve(TrainCommand.STATE_FILE).resolve("x"));
        NormCommandTest.Run t = run("train", "--data", d.toString(), "--model", MODEL, "--train-subset", "20",
                "--test-subset", "0", "--epochs", "1", "--batch", "10", "--threads", "1", "--out", out.toString(),
                "--resume");
        assertEquals(2, t.code(), t.out() + t.err());
        String json = Files.readString(out.resolve("run.json"));
        assertTrue(json.contains("\"status\": \"failed: "), json);
    }
}
