package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.cli.NormCommandTest.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.opnorm.experiments.cli.NormCommandTest.run;
import static dev.opnorm.experiments.cli.NormCommandTest.writeFashion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CertifyCommandTest {
    static final String MODEL = "cnn7-w0.0625";

    @TempDir
    Path tmp;

    @Test
    void certify_writesBracketsPerImageAndEps_andASummary() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 4);
        Path out = tmp.resolve("c");
        Run r = run("certify", "--data", data.toString(), "--model", MODEL, "--count", "2", "--eps", "0.002,0",
                "--samples", "2", "--ascent", "2", "--bounds", "interval", "--out", out.toString()); // linear: minutes
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(out.resolve("certify.csv"));
        assertEquals("index,label,prediction,eps,lower,upper,upper_monotone,gap,estimate,margin_lower,certified,methods",
                lines.get(0));
        assertEquals(1 + 2 * 2, lines.size());
        for (int img = 0; img < 2; img++) {
            String[] at0 = lines.get(1 + 2 * img).split(","), at1 = lines.get(2 + 2 * img).split(",");
            assertEquals("0.0", at0[3], "radii sorted ascending");
            assertEquals("0.002", at1[3]);
            for (String[] c : new String[][]{at0, at1}) {
                double lo = Double.parseDouble(c[4]), up = Double.parseDouble(c[5]);
                assertTrue(lo > 0 && lo <= up * (1 + 1e-5), "bracket [" + lo + ", " + up + "]");
            }
            assertTrue(Double.parseDouble(at0[6]) <= Double.parseDouble(at1[6]), "upper non-increasing as eps shrinks");
            // at eps 0 a correctly classified image is certified exactly when its margin is positive
            boolean correct = at0[1].equals(at0[2]);
            assertEquals(String.valueOf(correct && Double.parseDouble(at0[9]) > 0), at0[10]);
            if (at1[10].equals("true")) {
                assertEquals("true", at0[10], "certified at 0.002 but not at 0");
            }
        }
        List<String> summary = Files.readAllLines(out.resolve("certify_summary.csv"));
        assertEquals("eps,count,clean_accuracy,certified_accuracy,mean_lower,mean_upper,mean_gap", summary.get(0));
        assertEquals(3, summary.size());
        assertTrue(Files.size(out.resolve("certified_accuracy.png")) > 0 && Files.size(out.resolve("bracket.png")) > 0);
        String manifest = Files.readString(out.resolve("run.json"));
        assertTrue(manifest.contains("\"certify\"") && manifest.contains("certify_summary.csv"), manifest);
        assertTrue(r.out().contains("certified"), r.out());
    }

    @Test
    void certify_openclRunsOnTheCpuAndSaysSo() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 2);
        Run r = run("certify", "--data", data.toString(), "--model", MODEL, "--count", "1", "--eps", "0",
                "--backend", "opencl", "--tighten", "all", "--full-rows", "--no-zonotope", "--out",
                tmp.resolve("o").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("runs on the CPU"), r.err());
        String manifest = Files.readString(tmp.resolve("o/run.json"));
        assertTrue(manifest.contains("certification runs on the CPU"), manifest);
        assertTrue(manifest.matches("(?s).*\"tighten\"\\s*:\\s*\"all\".*"), manifest);
        assertTrue(manifest.matches("(?s).*\"full_rows\"\\s*:\\s*\"?true\"?.*"), manifest);
        assertTrue(manifest.matches("(?s).*\"zonotope\"\\s*:\\s*\"?false\"?.*"), manifest);
    }

    @Test
    void certify_rejectsBadOptionsByName() throws IOException {
        Path data = writeFashion(tmp.resolve("data"), 2);
        Run neg = run("certify", "--data", data.toString(), "--eps", "-0.1", "--out", tmp.resolve("n").toString());
        assertNotEquals(0, neg.code());
        assertTrue(neg.err().contains("--eps"), neg.err());
        Run badQ = run("certify", "--data", data.toString(), "--eps", "0", "--q", "3", "--out", tmp.resolve("q").toString());
        assertNotEquals(0, badQ.code());
        assertTrue(badQ.err().contains("--q"), badQ.err());
        Run badBounds = run("certify", "--data", data.toString(), "--eps", "0", "--bounds", "crown", "--out",
                tmp.resolve("b").toString());
        assertNotEquals(0, badBounds.code());
        assertTrue(badBounds.err().contains("--bounds"), badBounds.err());
        for (String bad : new String[]{"-1", "three"}) {
            Run badTighten = run("certify", "--data", data.toString(), "--eps", "0", "--tighten", bad, "--out",
                    tmp.resolve("t" + bad).toString());
            assertNotEquals(0, badTighten.code());
            assertTrue(badTighten.err().contains("--tighten") && badTighten.err().contains(bad), badTighten.err());
        }
    }
}
