package dev.opnorm.spark;

import dev.opnorm.experiments.run.RunManifest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Tiny sweeps and the comparisons the Spark tests share. */
final class SparkTestSupport {
    private SparkTestSupport() {
    }

    /** Four runs of a few seconds each: standard and AT, two seeds, width 0.0625, 2 epochs of 4 steps. */
    static List<String> fourRuns(Path out) {
        return new ArrayList<>(List.of("sweep", "--method", "standard,at", "--eps", "1", "--seed", "0,1",
                "--width", "0.0625", "--epochs", "2", "--set", "train_subset=100", "--set", "test_subset=50",
                "--set", "batch=25", "--set", "eval_count=20", "--set", "eval_eps=0,1", "--set",
                "eval_iterations=3", "--threads", "1", "--out", out.toString()));
    }

    /** Runs the Spark command line, failing with its output on a non-zero exit. */
    static void cli(List<String> args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(text, true, StandardCharsets.UTF_8));
            code = SparkCli.run(args.toArray(String[]::new));
        } finally {
            System.setOut(oldOut);
        }
        assertEquals(0, code, () -> "opnorm " + String.join(" ", args) + " failed:\n" + text);
    }

    /** The SHA-256 of every file under dir/sub whose name ends with suffix, by relative path. */
    static Map<String, String> hashes(Path dir, String suffix) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().endsWith(suffix))
                    .toList()) {
                m.put(dir.relativize(p).toString(), RunManifest.sha256(p));
            }
        }
        return m;
    }
}
