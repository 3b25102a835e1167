package dev.opnorm.experiments.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class NormCommandTest {
    @TempDir
    Path tmp;

    /** A tiny Fashion-MNIST test split in IDX format (random pixels). */
    static Path writeFashion(Path dir, int n) throws IOException {
        SplittableRandom r = new SplittableRandom(1);
        ByteBuffer img = ByteBuffer.allocate(16 + n * 784).putInt(0x0803).putInt(n).putInt(28).putInt(28);
        for (int i = 0; i < n * 784; i++) {
            img.put((byte) r.nextInt(256));
        }
        ByteBuffer lab = ByteBuffer.allocate(8 + n).putInt(0x0801).putInt(n);
        for (int i = 0; i < n; i++) {
            lab.put((byte) (i % 10));
        }
        Files.createDirectories(dir);
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), img.array());
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), lab.array());
        // the same images as a (small) training split
        Files.write(dir.resolve("train-images-idx3-ubyte"), img.array());
        Files.write(dir.resolve("train-labels-idx1-ubyte"), lab.array());
        return dir;
    }

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = OpnormCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void norm_writesPerExampleCsvAndManifest_sameSeedSameValues() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 5);
        String[] common = {"norm", "--data", data.toString(), "--count", "5", "--batch", "3", "--model", "cnn7-w0.0625",
                "--iterations", "30"};
        Run a = run(concat(common, "--out", tmp.resolve("a").toString(), "--threads", "2"));
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().contains("(2,2) operator norm of the logits Jacobian"), a.out());
        List<String> rows = Files.readAllLines(tmp.resolve("a/norms.csv"));
        assertEquals("index,label,predicted,norm,iterations,converged", rows.get(0), "the header row comes first");
        assertEquals(6, rows.size());
        for (String row : rows.subList(1, rows.size())) {
            double v = Double.parseDouble(row.split(",")[3]);
            assertTrue(v > 0 && Double.isFinite(v), row);
        }
        String manifest = Files.readString(tmp.resolve("a/run.json"));
        assertTrue(manifest.contains("\"norms.csv\""), manifest);
        assertTrue(manifest.contains("\"seed\": 0,"), "typed: " + manifest);

        // one thread instead of two: bit-identical values
        Run b = run(concat(common, "--out", tmp.resolve("b").toString(), "--threads", "1"));
        assertEquals(0, b.code(), b.err());
        assertEquals(values(tmp.resolve("a/norms.csv")), values(tmp.resolve("b/norms.csv")));
    }

    @Test
    void norm_checkpoint_loadsWeights_andRejectsAnotherArchitecture() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 3);
        var model = dev.opnorm.nn.models.Models.create("cnn7-w0.0625", 1, 10, 0);
        var params = new java.util.ArrayList<>(model.params());
        params.addAll(model.buffers());
        Path ck = tmp.resolve("model.safetensors");
        dev.opnorm.nn.checkpoint.Checkpoint.of(params).save(ck);
        String[] common = {"norm", "--data", data.toString(), "--count", "3", "--model", "cnn7-w0.0625",
                "--iterations", "10"};
        Run plain = run(concat(common, "--out", tmp.resolve("plain").toString()));
        Run loaded = run(concat(common, "--out", tmp.resolve("loaded").toString(), "--checkpoint", ck.toString()));
        assertEquals(0, loaded.code(), loaded.err());
        assertEquals(values(tmp.resolve("plain/norms.csv")), values(tmp.resolve("loaded/norms.csv")));
        assertTrue(loaded.out().contains("weights " + ck), loaded.out());

        Run wrong = run("norm", "--data", data.toString(), "--count", "3", "--model", "cnn7-w0.125",
                "--checkpoint", ck.toString(), "--out", tmp.resolve("w").toString());
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("features.0.weight"), wrong.err());
    }

    @Test
    void norm_calibrateBn_changesTheNetworksStatistics_andIsReported() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 4);
        String[] common = {"norm", "--data", data.toString(), "--count", "2", "--model", "cnn7-w0.0625",
                "--iterations", "20"};
        Run plain = run(concat(common, "--out", tmp.resolve("plain").toString()));
        Run cal = run(concat(common, "--out", tmp.resolve("cal").toString(), "--calibrate-bn", "4"));
        assertEquals(0, cal.code(), cal.err());
        assertTrue(cal.out().contains("BN statistics from 4 training images"), cal.out());
        double before = Double.parseDouble(values(tmp.resolve("plain/norms.csv")).get(1).split(",")[3]);
        double after = Double.parseDouble(values(tmp.resolve("cal/norms.csv")).get(1).split(",")[3]);
        // with running variance 1 the untrained network shrinks every layer's signal; data statistics undo that
        assertTrue(after > 10 * before, before + " -> " + after);
        Run tooMany = run(concat(common, "--out", tmp.resolve("x").toString(), "--calibrate-bn", "5"));
        assertEquals(2, tooMany.code());
        assertTrue(tooMany.err().contains("--calibrate-bn 5 exceeds the 4 training images"), tooMany.err());
    }

    @Test
    void norm_valuesDoNotDependOnBatch_andOpenClDeviceRunAgreesWithCpu() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 5);
        String[] common = {"norm", "--data", data.toString(), "--count", "5", "--model", "cnn7-w0.0625",
                "--iterations", "200", "--tol", "1e-7", "--calibrate-bn", "5"};
        assertEquals(0, run(concat(common, "--out", tmp.resolve("b2").toString(), "--batch", "2")).code());
        assertEquals(0, run(concat(common, "--out", tmp.resolve("b5").toString(), "--batch", "5")).code());
        assertEquals(values(tmp.resolve("b2/norms.csv")), values(tmp.resolve("b5/norms.csv")));
        // (2,2) on the OpenCL backend: the whole power iteration on the device (PoCL here)
        Run cl = run(concat(common, "--out", tmp.resolve("cl").toString(), "--backend", "opencl", "--batch", "2"));
        assertEquals(0, cl.code(), cl.err());
        // iteration counts (and so convergence flags) may legitimately differ between backends
        Run strict = run("compare", tmp.resolve("b2").toString(), tmp.resolve("cl").toString());
        Run cmp = run("compare", tmp.resolve("b2").toString(), tmp.resolve("cl").toString(),
                "--ignore-column", "iterations", "--ignore-column", "converged");
        assertEquals(0, cmp.code(), cmp.out() + strict.out());
        assertTrue(cmp.out().contains("backend differs"), cmp.out());
    }

    @Test
    void norm_openClDeviceRun_agreesWithCpu_forEveryKindOfExponentPair() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 3);
        String[] common = {"norm", "--data", data.toString(), "--count", "3", "--model", "cnn7-w0.0625",
                "--iterations", "12", "--tol", "1e-7", "--calibrate-bn", "3", "--batch", "2"};
        String[][] pairs = {{"inf", "2"}, {"2", "1"}, {"1", "inf"}, {"3", "1.5"}};
        for (String[] pq : pairs) {
            String name = pq[0] + "-" + pq[1];
            String[] flags = concat(common, "--p", pq[0], "--q", pq[1], "--restarts", pq[0].equals("inf") ? "2" : "1");
            Run cpu = run(concat(flags, "--out", tmp.resolve("cpu-" + name).toString()));
            assertEquals(0, cpu.code(), cpu.err());
            Run cl = run(concat(flags, "--out", tmp.resolve("cl-" + name).toString(), "--backend", "opencl"));
            assertEquals(0, cl.code(), cl.err());
            Run cmp = run("compare", tmp.resolve("cpu-" + name).toString(), tmp.resolve("cl-" + name).toString(),
                    "--ignore-column", "iterations", "--ignore-column", "converged");
            assertEquals(0, cmp.code(), "(" + pq[0] + "," + pq[1] + "): " + cmp.out());
            assertTrue(cmp.out().contains("backend differs"), cmp.out());
        }
    }

    @Test
    void norm_openClDeviceRun_agreesWithCpu_forFiniteAlpha() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 3);
        String[] common = {"norm", "--data", data.toString(), "--count", "3", "--model", "cnn7-w0.0625",
                "--iterations", "12", "--tol", "1e-7", "--calibrate-bn", "3", "--batch", "2"};
        // {p, q, alpha}: the sphere projection of each supported p, one with restarts
        String[][] cases = {{"2", "2", "0.5"}, {"1", "2", "0.5"}, {"inf", "1", "0.05"}};
        for (String[] c : cases) {
            String name = c[0] + "-" + c[1] + "-" + c[2];
            String[] flags = concat(common, "--p", c[0], "--q", c[1], "--alpha", c[2],
                    "--restarts", c[0].equals("1") ? "2" : "1");
            Run cpu = run(concat(flags, "--out", tmp.resolve("cpu-" + name).toString()));
            assertEquals(0, cpu.code(), cpu.err());
            Run cl = run(concat(flags, "--out", tmp.resolve("cl-" + name).toString(), "--backend", "opencl"));
            assertEquals(0, cl.code(), cl.err());
            Run cmp = run("compare", tmp.resolve("cpu-" + name).toString(), tmp.resolve("cl-" + name).toString(),
                    "--ignore-column", "iterations", "--ignore-column", "converged");
            assertEquals(0, cmp.code(), name + ": " + cmp.out());
            assertTrue(cmp.out().contains("backend differs"), cmp.out());
        }
        // the step is really the finite one: alpha = inf gives other values for (1,2) at 12 iterations
        Run limit = run(concat(common, "--p", "1", "--q", "2", "--restarts", "2", "--out", tmp.resolve("cpu-inf").toString()));
        assertEquals(0, limit.code(), limit.err());
        assertNotEquals(values(tmp.resolve("cpu-inf/norms.csv")), values(tmp.resolve("cpu-1-2-0.5/norms.csv")));
        Run p3 = run(concat(common, "--p", "3", "--alpha", "0.5", "--backend", "opencl", "--out",
                tmp.resolve("p3").toString()));
        assertEquals(2, p3.code());
        assertTrue(p3.err().contains("--p 3") && p3.err().contains("--backend cpu"), p3.err());
        Run bad = run(concat(common, "--alpha", "-1", "--out", tmp.resolve("bad").toString()));
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--alpha"), bad.err());
    }

    @Test
    void norm_badFlags_areClearErrors() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 2);
        Run p = run("norm", "--data", data.toString(), "--p", "0.5");
        assertEquals(2, p.code());
        assertTrue(p.err().contains("--p"), p.err());
        Run c = run("norm", "--data", data.toString(), "--count", "3", "--out", tmp.resolve("o").toString());
        assertEquals(2, c.code());
        assertTrue(c.err().contains("exceeds the 2 test images"), c.err());
        Run t = run("norm", "--data", data.toString(), "--target", "pixels");
        assertEquals(2, t.code());
        assertTrue(t.err().contains("--target"), t.err());
        Run missing = run("norm", "--data", tmp.resolve("nowhere").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("not found"), missing.err());
    }

    private static List<String> values(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().filter(l -> !l.startsWith("#")).toList();
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
