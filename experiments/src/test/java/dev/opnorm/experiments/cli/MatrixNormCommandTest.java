package dev.opnorm.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.linalg.io.Npy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MatrixNormCommandTest {

    /** Output of one CLI run. */
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = OpnormCli.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static double jsonNumber(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": ([-0-9.eE]+)").matcher(json);
        assertTrue(m.find(), key + " missing in " + json);
        return Double.parseDouble(m.group(1));
    }

    private static Path matrix(Path dir) throws IOException {
        // [[1, -2], [3, 4]]: ||A||_{1,2} = sqrt(20), ||A||_{inf,2} = sqrt(50), ||A||_{2,2} = sqrt(15 + sqrt(125))
        Path f = dir.resolve("a.npy");
        Npy.write(f, new double[] {1, -2, 3, 4}, 2, 2);
        return f;
    }

    @Test
    void matrixNorm_printsExactIterationAndGap_asText(@TempDir Path dir) throws IOException {
        Run r = run("matrix-norm", "--p", "1", "--q", "2", matrix(dir).toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(p,q):        (1,2)"), r.out());
        assertTrue(r.out().contains("exact:        4.47213595500"), r.out()); // sqrt(20)
        assertTrue(r.out().contains("max column l2"), r.out());
        assertTrue(r.out().contains("iteration:    4.4721359"), r.out());
        assertTrue(r.out().contains("relative gap:"), r.out());
    }

    @Test
    void matrixNorm_json_forNpHardCell_usesVertexEnumeration(@TempDir Path dir) throws IOException {
        Run r = run("matrix-norm", "--p", "inf", "--q", "2", "--format", "json", matrix(dir).toString());
        assertEquals(0, r.code(), r.err());
        String json = r.out().trim();
        assertTrue(json.startsWith("{") && json.endsWith("}"), json);
        assertEquals(Math.sqrt(50), jsonNumber(json, "exact"), 1e-12);
        double it = jsonNumber(json, "iteration");
        assertTrue(it <= Math.sqrt(50) * (1 + 1e-6), json);
        assertEquals((Math.sqrt(50) - it) / Math.sqrt(50), jsonNumber(json, "relative_gap"), 1e-12);
        assertTrue(json.contains("\"p\": \"inf\"") && json.contains("vertex enumeration"), json);
    }

    @Test
    void matrixNorm_generalExponents_reportUnknownExact(@TempDir Path dir) throws IOException {
        Run r = run("matrix-norm", "--p", "1.5", "--q", "3", "--format", "json", matrix(dir).toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"exact\": null") && r.out().contains("\"relative_gap\": null"), r.out());
        assertTrue(jsonNumber(r.out(), "iteration") > 0, r.out());
    }

    @Test
    void matrixNorm_float32FortranFile_isRead(@TempDir Path dir) throws IOException {
        // the same matrix, stored as big-endian float32 in Fortran order (column after column)
        Path f = dir.resolve("f.npy");
        String header = "{'descr': '>f4', 'fortran_order': True, 'shape': (2, 2), }\n";
        var buf = java.nio.ByteBuffer.allocate(10 + header.length() + 16);
        buf.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        buf.put((byte) header.length()).put((byte) 0).put(header.getBytes(StandardCharsets.US_ASCII));
        buf.putFloat(1).putFloat(3).putFloat(-2).putFloat(4);
        Files.write(f, buf.array());
        Run r = run("matrix-norm", "--p", "inf", "--q", "inf", "--format", "json", f.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(7, jsonNumber(r.out(), "exact"), 0); // max row l1 of [[1, -2], [3, 4]]
    }

    @Test
    void matrixNorm_badInput_isAClearError(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad.npy");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        Run r = run("matrix-norm", "--p", "2", "--q", "2", bad.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("bad.npy") && r.err().contains("offset 0") && r.err().contains("magic"), r.err());

        Path vec = dir.resolve("vec.npy");
        Npy.write(vec, new double[] {1, 2, 3}, 3);
        r = run("matrix-norm", "--p", "2", "--q", "2", vec.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("vec.npy") && r.err().contains("2-D"), r.err());

        r = run("matrix-norm", "--p", "0.5", "--q", "2", matrix(dir).toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("0.5"), r.err());
    }
}
