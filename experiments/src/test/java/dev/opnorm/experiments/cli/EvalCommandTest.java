package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.cli.NormCommandTest.Run;
import dev.opnorm.nn.Tensor;
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

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static dev.opnorm.experiments.cli.NormCommandTest.run;
import static dev.opnorm.experiments.cli.NormCommandTest.writeFashion;
import static org.junit.jupiter.api.Assertions.*;

class EvalCommandTest {
    static final String MODEL = "cnn7-w0.0625";

    @TempDir
    Path tmp;

    private static List<String> dataLines(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().filter(l -> !l.startsWith("#")).toList();
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private Path checkpoint(String name, long seed) throws IOException {
        Path ck = tmp.resolve(name + ".safetensors");
        Checkpoint.of(Models.create(MODEL, 1, 10, seed)).save(ck);
        return ck;
    }

    @Test
    void eval_twoNetworksTwoNorms_writesFigureCsvPngAndManifest_matchingTheLibrary() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 6);
        Path a = checkpoint("a", 1), b = checkpoint("net-b", 2);
        Run r = run("eval", "--data", data.toString(), "--model", MODEL, "--count", "6", "--iterations", "2",
                "--checkpoint", "first=" + a, "--checkpoint", b.toString(), "--p", "2", "--p", "inf",
                "--eps-list", "0,0.5,1", "--eps-list", "0,0.05", "--train-eps", "0.75", "--batch", "4",
                "--out", tmp.resolve("o").toString());
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("accuracy_l2.csv", "accuracy_l2.png", "accuracy_linf.csv", "accuracy_linf.png", "run.json")) {
            assertTrue(Files.isRegularFile(tmp.resolve("o").resolve(f)), f);
        }
        List<String> l2 = dataLines(tmp.resolve("o/accuracy_l2.csv"));
        assertEquals("series,eps,accuracy,accuracy_stderr,n", l2.get(0));
        assertEquals(7, l2.size(), "2 networks x 3 radii");
        assertEquals(List.of("first", "first", "first", "net-b", "net-b", "net-b"),
                l2.subList(1, 7).stream().map(l -> l.split(",")[0]).toList());
        assertEquals(List.of("0.0", "0.5", "1.0"), l2.subList(1, 4).stream().map(l -> l.split(",")[1]).toList());
        assertEquals(5, dataLines(tmp.resolve("o/accuracy_linf.csv")).size(), "2 networks x 2 radii");
        // the CSVs start with their header row; the training eps (the l2 figure's marker) is in run.json, typed
        assertTrue(Files.readString(tmp.resolve("o/accuracy_l2.csv")).startsWith("series,"));
        assertTrue(Files.readString(tmp.resolve("o/run.json")).contains("\"train_eps\": 0.75"));
        BufferedImage png = ImageIO.read(tmp.resolve("o/accuracy_linf.png").toFile());
        assertEquals(800, png.getWidth());
        assertEquals(500, png.getHeight());
        String manifest = Files.readString(tmp.resolve("o/run.json"));
        assertTrue(manifest.contains("\"accuracy_l2.png\""), manifest);
        assertTrue(manifest.contains("\"checkpoint first\": \"" + a + "\""), manifest);

        // the numbers: eps = 0 is the clean accuracy, eps > 0 what robust.attack.RobustAccuracy counts
        Dataset test = FashionMnist.load(data, FashionMnist.Split.TEST, Domain.SYMMETRIC).padTo(32, 32);
        Sequential net = Models.create(MODEL, 1, 10, 7);
        Checkpoint.load(b).loadInto(net);
        double[] acc = l2.subList(4, 7).stream().mapToDouble(l -> Double.parseDouble(l.split(",")[2])).toArray();
        assertEquals(cleanCorrect(net, test) / 6.0, acc[0]);
        assertEquals(RobustAccuracy.of(net, test, Pga.l2(1).iterations(2).seed(0), 6).robustAccuracy(), acc[2]);
        double se = Double.parseDouble(l2.get(6).split(",")[3]);
        assertEquals(Math.sqrt(acc[2] * (1 - acc[2]) / 5), se, 1e-15);
        assertTrue(r.out().contains("net-b"), r.out());
    }

    @Test
    void eval_onOpenClDevice_agreesWithCpu_withinOneExample() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 6);
        String[] common = {"eval", "--data", data.toString(), "--model", MODEL, "--count", "6", "--iterations", "2",
                "--p", "2", "--eps-list", "0,0.5,2", "--batch", "4"};
        Run cpu = run(concat(common, "--out", tmp.resolve("cpu").toString()));
        Run cl = run(concat(common, "--backend", "opencl", "--out", tmp.resolve("cl").toString()));
        assertEquals(0, cpu.code(), cpu.err());
        assertEquals(0, cl.code(), cl.err());
        List<String> a = dataLines(tmp.resolve("cpu/accuracy_l2.csv")), b = dataLines(tmp.resolve("cl/accuracy_l2.csv"));
        assertEquals(a.size(), b.size());
        assertEquals(a.get(0), b.get(0));
        for (int i = 1; i < a.size(); i++) {
            String[] x = a.get(i).split(","), y = b.get(i).split(",");
            assertEquals(x[1], y[1], "eps");
            assertEquals(Double.parseDouble(x[2]), Double.parseDouble(y[2]), 1.0 / 6 + 1e-12, "accuracy at eps " + x[1]);
        }
        assertTrue(cl.out().contains("opencl"), cl.out());
    }

    @Test
    void eval_isDeterministic_acrossThreadsAndBatches_withEpsMax() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 5);
        String[] common = {"eval", "--data", data.toString(), "--model", MODEL, "--count", "5", "--iterations", "2",
                "--p", "inf", "--eps-max", "0.2", "--eps-steps", "3"};
        Run x = run(concat(common, "--threads", "2", "--batch", "5", "--out", tmp.resolve("x").toString()));
        Run y = run(concat(common, "--threads", "1", "--batch", "2", "--out", tmp.resolve("y").toString()));
        assertEquals(0, x.code(), x.err());
        assertEquals(0, y.code(), y.err());
        List<String> lines = dataLines(tmp.resolve("x/accuracy_linf.csv"));
        assertEquals(lines, dataLines(tmp.resolve("y/accuracy_linf.csv")));
        // same numbers, same image: `opnorm compare` checks non-CSV files byte for byte
        assertArrayEquals(Files.readAllBytes(tmp.resolve("x/accuracy_linf.png")),
                Files.readAllBytes(tmp.resolve("y/accuracy_linf.png")));
        assertEquals(List.of("0.0", "0.1", "0.2"), lines.subList(1, 4).stream().map(l -> l.split(",")[1]).toList());
        assertEquals("random-init", lines.get(1).split(",")[0]);
        // the lead's `opnorm compare` agrees: same options but the thread count, so bit-identical expected
        Run z = run(concat(common, "--threads", "1", "--batch", "5", "--out", tmp.resolve("z").toString()));
        assertEquals(0, z.code(), z.err());
        Run cmp = run("compare", tmp.resolve("x").toString(), tmp.resolve("z").toString());
        assertEquals(0, cmp.code(), cmp.out() + cmp.err());
        assertTrue(cmp.out().contains("bit-identical") && cmp.out().contains("AGREE"), cmp.out());
    }

    @Test
    void eval_badFlags_areClearErrors() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 2);
        Path a = checkpoint("a", 1);
        Path wide = tmp.resolve("wide.safetensors");
        Checkpoint.of(Models.create("cnn7-w0.125", 1, 10, 0)).save(wide);
        String[][] cases = {
                {"--eps-list", "--p", "2"},
                {"--eps-list", "--eps-list", "0,1", "--eps-max", "1"},
                {"--eps-list", "--eps-list", "0,x"},
                {"--eps-list", "--eps-list", "0,1,0.5"},
                {"--eps-list", "--eps-list", "0,-1"},
                {"--eps-list", "--p", "2", "--p", "inf", "--eps-list", "0,1", "--eps-list", "0,1", "--eps-list", "0,2"},
                {"--eps-max", "--eps-max", "0"},
                {"--eps-steps", "--eps-max", "1", "--eps-steps", "1"},
                {"--p", "--eps-max", "1", "--p", "5"},
                {"--p", "--eps-max", "1", "--p", "2", "--p", "2.0"},
                {"--checkpoint", "--eps-max", "1", "--checkpoint", tmp.resolve("missing.safetensors").toString()},
                {"--checkpoint", "--eps-max", "1", "--checkpoint", "x=" + a, "--checkpoint", "x=" + a},
                {"--checkpoint", "--eps-max", "1", "--checkpoint", wide.toString()},
                {"--train-p", "--eps-max", "1", "--train-eps", "0.5", "--train-p", "inf"},
                {"--train-eps", "--eps-max", "1", "--train-eps", "-1"},
                {"--loss", "--eps-max", "1", "--loss", "mse"},
                {"--iterations", "--eps-max", "1", "--iterations", "-2"},
                {"--count", "--eps-max", "1", "--count", "0"},
        };
        for (String[] c : cases) {
            String[] args = concat(new String[]{"eval", "--data", data.toString(), "--model", MODEL,
                    "--out", tmp.resolve("o").toString()}, Arrays.copyOfRange(c, 1, c.length));
            if (!c[0].equals("--count")) {
                args = concat(args, "--count", "2");
            }
            Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
            assertTrue(r.err().contains(c[0]), "message should name " + c[0] + ": " + r.err());
        }
        assertFalse(Files.exists(tmp.resolve("o")), "no output from a rejected command");
    }

    private static int cleanCorrect(Sequential net, Dataset d) {
        Tensor logits = net.forward(d.images());
        int correct = 0;
        for (int i = 0; i < d.size(); i++) {
            int best = 0;
            for (int c = 1; c < 10; c++) {
                if (logits.data[i * 10 + c] > logits.data[i * 10 + best]) {
                    best = c;
                }
            }
            correct += best == d.labels()[i] ? 1 : 0;
        }
        return correct;
    }
}
