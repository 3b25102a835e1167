package dev.opnorm.examples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs every example's main with tiny arguments and checks what it prints. */
class ExamplesTest {

    interface Main {
        void run(String[] args) throws Exception;
    }

    static List<String> run(Main main, String... args) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            main.run(args);
        } finally {
            System.setOut(saved);
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        saved.print(text);
        return Arrays.asList(text.split("\\R"));
    }

    private static double[] numbers(String line, int from) {
        String[] f = line.trim().split("\\s+");
        return Arrays.stream(f, from, f.length).mapToDouble(Double::parseDouble).toArray();
    }

    @Test
    void operatorNormsExample_printsThreeNormsPerExample_spectralBetweenOthersBounds() throws Exception {
        List<String> out = run(OperatorNormsExample::main, "3");
        assertEquals("example  (2,2)      (inf,2)    (2,inf)", out.get(0));
        for (int i = 0; i < 3; i++) {
            double[] v = numbers(out.get(1 + i), 1);
            assertEquals(3, v.length, out.get(1 + i));
            for (double d : v) {
                assertTrue(d > 0 && Double.isFinite(d), out.get(1 + i));
            }
            // ||J||_{2,inf} <= ||J||_{2,2} <= ||J||_{inf,2} (||.||_inf <= ||.||_2 <= ||.||_inf-ball radius sqrt(n)),
            // the lower bounds found by the iteration respect the first inequality; the (inf,2) value is at least
            // the spectral value up to the iteration's local-ascent slack
            assertTrue(v[2] <= v[0] * (1 + 1e-4), out.get(1 + i));
            assertTrue(v[1] >= v[0], out.get(1 + i));
        }
        assertTrue(out.get(4).startsWith("(2,2) norms of the logits Jacobian, BN EVAL, 3 examples"), out.get(4));
    }

    @Test
    void attackExample_printsRobustAccuracyFallingWithEps() throws Exception {
        List<String> out = run(AttackExample::main, "4");
        assertEquals("attack    eps       robust accuracy", out.get(0));
        assertEquals(9, out.size());
        for (int block = 0; block < 2; block++) {
            double prev = 1.0;
            for (int k = 0; k < 4; k++) {
                String line = out.get(1 + 4 * block + k);
                assertTrue(line.startsWith(block == 0 ? "PGA l2 " : "PGA linf "), line);
                double acc = numbers(line, 2)[1];
                assertTrue(acc >= 0 && acc <= prev, line);
                prev = acc;
            }
            assertTrue(prev < 1.0, "the largest radius flips at least one prediction");
        }
    }

    @Test
    void trainingExample_ddSnrCheckpointReloads_andBothMethodsReported(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        List<String> out = run(TrainingExample::main, "3", dir.toString());
        assertEquals("checkpoint dd-snr.safetensors reloaded, logits identical: true", out.get(0));
        assertTrue(java.nio.file.Files.exists(dir.resolve("dd-snr.safetensors")));
        assertTrue(out.get(1).startsWith("method    clean   robust"), out.get(1));
        double[] dd = numbers(out.get(2).replace("d.d. SNR", ""), 0), at = numbers(out.get(3).replace("AT", ""), 0);
        for (double[] row : List.of(dd, at)) {
            assertEquals(3, row.length);
            assertTrue(row[0] >= 0 && row[0] <= 1 && row[1] >= 0 && row[1] <= row[0] && row[2] > 0, Arrays.toString(row));
        }
        // the synthetic templates are easy: both methods learn them in 30 steps
        assertTrue(dd[0] >= 0.9 && at[0] >= 0.9, out.toString());
    }

    @Test
    void spectrumExample_printsSpectraAndPowerIterationAgreesWithSvd() throws Exception {
        List<String> out = run(SpectrumExample::main, "5");
        assertTrue(out.get(0).startsWith("logits Jacobian 10 x 1024: sigma_max "), out.get(0));
        assertEquals(5, numbers(out.get(1).replace("singular values:", ""), 0).length, out.get(1));
        assertTrue(out.get(2).startsWith("penultimate features Jacobian 64 x 1024"), out.get(2));
        String last = out.get(4);
        assertTrue(last.startsWith("sigma_max by power iteration: "), last);
        String[] f = last.replace("(SVD:", "").replace(")", "").split("\\s+");
        double power = Double.parseDouble(f[4]), svd = Double.parseDouble(f[5]);
        assertEquals(svd, power, 1e-4 * svd, last);
    }
}
