package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.cli.NormCommandTest.Run;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Models;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.attack.RobustAccuracy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static dev.opnorm.experiments.cli.NormCommandTest.run;
import static dev.opnorm.experiments.cli.NormCommandTest.writeFashion;
import static org.junit.jupiter.api.Assertions.*;

class AttackCommandTest {
    static final String MODEL = "cnn7-w0.0625";

    @TempDir
    Path tmp;

    private static List<String[]> rows(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().filter(l -> !l.startsWith("#")).skip(1).map(l -> l.split(","))
                .toList();
    }

    private static List<String> dataLines(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().filter(l -> !l.startsWith("#")).toList();
    }

    private static String[] args(String... a) {
        return a;
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void attack_writesPerExampleCsv_andRobustAccuracyMatchesTheLibrary() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 7);
        Run r = run("attack", "--data", data.toString(), "--model", MODEL, "--count", "6", "--offset", "1",
                "--eps", "0.5", "--iterations", "3", "--batch", "4", "--out", tmp.resolve("a").toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(tmp.resolve("a/attack.csv")); // the header row comes first
        assertEquals("index,label,reference,clean_prediction,adversarial_prediction,success,loss,perturbation_norm,restart",
                lines.get(0));
        List<String[]> rows = rows(tmp.resolve("a/attack.csv"));
        assertEquals(6, rows.size());
        int robust = 0, clean = 0;
        for (int i = 0; i < rows.size(); i++) {
            String[] c = rows.get(i);
            assertEquals(String.valueOf(i + 1), c[0], "test-set index");
            assertEquals(String.valueOf((i + 1) % 10), c[1], "label of the synthetic data");
            assertEquals(c[1], c[2], "untargeted: the reference is the true label");
            assertEquals(String.valueOf(!c[4].equals(c[1])), c[5], "success = prediction != label");
            double norm = Double.parseDouble(c[7]);
            assertTrue(norm > 0 && norm <= 0.5 * (1 + 1e-5), "||x* - x||_2 = " + norm);
            assertTrue(Double.parseDouble(c[6]) >= 0, "cross-entropy >= 0");
            robust += c[4].equals(c[1]) ? 1 : 0;
            clean += c[3].equals(c[1]) ? 1 : 0;
        }
        assertTrue(r.out().contains(String.format("robust accuracy %.4f", robust / 6.0)), r.out());
        assertTrue(r.out().contains(String.format("clean accuracy  %.4f", clean / 6.0)), r.out());
        String manifest = Files.readString(tmp.resolve("a/run.json"));
        assertTrue(manifest.contains("\"attack.csv\""), manifest);
        assertTrue(manifest.contains("PGA l_2 eps=0.5 iterations=3"), manifest);

        // the same count from robust.attack.RobustAccuracy, with another batch size
        Sequential model = Models.create(MODEL, 1, 10, 0);
        Dataset test = FashionMnist.load(data, FashionMnist.Split.TEST, Domain.SYMMETRIC).padTo(32, 32);
        RobustAccuracy ra = RobustAccuracy.of(model, test.slice(1, 6), Pga.l2(0.5).iterations(3).seed(0), 6);
        assertEquals(clean, ra.cleanCorrect());
        // RobustAccuracy numbers its examples from 0, the command by test-set index (offset 1): compare at offset 0
        Run r0 = run("attack", "--data", data.toString(), "--model", MODEL, "--count", "6", "--eps", "0.5",
                "--iterations", "3", "--out", tmp.resolve("a0").toString());
        assertEquals(0, r0.code(), r0.err());
        RobustAccuracy ra0 = RobustAccuracy.of(model, test.slice(0, 6), Pga.l2(0.5).iterations(3).seed(0), 4);
        long robust0 = rows(tmp.resolve("a0/attack.csv")).stream().filter(c -> c[4].equals(c[1])).count();
        assertEquals(ra0.robustCorrect(), robust0);
    }

    @Test
    void attack_isDeterministic_acrossThreadsAndBatches_andDependsOnTheSeed() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 5);
        String[] common = args("attack", "--data", data.toString(), "--model", MODEL, "--count", "5", "--p", "inf",
                "--eps", "0.1", "--iterations", "2", "--restarts", "2");
        Run a = run(concat(common, "--threads", "2", "--batch", "5", "--out", tmp.resolve("a").toString()));
        Run b = run(concat(common, "--threads", "1", "--batch", "2", "--out", tmp.resolve("b").toString()));
        Run c = run(concat(common, "--threads", "1", "--batch", "2", "--seed", "9", "--out", tmp.resolve("c").toString()));
        assertEquals(0, a.code(), a.err());
        assertEquals(0, b.code(), b.err());
        assertEquals(0, c.code(), c.err());
        assertEquals(dataLines(tmp.resolve("a/attack.csv")), dataLines(tmp.resolve("b/attack.csv")));
        Run cmp = run("compare", tmp.resolve("a").toString(), tmp.resolve("b").toString());
        assertEquals(0, cmp.code(), cmp.out() + cmp.err());
        // another seed: other random starts (and another random network), so other losses
        assertNotEquals(rows(tmp.resolve("a/attack.csv")).stream().map(x -> x[6]).toList(),
                rows(tmp.resolve("c/attack.csv")).stream().map(x -> x[6]).toList());
        for (String[] row : rows(tmp.resolve("a/attack.csv"))) {
            assertTrue(Double.parseDouble(row[7]) <= 0.1 * (1 + 1e-5), "||x* - x||_inf = " + row[7]);
        }
    }

    @Test
    void attack_targetedAndLogitLoss_andCheckpoint() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 4);
        Run t = run("attack", "--data", data.toString(), "--model", MODEL, "--count", "4", "--eps", "2",
                "--iterations", "2", "--targeted", "3", "--out", tmp.resolve("t").toString());
        assertEquals(0, t.code(), t.err());
        for (String[] c : rows(tmp.resolve("t/attack.csv"))) {
            assertEquals("3", c[2], "reference = the target");
            assertEquals(String.valueOf(c[4].equals("3")), c[5], "targeted success = predicted the target");
        }
        assertTrue(t.out().contains("predicted class 3"), t.out());

        Path ck = tmp.resolve("m.safetensors");
        Checkpoint.of(Models.create(MODEL, 1, 10, 0)).save(ck);
        String[] common = args("attack", "--data", data.toString(), "--model", MODEL, "--count", "4", "--p", "1",
                "--eps", "1", "--iterations", "2", "--alpha", "inf", "--loss", "logit-linf");
        Run plain = run(concat(common, "--out", tmp.resolve("p").toString()));
        Run loaded = run(concat(common, "--seed", "0", "--checkpoint", ck.toString(), "--out", tmp.resolve("l").toString()));
        assertEquals(0, plain.code(), plain.err());
        assertEquals(0, loaded.code(), loaded.err());
        assertEquals(dataLines(tmp.resolve("p/attack.csv")), dataLines(tmp.resolve("l/attack.csv")));
        assertTrue(Files.readString(tmp.resolve("l/run.json")).contains(ck.toString()));
        for (String[] c : rows(tmp.resolve("l/attack.csv"))) {
            assertTrue(Double.parseDouble(c[7]) <= 1 + 1e-5, "||x* - x||_1 = " + c[7]);
        }
    }

    @Test
    void attack_onOpenClDevice_agreesWithCpu() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 6);
        String[][] variants = {
                {"--eps", "0.5", "--restarts", "2"},
                {"--p", "1", "--eps", "2", "--labels", "predicted"},
                {"--p", "inf", "--eps", "0.05", "--targeted", "4"}};
        for (int v = 0; v < variants.length; v++) {
            String[] common = concat(args("attack", "--data", data.toString(), "--model", MODEL, "--count", "6",
                    "--iterations", "3", "--batch", "4"), variants[v]);
            Run cpu = run(concat(common, "--out", tmp.resolve("cpu" + v).toString()));
            Run cl = run(concat(common, "--backend", "opencl", "--out", tmp.resolve("cl" + v).toString()));
            assertEquals(0, cpu.code(), cpu.err());
            assertEquals(0, cl.code(), cl.err());
            String what = String.join(" ", variants[v]);
            List<String> cpuLines = dataLines(tmp.resolve("cpu" + v + "/attack.csv"));
            assertEquals(cpuLines.get(0), dataLines(tmp.resolve("cl" + v + "/attack.csv")).get(0), what + ": header");
            List<String[]> a = rows(tmp.resolve("cpu" + v + "/attack.csv")), b = rows(tmp.resolve("cl" + v + "/attack.csv"));
            assertEquals(a.size(), b.size());
            int differing = 0, robustA = 0, robustB = 0;
            for (int i = 0; i < a.size(); i++) {
                String[] x = a.get(i), y = b.get(i);
                assertEquals(List.of(x[0], x[1], x[2], x[3]), List.of(y[0], y[1], y[2], y[3]),
                        what + ": index, label, reference, clean prediction of row " + i);
                robustA += x[4].equals(x[1]) ? 1 : 0;
                robustB += y[4].equals(y[1]) ? 1 : 0;
                if (!x[4].equals(y[4])) {
                    differing++;
                    continue;
                }
                assertEquals(x[5], y[5], what + ": success of row " + i);
                double la = Double.parseDouble(x[6]), lb = Double.parseDouble(y[6]);
                assertEquals(la, lb, 1e-3 * Math.max(1, Math.abs(la)), what + ": loss of row " + i);
                double na = Double.parseDouble(x[7]), nb = Double.parseDouble(y[7]);
                assertEquals(na, nb, 1e-3 * Math.max(1e-3, na), what + ": norm of row " + i);
            }
            assertTrue(differing <= 1, what + ": " + differing + " adversarial predictions differ");
            assertTrue(Math.abs(robustA - robustB) <= 1, what + ": robust " + robustA + " vs " + robustB);
            // the summary has the same lines; only the backend name and the timings differ
            assertEquals(cpu.out().lines().count(), cl.out().lines().count(), cl.out());
            assertTrue(cl.out().contains("opencl"), cl.out());
        }
    }

    @Test
    void attack_badFlags_areClearErrors() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 2);
        Path ck = tmp.resolve("w.safetensors");
        Checkpoint.of(Models.create("cnn7-w0.125", 1, 10, 0)).save(ck);
        String d = data.toString(), o = tmp.resolve("o").toString();
        String[][] cases = {
                {"--p", "--eps", "1", "--p", "3"},
                {"--eps"},
                {"--eps", "--eps", "-1"},
                {"--eps", "--eps", "NaN"},
                {"--iterations", "--eps", "1", "--iterations", "0"},
                {"--alpha", "--eps", "1", "--alpha", "zero"},
                {"--loss", "--eps", "1", "--loss", "hinge"},
                {"--targeted", "--eps", "1", "--targeted", "10"},
                {"--targeted", "--eps", "1", "--targeted", "2", "--loss", "logit-l2"},
                {"--start", "--eps", "1", "--start", "clean", "--loss", "logit-l2"},
                {"--labels", "--eps", "1", "--labels", "mine"},
                {"--model", "--eps", "1", "--model", "resnet"},
                {"--checkpoint", "--eps", "1", "--model", MODEL, "--checkpoint", ck.toString()},
                {"--count", "--eps", "1", "--count", "3"},
        };
        for (String[] c : cases) {
            String[] a = concat(args("attack", "--data", d, "--out", o), Arrays.copyOfRange(c, 1, c.length));
            if (!c[0].equals("--count")) {
                a = concat(a, "--count", "2");
            }
            Run r = run(a);
            assertEquals(2, r.code(), String.join(" ", a) + "\n" + r.err());
            assertTrue(r.err().contains(c[0]), "message should name " + c[0] + ": " + r.err());
            assertFalse(r.err().contains("should be specified only once"), r.err());
        }
        assertFalse(Files.exists(tmp.resolve("o/attack.csv")), "no output from a rejected command");
    }
}
