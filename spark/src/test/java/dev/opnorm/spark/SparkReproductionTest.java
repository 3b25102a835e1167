package dev.opnorm.spark;

import dev.opnorm.experiments.cli.OpnormCli;
import dev.opnorm.experiments.reproduce.Profile;
import dev.opnorm.experiments.reproduce.Reproduction;
import dev.opnorm.experiments.run.RunManifest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.opnorm.spark.SparkTestSupport.cli;
import static dev.opnorm.spark.SparkTestSupport.hashes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The smoke reproduction on local[2] writes the same weights, claims.json and CSVs as the plain run; a training
 * unit that fails after its first checkpoint is retried by Spark, resumes there and writes the same weights.
 */
class SparkReproductionTest {
    @TempDir
    static Path tmp;
    static Path plain;

    @BeforeAll
    static void plainRun() {
        plain = tmp.resolve("plain");
        assertEquals(0, OpnormCli.run("reproduce", "--profile", "smoke", "--threads", "1", "--out", plain.toString()));
    }

    @Test
    void smokeProfileOnLocalTwoEqualsThePlainRun() throws IOException {
        Path spark = tmp.resolve("spark");
        cli(List.of("reproduce", "--profile", "smoke", "--threads", "1", "--master", "local[2]", "--out",
                spark.toString()));
        Map<String, String> models = hashes(plain.resolve("models"), ".safetensors");
        // standard, at, the chosen three, every lambda candidate and interpolation point
        Profile p = Profile.SMOKE;
        assertEquals(5 + p.lambdaGlobal().length + p.lambdaDdSnr().length + p.lambdaDdOnr().length
                + p.interpolation().length, models.size(), models.toString());
        assertEquals(models, hashes(spark.resolve("models"), ".safetensors"));
        assertEquals(Files.readString(plain.resolve("claims.json")), Files.readString(spark.resolve("claims.json")));
        assertEquals(hashes(plain, ".csv"), hashes(spark, ".csv"));
        for (String phase : Reproduction.PHASES) {
            assertTrue(Files.isRegularFile(spark.resolve("phases/" + phase + ".done")), phase);
        }
        // a second run finds every unit done
        cli(List.of("reproduce", "--profile", "smoke", "--threads", "1", "--master", "local[2]", "--out",
                spark.toString()));
        assertEquals(models, hashes(spark.resolve("models"), ".safetensors"));
    }

    @Test
    void aTrainingThatFailsAfterItsFirstCheckpointIsRetriedFromThereWithTheSameWeights() throws IOException {
        Path spark = tmp.resolve("retried");
        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try {
            // tasks of local mode run in this JVM and log to System.err
            System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
            cli(List.of("reproduce", "--profile", "smoke", "--threads", "1", "--master", "local[2,3]", "--until",
                    "train-at", "--fail-once-after-first-checkpoint", "train-standard", "--out", spark.toString()));
        } finally {
            System.setErr(err);
        }
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(Files.isRegularFile(spark.resolve(SweepRun.FAULT_DIR).resolve("train-standard")), "no fault");
        assertTrue(text.contains("standard: resumed from"), "the retry did not resume from the checkpoint:\n" + text);
        for (String m : List.of("standard.safetensors", "at.safetensors")) {
            assertEquals(RunManifest.sha256(plain.resolve("models").resolve(m)),
                    RunManifest.sha256(spark.resolve("models").resolve(m)), m);
        }
        assertEquals(Files.readString(plain.resolve("eps_search.csv")), Files.readString(spark.resolve("eps_search.csv")));
        // --until: nothing after train-at ran
        assertTrue(Files.isRegularFile(spark.resolve("phases/train-at.done")));
        assertFalse(Files.exists(spark.resolve("phases/train-dd-snr.done")));
        assertFalse(Files.exists(spark.resolve("models/standard.checkpoint.safetensors")));
    }

    @Test
    void theUnitGraphCoversEveryPhaseAndTrainingAndNamesOnlyEarlierUnitsAsInputs() {
        Reproduction r = new Reproduction(Profile.SMOKE, tmp.resolve("g"), tmp, 0, SparkSupport.kernels(1), 1,
                new PrintStream(OutputStream.nullOutputStream()));
        Set<String> seen = new HashSet<>();
        int models = 0;
        for (Reproduction.Unit u : r.units()) {
            assertTrue(seen.containsAll(u.inputs()), u + " needs a unit that comes later");
            assertTrue(seen.add(u.name()), "twice: " + u.name());
            models += u.name().startsWith(Reproduction.MODEL_UNIT) ? 1 : 0;
        }
        assertTrue(seen.containsAll(Reproduction.PHASES));
        Profile p = Profile.SMOKE;
        assertEquals(p.lambdaGlobal().length + p.lambdaDdSnr().length + p.lambdaDdOnr().length
                + p.interpolation().length, models);
        // the lambda candidates of d.d. methods wait for eps_train, global SNR's only for the data
        for (Reproduction.Unit u : r.units()) {
            if (u.name().startsWith(Reproduction.MODEL_UNIT + "global-snr")) {
                assertEquals(List.of("data"), u.inputs());
            } else if (u.name().startsWith(Reproduction.MODEL_UNIT + "dd-")) {
                assertEquals(List.of("choose-eps"), u.inputs());
            }
        }
    }
}
