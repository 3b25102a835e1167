package dev.opnorm.spark;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.opnorm.spark.SparkTestSupport.cli;
import static dev.opnorm.spark.SparkTestSupport.fourRuns;
import static dev.opnorm.spark.SparkTestSupport.hashes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sweep of four tiny runs in this process (the reference, each training in one go), on local[2], and on local[2]
 * with every task failing once after its first epoch is stored in a non-local store (training epoch by epoch,
 * resumed from the stored checkpoint): the same sweep.csv and the same weights every time.
 */
class SparkSweepTest {
    @TempDir
    static Path tmp;
    static Path plain;
    static String plainCsv;

    @BeforeAll
    static void plainSweep() throws IOException {
        plain = tmp.resolve("plain");
        cli(fourRuns(plain));
        plainCsv = Files.readString(plain.resolve("sweep.csv"));
    }

    @Test
    void plainSweepWritesOneFolderPerRunAndOneTable() throws IOException {
        List<String> lines = plainCsv.lines().toList();
        assertEquals(5, lines.size(), plainCsv);
        assertTrue(lines.get(0).startsWith("run,method,lambda,eps,seed,width,epochs,steps,loss"), lines.get(0));
        String runJson = Files.readString(plain.resolve("run.json"));
        for (String line : lines.subList(1, 5)) {
            String name = line.substring(0, line.indexOf(','));
            Path dir = plain.resolve("runs").resolve(name);
            for (String f : List.of("model.safetensors", "checkpoint.safetensors", "metrics.csv", "run.json",
                    "eval/accuracy_l2.csv", "final.csv")) {
                assertTrue(Files.isRegularFile(dir.resolve(f)), dir.resolve(f) + " missing");
            }
            assertTrue(runJson.contains("runs/" + name), "run.json does not name " + name);
            assertTrue(Files.readString(dir.resolve("run.json")).contains("\"status\": \"finished\""));
        }
        // the four runs differ (seeds, methods): equal tables below are not equal by accident
        assertEquals(4, lines.stream().skip(1).map(l -> l.substring(l.lastIndexOf(',') + 1)).distinct().count());
    }

    @Test
    void localTwoCoresGivesTheSameResults() throws IOException {
        Path spark = tmp.resolve("local2");
        List<String> args = fourRuns(spark);
        args.addAll(List.of("--master", "local[2]"));
        cli(args);
        assertEquals(plainCsv, Files.readString(spark.resolve("sweep.csv")));
        assertEquals(hashes(plain, "model.safetensors"), hashes(spark, "model.safetensors"));
        assertEquals(4, hashes(spark, "model.safetensors").size());
    }

    @Test
    void tasksThatFailOnceAfterTheirFirstCheckpointResumeOnRetryWithTheSameResults() throws IOException {
        // a non-local scheme: each task works on a local copy pushed after every epoch, as on HDFS or S3
        Path store = tmp.resolve("faulty");
        List<String> args = fourRuns(store);
        args.set(args.indexOf("--out") + 1, "opnormtest://" + store);
        args.addAll(List.of("--master", "local[2,3]", "--fail-once-after-first-checkpoint",
                "--conf", "fs.opnormtest.impl=" + LocalTestFileSystem.class.getName(),
                "--conf", "fs.opnormtest.impl.disable.cache=true"));
        cli(args);
        assertEquals(plainCsv, Files.readString(store.resolve("sweep.csv")));
        assertEquals(hashes(plain, "model.safetensors"), hashes(store, "model.safetensors"));
        try (var faults = Files.list(store.resolve(SweepRun.FAULT_DIR))) {
            assertEquals(4, faults.count(), "every run failed once");
        }
        for (String line : plainCsv.lines().skip(1).toList()) {
            Path dir = store.resolve("runs").resolve(line.substring(0, line.indexOf(',')));
            // the retry continued from the stored epoch-1 checkpoint: the second epoch's training resumed there
            String log = Files.readString(dir.resolve("log.txt"));
            // epoch 1 was trained once: the retry did not start over
            assertEquals(1, count(log, "--stop-after-epoch 1 "), log);
            assertEquals(1, count(log, "--stop-after-epoch 2 "), log);
            assertTrue(log.contains("resuming"), log);
            assertFalse(Files.exists(dir.resolve(".opnorm.lock")), "a lock file was copied to the store");
        }
    }

    @Test
    void aRerunReadsFinishedRunsBack() throws IOException {
        Map<String, String> before = hashes(plain, ".safetensors");
        cli(fourRuns(plain));
        assertEquals(plainCsv, Files.readString(plain.resolve("sweep.csv")));
        assertEquals(before, hashes(plain, ".safetensors"));
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
