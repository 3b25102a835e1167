package dev.opnorm.spark;

import dev.opnorm.experiments.run.RunManifest;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code opnorm sweep}: a grid of training + evaluation runs ({@link SweepGrid}, {@link SweepRun}), one Spark task
 * per run with {@code --master}, else one after the other in this process. Writes runs/NAME/ per run, sweep.csv
 * (one row of final metrics per run, in grid order) and run.json (the options and every run's folder).
 */
@Command(name = "sweep",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Trains and evaluates a grid of runs (method x lambda x eps x seed x width x",
                "epochs): one Spark task per run with --master, else one after the other here.",
                "Each run is `opnorm train` + `opnorm eval` in OUT/runs/<name>/ (model,",
                "checkpoint, metrics, run.json, eval/); OUT/sweep.csv holds one row of final",
                "metrics per run and OUT/run.json names every run. Run again to resume: finished",
                "runs are read back, unfinished ones continue from their checkpoint.",
                "Results do not depend on where or in which order runs ran."},
        footer = {"", "Examples:",
                "  ./opnorm sweep grid.json --out runs/sweep",
                "  ./opnorm sweep --method standard,at --eps 0.5,1 --seed 0,1 --width 0.125 \\",
                "      --epochs 2 --master 'local[2]' --threads 1 --out runs/sweep",
                "  ./opnorm sweep grid.json --master spark://host:7077 --out hdfs://nn/opnorm/sweep"})
public final class SweepCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "GRID.json", description = "The grid (axes and settings, see "
            + "spark/README.md); options below replace what it sets.")
    Path grid;

    @Option(names = "--method", split = ",", description = "Methods (train --method).")
    List<String> method;

    @Option(names = "--lambda", split = ",", description = "Regularization strengths (methods that use one).")
    List<Double> lambda;

    @Option(names = "--eps", split = ",", description = "Radii / finite-difference steps (methods that use one).")
    List<Double> eps;

    @Option(names = "--seed", split = ",", description = "Seeds. Default: 0.")
    List<Long> seed;

    @Option(names = "--width", split = ",", description = "CNN width factors (cnn7-w<width>). Default: 0.25.")
    List<Double> width;

    @Option(names = "--epochs", split = ",", description = "Epochs. Default: 1.")
    List<Long> epochs;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "A shared setting (repeatable): train_subset, "
            + "test_subset, batch, checkpoint_every, eval_count, eval_iterations, eval_eps (comma separated).")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--data", description = "Fashion-MNIST folder every executor reads (default "
            + "/usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--threads", defaultValue = "1", description = "Worker threads per run (spark.task.cpus); 0 = all "
            + "cores. Results do not depend on it. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--out", defaultValue = "runs/sweep", description = "Output folder or URI (file://, hdfs://, any "
            + "Hadoop file system on the class path). Default: ${DEFAULT-VALUE}.")
    String out;

    @Option(names = "--master", description = "Spark master (local[N], spark://HOST:7077, yarn, ...). Without it the "
            + "runs go one after the other in this process.")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting (spark.*) or a Hadoop one "
            + "(fs.*, passed to the output's file system), repeatable.")
    Map<String, String> conf = new LinkedHashMap<>();

    @Option(names = "--fail-once-after-first-checkpoint", hidden = true, description = "Test hook: each run fails "
            + "once after its first epoch is stored (Spark retries it).")
    boolean failOnce;

    @Override
    public Integer call() throws IOException {
        SweepGrid g = grid == null ? SweepGrid.empty()
                : SweepGrid.parse(readGrid(grid), "GRID.json " + grid);
        put(g, "method", method);
        put(g, "lambda", lambda);
        put(g, "eps", eps);
        put(g, "seed", seed);
        put(g, "width", width);
        put(g, "epochs", epochs);
        set.forEach((k, v) -> {
            if (!SweepGrid.SETTINGS.containsKey(k)) {
                throw new IllegalArgumentException("--set " + k + ": unknown setting (one of "
                        + SweepGrid.SETTINGS.keySet() + ")");
            }
            g.setting(k, k.equals("eval_eps") ? List.of(v.split(",")) : v);
        });
        int t = SparkSupport.threads(threads, "--threads");
        SweepGrid.Settings settings = g.settings(data, t, grid == null ? "--set" : "GRID.json " + grid + " / --set");
        List<SweepGrid.Run> runs = g.runs(grid == null ? "--method" : "GRID.json " + grid);
        Map<String, String> hadoop = new LinkedHashMap<>(), sparkConf = new LinkedHashMap<>();
        conf.forEach((k, v) -> (k.startsWith("spark.") ? sparkConf : hadoop).put(k, v));
        SharedStore store = SharedStore.of(out, "--out", hadoop);
        PrintWriter o = spec.commandLine().getOut();
        o.printf("sweep: %d runs into %s (%s)%n", runs.size(), store.uri(),
                master == null ? "in this process" : "Spark master " + master);
        o.flush();
        List<Map<String, String>> rows = run(runs, settings, store, master, sparkConf, failOnce);
        write(store, runs, rows, settings);
        o.printf("sweep: %d runs finished; %s/sweep.csv, %s/run.json%n", rows.size(), store.uri(), store.uri());
        o.flush();
        return 0;
    }

    private static String readGrid(Path f) throws IOException {
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException("GRID.json " + f + ": no such file");
        }
        return Files.readString(f);
    }

    private static void put(SweepGrid g, String axis, List<?> values) {
        if (values != null) {
            g.axis(axis, values, "--" + axis);
        }
    }

    /** Runs every run (one Spark task each with a master) and returns their rows in grid order. */
    static List<Map<String, String>> run(List<SweepGrid.Run> runs, SweepGrid.Settings settings, SharedStore store,
            String master, Map<String, String> sparkConf, boolean failOnce) throws IOException {
        if (master == null) {
            List<Map<String, String>> rows = new ArrayList<>();
            for (SweepGrid.Run r : runs) {
                rows.add(SweepRun.execute(r, settings, store, failOnce));
            }
            return rows;
        }
        try (JavaSparkContext sc = SparkSupport.context(master, "opnorm sweep", settings.threads(), sparkConf)) {
            List<Map<String, String>> rows = new ArrayList<>(sc.parallelize(runs, Math.max(1, runs.size()))
                    .map(r -> (Map<String, String>) new LinkedHashMap<>(SweepRun.execute(r, settings, store, failOnce)))
                    .collect());
            return rows;
        }
    }

    /** sweep.csv (the union of the runs' columns, header first) and run.json. */
    static void write(SharedStore store, List<SweepGrid.Run> runs, List<Map<String, String>> rows,
            SweepGrid.Settings s) throws IOException {
        Set<String> cols = new LinkedHashSet<>();
        rows.forEach(r -> cols.addAll(r.keySet()));
        StringBuilder csv = new StringBuilder(String.join(",", cols)).append('\n');
        for (Map<String, String> r : rows) {
            List<String> v = new ArrayList<>();
            cols.forEach(c -> v.add(r.getOrDefault(c, "")));
            csv.append(String.join(",", v)).append('\n');
        }
        store.writeString("sweep.csv", csv.toString());
        RunManifest m = new RunManifest("sweep").put("runs", runs.size()).put("out", store.uri())
                .put("status", "finished");
        m.option("train_subset", s.trainSubset()).option("test_subset", s.testSubset()).option("batch", s.batch())
                .option("checkpoint_every", s.checkpointEvery()).option("eval_count", s.evalCount())
                .option("eval_iterations", s.evalIterations())
                .option("eval_eps", java.util.Arrays.toString(s.evalEps())).option("threads", s.threads())
                .option("data", s.data() == null ? "default" : s.data());
        for (SweepGrid.Run r : runs) {
            m.option("run." + r.name(), "runs/" + r.name());
        }
        store.writeString("run.json", m.json());
    }
}
