package dev.opnorm.experiments.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.opnorm.experiments.cli.NormCommandTest.run;
import static dev.opnorm.experiments.cli.NormCommandTest.writeFashion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AnalyzeCommandTest {
    @TempDir
    Path tmp;

    private static final String[] FILES = {"fig2_spectrum.csv", "fig2_alignment.csv", "fig4_deviation.csv",
            "fig4_sigma_max.csv", "fig5_shared.csv"};

    /** The data rows of a figure CSV (provenance header lines dropped). */
    private static List<String> rows(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().filter(l -> !l.startsWith("#")).toList();
    }

    private static String[] args(Path data, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("analyze", "--data", data.toString(), "--out", out.toString(),
                "--model", "cnn7-w0.0625", "--points", "3", "--batch", "2", "--iterations", "2", "--eps", "1",
                "--z-steps", "2", "--power-iterations", "8", "--tol", "1e-3", "--noise", "0.05,0.5", "--samples", "1"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    @Test
    void analyze_checkpointAndRandom_writesEveryFigure_deterministicAcrossThreads() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 4);
        var model = dev.opnorm.nn.models.Models.create("cnn7-w0.0625", 1, 10, 9);
        var params = new ArrayList<>(model.params());
        params.addAll(model.buffers());
        Path ck = tmp.resolve("trained.safetensors");
        dev.opnorm.nn.checkpoint.Checkpoint.of(params).save(ck);

        NormCommandTest.Run a = run(args(data, tmp.resolve("a"), "--checkpoint", ck.toString(), "--label", "std",
                "--random", "--threads", "2"));
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().contains("fig5_shared"), a.out());
        for (String f : FILES) {
            List<String> r = rows(tmp.resolve("a").resolve(f));
            assertTrue(r.get(0).startsWith("series,"), f + ": " + r.get(0));
            for (String row : r.subList(1, r.size())) {
                String[] c = row.split(",");
                assertEquals(5, c.length, row);
                assertEquals("3", c[4], "every point counts: " + row);
                assertTrue(Double.isFinite(Double.parseDouble(c[2])), row);
                assertTrue(Files.exists(tmp.resolve("a").resolve(f.replace(".csv", ".png"))), f);
            }
        }
        // fig2 spectrum: 64 ranks (64 features at width 1/16) x {std, random} x {clean, adversarial}
        List<String> spectrum = rows(tmp.resolve("a/fig2_spectrum.csv"));
        assertEquals(1 + 4 * 64, spectrum.size());
        assertEquals("series,rank,sigma,sigma_stderr,n", spectrum.get(0));
        assertTrue(spectrum.get(1).startsWith("std clean,1.0,"), spectrum.get(1));
        // fig4: ||z|| = 0 has no deviation at all
        assertTrue(rows(tmp.resolve("a/fig4_deviation.csv")).get(1).startsWith("std random,0.0,0.0,"),
                rows(tmp.resolve("a/fig4_deviation.csv")).get(1));
        String manifest = Files.readString(tmp.resolve("a/run.json"));
        for (String f : FILES) {
            assertTrue(manifest.contains("\"" + f + "\""), f);
        }
        assertTrue(manifest.contains("attack_success.random"), manifest);
        assertTrue(manifest.contains("\"report.html\""), manifest);
        String html = Files.readString(tmp.resolve("a/report.html"));
        assertTrue(html.contains("data:image/png;base64,") && html.contains("fig5_shared.csv"), "figures inline, CSVs linked");

        NormCommandTest.Run b = run(args(data, tmp.resolve("b"), "--checkpoint", ck.toString(), "--label", "std",
                "--random", "--threads", "1"));
        assertEquals(0, b.code(), b.err());
        for (String f : FILES) {
            assertEquals(rows(tmp.resolve("a").resolve(f)), rows(tmp.resolve("b").resolve(f)), f);
        }
        // the checkpoint (seed 9) and the random network (seed 0) are different networks
        List<String> sa = rows(tmp.resolve("a/fig2_spectrum.csv"));
        assertNotEquals(sa.get(1).split(",")[2], sa.get(1 + 2 * 64).split(",")[2]);
    }

    @Test
    void analyze_figuresFlag_writesOnlyTheSelectedFigures() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 3);
        NormCommandTest.Run r = run(args(data, tmp.resolve("o"), "--random", "--figures", "5"));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(tmp.resolve("o/fig5_shared.csv")));
        assertTrue(Files.notExists(tmp.resolve("o/fig2_spectrum.csv")));
        assertTrue(Files.notExists(tmp.resolve("o/fig4_deviation.csv")));
        List<String> shared = rows(tmp.resolve("o/fig5_shared.csv"));
        assertEquals(List.of("series,eps,shared,shared_stderr,n"), shared.subList(0, 1));
        assertEquals(1 + 2 * 2, shared.size());
        assertTrue(shared.get(1).startsWith("random near data,0.05,"), shared.get(1));
        // BN statistics from training images: another function, other cells
        NormCommandTest.Run c = run(args(data, tmp.resolve("c"), "--random", "--figures", "5", "--calibrate-bn", "2"));
        assertEquals(0, c.code(), c.err());
        assertNotEquals(shared, rows(tmp.resolve("c/fig5_shared.csv")));
        assertTrue(c.out().contains("BN statistics from 2 training images"), c.out());
        // the l_inf box of the same radii is a different noise: other curves, named in the run record
        NormCommandTest.Run b = run(args(data, tmp.resolve("b"), "--random", "--figures", "5", "--noise-norm", "inf"));
        assertEquals(0, b.code(), b.err());
        assertNotEquals(shared, rows(tmp.resolve("b/fig5_shared.csv")));
        assertTrue(Files.readString(tmp.resolve("b/run.json")).contains("l_inf box"), "run.json names the noise");
        assertTrue(Files.readString(tmp.resolve("o/run.json")).contains("l2 ball"), "run.json names the noise");
    }

    @Test
    void analyze_badFlags_exit2WithTheFlagNamed() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 3);
        Path o = tmp.resolve("bad");
        String[][] cases = {
                {"--random", "--figures", "3"}, {"--figures"},
                {"--random", "--points", "0"}, {"--points"},
                {"--random", "--eps", "-1"}, {"--eps"},
                {"--random", "--noise", "0.1,-2"}, {"--noise"},
                {"--random", "--noise-norm", "3"}, {"--noise-norm"},
                {"--random", "--samples", "0"}, {"--samples"},
                {"--random", "--z-steps", "0"}, {"--z-steps"},
                {"--checkpoint", "a.safetensors", "--label", "x", "--label", "y"}, {"--label"},
                {}, {"--random"},
                {"--random", "--offset", "1"}, {"exceeds the 3 test images"},
                {"--checkpoint", "a.safetensors", "--calibrate-bn", "2"}, {"--calibrate-bn"},
                {"--random", "--calibrate-bn", "9"}, {"--calibrate-bn 9 exceeds"},
        };
        for (int i = 0; i < cases.length; i += 2) {
            NormCommandTest.Run r = run(args(data, o, cases[i]));
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertTrue(r.err().contains(cases[i + 1][0]), String.join(" ", cases[i]) + ": " + r.err());
        }
        assertTrue(Files.notExists(o.resolve("run.json")));
    }
}
