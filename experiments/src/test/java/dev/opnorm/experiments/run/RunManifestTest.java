package dev.opnorm.experiments.run;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;

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
        assertTrue(m.csvHeader().contains("# option p: inf"), m.csvHeader());
    }
}
