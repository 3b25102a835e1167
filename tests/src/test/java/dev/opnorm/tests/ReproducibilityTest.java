package dev.opnorm.tests;

import dev.opnorm.api.Jacobians;
import dev.opnorm.api.Methods;
import dev.opnorm.api.Training;
import dev.opnorm.api.Models;
import dev.opnorm.api.NormResults;
import dev.opnorm.api.OperatorNorms;
import dev.opnorm.experiments.cli.OpnormCli;
import dev.opnorm.experiments.run.RunComparison;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.robust.attack.AttackResult;
import dev.opnorm.robust.attack.Pga;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reproducibility across runs, thread counts and backends, end to end through the command line: the
 * {@code norm} command on a tiny synthetic Fashion-MNIST test set (3 images, cnn7-w0.0625, 10 iterations),
 * two run folders compared by {@link RunComparison} (what {@code opnorm compare A B} does).
 */
class ReproducibilityTest {
    @TempDir
    Path tmp;

    private Kernels saved;
    private Path data;

    @BeforeEach
    void setUp() throws IOException {
        saved = Engine.kernels();   // the CLI installs its backend as the engine default: put it back afterwards
        data = writeFashionTest(tmp.resolve("fashion"), 3);
    }

    @AfterEach
    void restoreKernels() {
        Engine.setKernels(saved);
    }

    /** A Fashion-MNIST test split in IDX format with n random images, labels i % 10. */
    static Path writeFashionTest(Path dir, int n) throws IOException {
        SplittableRandom r = new SplittableRandom(11);
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
        return dir;
    }

    record Run(int code, String out, String err) {
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = OpnormCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(cl.execute(args), out.toString(), err.toString());
    }

    /** Runs {@code opnorm norm} into tmp/name with the fixed tiny setup plus extra options; returns the folder. */
    private Path norm(String name, String... extra) {
        Path out = tmp.resolve(name);
        List<String> args = new ArrayList<>(List.of("norm", "--data", data.toString(), "--count", "3", "--batch", "3",
                "--model", "cnn7-w0.0625", "--iterations", "10", "--p", "2", "--q", "inf", "--seed", "3",
                "--out", out.toString()));
        args.addAll(Arrays.asList(extra));
        Run r = cli(args.toArray(String[]::new));
        assertEquals(0, r.code(), "norm " + args + " failed:\n" + r.err());
        return out;
    }

    private static RunComparison.Report compare(Path a, Path b) throws IOException {
        return RunComparison.compare(a, b, ReproducibilityTolerances.BACKEND_RTOL, ReproducibilityTolerances.BACKEND_ATOL, 5);
    }

    /** The rows of norms.csv, which starts with its header row (provenance is in run.json). */
    private static List<String> dataRows(Path run) throws IOException {
        List<String> rows = Files.readAllLines(run.resolve("norms.csv"));
        assertTrue(rows.get(0).startsWith("index,"), "norms.csv starts with its header row: " + rows.get(0));
        return rows;
    }

    @Test
    void normRun_repeated_bitIdenticalOutputs() throws IOException {
        Path a = norm("first", "--threads", "2");
        Path b = norm("second", "--threads", "2");
        RunComparison.Report report = compare(a, b);
        assertEquals(RunComparison.Expect.BIT_IDENTICAL, report.expect(), report.notes().toString());
        assertTrue(report.ok(), report.toString());
        assertEquals(dataRows(a), dataRows(b));
        assertEquals(4, dataRows(a).size(), "header + 3 images");
    }

    @Test
    void normRun_oneVersusTwoThreads_bitIdenticalOutputs() throws IOException {
        Path one = norm("threads1", "--threads", "1");
        Path two = norm("threads2", "--threads", "2");
        RunComparison.Report report = compare(one, two);
        assertEquals(RunComparison.Expect.BIT_IDENTICAL, report.expect(), report.notes().toString());
        assertTrue(report.ok(), report.toString());
        assertTrue(report.notes().stream().anyMatch(n -> n.startsWith("threads differ")), report.notes().toString());
        assertEquals(dataRows(one), dataRows(two));
    }

    /** One facade workflow (norms, Jacobian spectrum, PGA, d.d. SNR and AT training steps) computed with the given default kernels. */
    private static List<Object> facadeRun(Kernels kernels) {
        Engine.setKernels(kernels);
        Sequential model = Models.cnn7(0.0625, 1, 10, 7);
        Tensor x = new Tensor(new Shape(3, 1, 32, 32));
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) (2 * r.nextDouble() - 1);
        }
        NormResults norms = OperatorNorms.of(model, x).p(OperatorNorms.INF).q(2).iterations(15).compute();
        double[] spectrum = Jacobians.of(model, x, 1).spectrum().singularValues();
        AttackResult adv = Pga.l2(0.3).iterations(5).attack(model, x, new int[]{0, 1, 2});
        // two d.d. SNR training steps, then two AT steps: the weights after them
        Dataset data = new Dataset("random", x, new int[]{0, 1, 2}, 10, Domain.SYMMETRIC);
        try {
            Training.of(model).method(Methods.ddSnr(0.01, 0.5)).data(data, null).batchSize(3).epochs(2).fit();
            Training.of(model).method(Methods.adversarial(Pga.linf(0.01).iterations(3))).data(data, null).batchSize(3)
                    .epochs(2).seed(1).fit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        StringBuilder weights = new StringBuilder();
        for (Param p : model.params()) {
            weights.append(Arrays.toString(p.value));
        }
        return List.of(Arrays.toString(norms.values()), Arrays.toString(norms.maximizer(2)), Arrays.toString(spectrum),
                Arrays.toString(adv.adversarial().data), Arrays.toString(adv.loss()), weights.toString());
    }

    @Test
    void facade_normsAttackTraining_oneVersusTwoThreads_bitIdentical() {
        assertEquals(facadeRun(new VectorKernels(1)), facadeRun(new VectorKernels(2)));
    }

    @Test
    void normRun_cpuVersusOpenCl_agreeWithinTolerance_reportedByCompare() throws IOException {
        assertTrue(OpenCl.available(), "no OpenCL device: install pocl-opencl-icd (see docs/design.md, GPU)");
        Path cpu = norm("cpu", "--backend", "cpu", "--threads", "2");
        Path gpu = norm("opencl", "--backend", "opencl");
        RunComparison.Report report = compare(cpu, gpu);
        assertEquals(RunComparison.Expect.WITHIN_TOLERANCE, report.expect(), report.notes().toString());
        assertTrue(report.notes().stream().anyMatch(n -> n.startsWith("backend differs")), report.notes().toString());
        assertTrue(report.ok(), report.toString());
        RunComparison.FileResult norms = report.files().stream().filter(f -> f.file().equals("norms.csv")).findFirst()
                .orElseThrow();
        assertTrue(norms.compared() > 0, norms.toString());
        assertTrue(norms.maxRelative() <= ReproducibilityTolerances.BACKEND_RTOL, norms.toString());
        System.out.println("cpu vs opencl, norms.csv: " + norms.compared() + " numbers, max relative difference "
                + norms.maxRelative());

        // the same verdict from the command line tool
        Run c = cli("compare", cpu.toString(), gpu.toString(), "--rtol", String.valueOf(ReproducibilityTolerances.BACKEND_RTOL));
        assertEquals(0, c.code(), c.out() + c.err());
        assertTrue(c.out().contains("norms.csv"), c.out());
    }
}
