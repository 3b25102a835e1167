package dev.opnorm.spark;

import dev.opnorm.experiments.reproduce.Profile;
import dev.opnorm.nn.data.FashionMnist;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code opnorm reproduce --master M}: the reproduction ({@code opnorm reproduce}) with its units as Spark tasks
 * ({@link SparkReproduction}). The same options as without --master, and the same files.
 */
@Command(name = "reproduce",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Runs `opnorm reproduce` on a Spark cluster: one task per unit (each training of",
                "the standard, AT, every lambda candidate and interpolation network, the lambda",
                "choices, each figure, the report), independent units at the same time, each",
                "task with --threads cores (spark.task.cpus). Writes the same files as the run",
                "without --master into --out (a folder every executor sees, or any Hadoop URI).",
                "Run again to resume: finished units are skipped, trainings continue from their",
                "checkpoints; Spark retries a failed task (spark.task.maxFailures, default 4)."},
        footer = {"", "Examples:",
                "  ./opnorm reproduce --profile smoke --master 'local[2]' --threads 1 --out runs/smoke",
                "  ./opnorm reproduce --master spark://host:7077 --threads 4 --out hdfs://nn/opnorm/quick"})
public final class SparkReproduceCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--master", required = true, description = "Spark master: local[N], spark://HOST:7077, yarn, ...")
    String master;

    @Option(names = "--profile", defaultValue = "quick", description = "quick, paper or smoke. Default: ${DEFAULT-VALUE}.")
    String profile;

    @Option(names = "--data", description = "Data folder every executor reads (default /usr/share/datasets/fashion-mnist; "
            + "--profile paper: cifar-10-batches-bin, required).")
    String data;

    @Option(names = "--out", defaultValue = "runs/reproduce", description = "Output folder or URI. Default: ${DEFAULT-VALUE}.")
    String out;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one size of the profile (repeatable).")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--seed", defaultValue = "0", description = "Seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--threads", defaultValue = "0", description = "Worker threads of each task (spark.task.cpus); "
            + "0 = all cores of the driver's machine. Results do not depend on it. Default: all cores.")
    int threads;

    @Option(names = "--until", paramLabel = "UNIT", description = "Run only this unit and the units it needs (a "
            + "phase name, e.g. train-at, or model:ID); run again without it to continue.")
    String until;

    @Option(names = "--fail-once-after-first-checkpoint", paramLabel = "UNIT", hidden = true, description = "Test "
            + "hook: unit UNIT fails once after its training wrote its first checkpoint (Spark retries it).")
    String failOnce;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting (spark.*) or a Hadoop one "
            + "(fs.*, for the output's file system), repeatable.")
    Map<String, String> conf = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        Profile p = Profile.named(profile).with(overrides);
        String dir;
        if (p.dataset().equals("cifar10")) {
            if (data == null) {
                throw new IllegalArgumentException("--data is required with --profile " + p.name()
                        + ": the folder cifar-10-batches-bin of CIFAR-10's binary version");
            }
            dir = data;
        } else {
            dir = data != null ? data : FashionMnist.DEBIAN_DIR.toString();
        }
        int t = SparkSupport.threads(threads, "--threads");
        Map<String, String> hadoop = new LinkedHashMap<>(), sparkConf = new LinkedHashMap<>();
        conf.forEach((k, v) -> (k.startsWith("spark.") ? sparkConf : hadoop).put(k, v));
        SharedStore store = SharedStore.of(out, "--out", hadoop);
        SparkReproduction.Job job = new SparkReproduction.Job(profile, new LinkedHashMap<>(overrides), dir, seed, t);
        PrintWriter o = spec.commandLine().getOut();
        List<String> ran;
        try (JavaSparkContext sc = SparkSupport.context(master, "opnorm reproduce (" + p.name() + ")", t, sparkConf)) {
            ran = SparkReproduction.run(sc, job, store, System.err, until, failOnce);
        }
        o.println("reproduce (" + p.name() + ") on " + master + ": ran " + (ran.isEmpty()
                ? "no unit (all finished earlier)" : ran.size() + " units") + "; outputs in " + store.uri());
        o.flush();
        return 0;
    }
}
