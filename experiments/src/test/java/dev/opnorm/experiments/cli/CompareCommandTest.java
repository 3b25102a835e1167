package dev.opnorm.experiments.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class CompareCommandTest {
    @TempDir
    Path tmp;

    private Path run(String name, String backend, String threads, String csv) throws IOException {
        Path d = tmp.resolve(name);
        Files.createDirectories(d);
        Files.writeString(d.resolve("run.json"), "{\n  \"command\": \"norm\",\n  \"backend\": \"" + backend
                + "\",\n  \"threads\": " + threads + ",\n  \"seed\": 0,\n  \"options\": {\n    \"p\": 2,\n"
                + "    \"calibrate_bn\": false\n  },\n  \"inputs_sha256\": {},\n  \"outputs_sha256\": {}\n}\n");
        Files.writeString(d.resolve("norms.csv"), "index,label,norm\n" + csv);
        return d;
    }

    @Test
    void compare_sameBackendOtherThreads_requiresBitIdentical() throws IOException {
        Path a = run("a", "vector", "1", "0,3,1.25\n1,4,2.5\n");
        Path b = run("b", "vector", "2", "0,3,1.25\n1,4,2.5\n");
        NormCommandTest.Run ok = NormCommandTest.run("compare", a.toString(), b.toString());
        assertEquals(0, ok.code(), ok.out() + ok.err());
        assertTrue(ok.out().contains("bit-identical") && ok.out().contains("AGREE"), ok.out());

        Path c = run("c", "vector", "2", "0,3,1.25\n1,4,2.5000001\n");
        NormCommandTest.Run bad = NormCommandTest.run("compare", a.toString(), c.toString());
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.out().contains("NOT BIT-IDENTICAL") && bad.out().contains("line 2, norm"), bad.out());
    }

    @Test
    void compare_acrossBackends_allowsRelativeTolerance_andListsLargestDifferences() throws IOException {
        Path a = run("a", "vector", "2", "0,3,1.25\n1,4,2.5\n");
        Path b = run("b", "opencl", "2", "0,3,1.2500001\n1,4,2.5\n");
        NormCommandTest.Run ok = NormCommandTest.run("compare", a.toString(), b.toString());
        assertEquals(0, ok.code(), ok.out());
        assertTrue(ok.out().contains("within tolerance") && ok.out().contains("backend differs"), ok.out());

        Path c = run("c", "opencl", "2", "0,3,1.26\n1,4,2.5\n");
        NormCommandTest.Run bad = NormCommandTest.run("compare", a.toString(), c.toString());
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.out().contains("OUTSIDE TOLERANCE") && bad.out().contains("1.25") , bad.out());
    }

    @Test
    void compare_olderRunJsonWithStringValues_agreesWithTypedOne() throws IOException {
        Path a = run("a", "vector", "2", "0,3,1.25\n");
        Path b = run("b", "vector", "2", "0,3,1.25\n");
        Files.writeString(b.resolve("run.json"), "{\n  \"command\": \"norm\",\n  \"backend\": \"vector\",\n"
                + "  \"threads\": \"2\",\n  \"seed\": \"0\",\n  \"options\": {\n    \"p\": \"2\",\n"
                + "    \"calibrate_bn\": \"false\"\n  },\n  \"inputs_sha256\": {},\n  \"outputs_sha256\": {}\n}\n");
        NormCommandTest.Run r = NormCommandTest.run("compare", a.toString(), b.toString());
        assertEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("bit-identical") && !r.out().contains("differs:"), r.out());
        Files.writeString(b.resolve("run.json"), Files.readString(b.resolve("run.json")).replace("\"p\": \"2\"",
                "\"p\": \"inf\""));
        NormCommandTest.Run other = NormCommandTest.run("compare", a.toString(), b.toString());
        assertTrue(other.out().contains("options.p differs: 2 vs inf"), other.out());
    }

    @Test
    void compare_missingFilesAndTextCells_areMismatches() throws IOException {
        Path a = run("a", "vector", "1", "0,3,1.25\n");
        Path b = run("b", "vector", "1", "0,7,1.25\n");
        Files.writeString(a.resolve("extra.csv"), "x\n1\n");
        NormCommandTest.Run r = NormCommandTest.run("compare", a.toString(), b.toString());
        assertEquals(1, r.code(), r.out());
        assertTrue(r.out().contains("missing in B"), r.out());
        NormCommandTest.Run none = NormCommandTest.run("compare", a.toString(), tmp.resolve("nope").toString());
        assertEquals(2, none.code());
        assertTrue(none.err().contains("not a run folder"), none.err());
    }
}
