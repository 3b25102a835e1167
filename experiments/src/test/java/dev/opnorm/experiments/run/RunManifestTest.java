package dev.opnorm.experiments.run;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RunManifestTest {
    @TempDir
    Path dir;

    @Test
    void write_isAtomicJson_withOptionsAndOutputHashes_readableByOthers() throws IOException {
        Files.writeString(dir.resolve("a.csv"), "x\n1\n");
        RunManifest m = new RunManifest("norm").put("seed", 7).option("p", "inf").option("note", "say \"hi\"\n");
        m.output(dir, "a.csv").write(dir);
        String json = Files.readString(dir.resolve("run.json"));
        assertTrue(json.contains("\"command\": \"norm\""), json);
        assertTrue(json.contains("\"p\": \"inf\""), json);
        assertTrue(json.contains("\"note\": \"say \\\"hi\\\"\\n\""), json);
        assertTrue(json.contains("\"a.csv\": \"" + RunManifest.sha256(dir.resolve("a.csv")) + "\""), json);
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary file left behind");
        }
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            assertTrue(Files.getPosixFilePermissions(dir.resolve("run.json")).contains(PosixFilePermission.OTHERS_READ));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void json_keepsTypes_andNamesTheRealVersion() throws Exception {
        RunManifest m = new RunManifest("norm").put("seed", 7).put("threads", 2).put("lr", 0.05)
                .put("resumed", true).put("data", Path.of("/d")).option("count", 16).option("p", "inf")
                .option("calibrate", false).option("tol", Double.NaN);
        Map<String, Object> json = dev.opnorm.nn.checkpoint.Json.parseObject(m.json());
        assertEquals(7L, json.get("seed"));
        assertEquals(2L, json.get("threads"));
        assertEquals(0.05, json.get("lr"));
        assertEquals(true, json.get("resumed"));
        assertEquals("/d", json.get("data"));
        assertTrue(json.get("cores") instanceof Long, "cores is a number: " + json.get("cores"));
        Map<String, Object> options = (Map<String, Object>) json.get("options");
        assertEquals(16L, options.get("count"));
        assertEquals("inf", options.get("p"));
        assertEquals(false, options.get("calibrate"));
        assertTrue(options.containsKey("tol") && options.get("tol") == null, "NaN is null");
        // the version comes from the Maven-filtered resource, also when running from target/classes
        String version = (String) json.get("opnorm_version");
        assertTrue(version.matches("[0-9]+\\.[0-9]+.*"), version);
        // a parsed run.json rendered again keeps its types
        Map<String, Object> again = dev.opnorm.nn.checkpoint.Json.parseObject(RunManifest.render(json));
        assertEquals(json, again);
    }
}
