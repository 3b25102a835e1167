package dev.opnorm.spark;

import dev.opnorm.experiments.cli.OpnormCli;
import dev.opnorm.experiments.cli.TrainCommand;
import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.experiments.run.RunManifest;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One run of a sweep, in the run's own folder: {@code opnorm train} (the same command, options and files as on the
 * command line, resumable) then {@code opnorm eval} on its weights (eval/accuracy_l2.csv), then final.csv, the
 * run's row of the sweep's table. On a non-local store training goes one epoch per
 * {@code train --stop-after-epoch E --resume}, so that the folder (with the checkpoint) is pushed after every
 * epoch; training resumed from a checkpoint is bit-identical to an uninterrupted one, so the chunks change no
 * number.
 */
public final class SweepRun {
    /** The run's row: header + one line, written last (its presence marks the run done). */
    public static final String FINAL_FILE = "final.csv";
    static final String EVAL_DIR = "eval";
    /** Where the one-time fault of {@link SweepGrid.Settings}-independent test runs is recorded. */
    static final String FAULT_DIR = ".injected-faults";

    private SweepRun() {
    }

    /**
     * Runs (or resumes, or just reads) {@code run} under {@code store}/runs/NAME and returns its row.
     *
     * @param failOnce test hook: throw once per run after its first epoch's checkpoint is stored (recorded under
     *                 the store's {@value #FAULT_DIR}, so a retry in any JVM continues)
     */
    public static Map<String, String> execute(SweepGrid.Run run, SweepGrid.Settings s, SharedStore store,
            boolean failOnce) throws IOException {
        String rel = "runs/" + run.name();
        if (store.exists(rel + "/" + FINAL_FILE)) {
            return parseRow(store.readString(rel + "/" + FINAL_FILE), rel + "/" + FINAL_FILE);
        }
        Path scratch = Files.createTempDirectory("opnorm-sweep");
        try (SharedStore.Workspace ws = store.workspace(rel, scratch)) {
            Path dir = ws.dir();
            // epoch by epoch where the folder is a copy that must reach the store (or a fault is to be injected);
            // in the shared folder itself, in one go (its checkpoints are on the store as they are written)
            boolean chunks = ws.staged() || failOnce;
            for (long e = epochsDone(dir) + 1; e <= run.epochs(); e = chunks ? e + 1 : run.epochs() + 1) {
                cli(dir, trainArgs(run, s, dir, chunks ? e : run.epochs()));
                ws.push();
                if (failOnce && e == 1 && !store.exists(FAULT_DIR + "/" + run.name())) {
                    store.writeString(FAULT_DIR + "/" + run.name(), "failed once after epoch 1\n");
                    throw new IllegalStateException("injected fault: " + run.name() + " fails once after its first "
                            + "checkpoint");
                }
            }
            if (!Files.isRegularFile(dir.resolve(EVAL_DIR).resolve("accuracy_l2.csv"))) {
                cli(dir, evalArgs(run, s, dir));
            }
            Map<String, String> row = row(run, dir);
            StringBuilder b = new StringBuilder(String.join(",", row.keySet())).append('\n')
                    .append(String.join(",", row.values())).append('\n');
            RunManifest.AtomicFiles.writeString(dir.resolve(FINAL_FILE), b.toString());
            ws.push();
            return row;
        } finally {
            SharedStore.deleteQuietly(scratch);
        }
    }

    /** train's arguments for epochs up to {@code upTo} (the schedule spans all of them). */
    static List<String> trainArgs(SweepGrid.Run run, SweepGrid.Settings s, Path dir, long upTo) {
        List<String> a = new ArrayList<>(List.of("train", "--method", run.method()));
        if (run.lambda() != null) {
            a.addAll(List.of("--lambda", Double.toString(run.lambda())));
        }
        if (run.eps() != null) {
            a.addAll(List.of("--eps", Double.toString(run.eps())));
        }
        a.addAll(List.of("--seed", Long.toString(run.seed()), "--threads", Integer.toString(s.threads()),
                "--model", run.model(), "--epochs", Integer.toString(run.epochs()),
                "--stop-after-epoch", Long.toString(upTo), "--train-subset", Integer.toString(s.trainSubset()),
                "--test-subset", Integer.toString(s.testSubset()), "--batch", Integer.toString(s.batch()),
                "--checkpoint-every", Integer.toString(s.checkpointEvery()), "--resume", "--out", dir.toString()));
        data(a, s);
        return a;
    }

    static List<String> evalArgs(SweepGrid.Run run, SweepGrid.Settings s, Path dir) {
        StringBuilder eps = new StringBuilder();
        for (double e : s.evalEps()) {
            eps.append(eps.length() == 0 ? "" : ",").append(e);
        }
        List<String> a = new ArrayList<>(List.of("eval", "--checkpoint",
                "model=" + dir.resolve(TrainCommand.MODEL_FILE), "--model", run.model(), "--eps-list", eps.toString(),
                "--count", Integer.toString(s.evalCount()), "--iterations", Integer.toString(s.evalIterations()),
                "--seed", Long.toString(run.seed()), "--threads", Integer.toString(s.threads()),
                "--out", dir.resolve(EVAL_DIR).toString(), "--force"));
        data(a, s);
        return a;
    }

    private static void data(List<String> a, SweepGrid.Settings s) {
        if (s.data() != null) {
            a.addAll(List.of("--data", s.data()));
        }
    }

    /** Runs one opnorm command in-process; its output is appended to the run's log.txt. */
    private static void cli(Path dir, List<String> args) throws IOException {
        StringWriter text = new StringWriter();
        PrintWriter w = new PrintWriter(text, true);
        CommandLine cl = OpnormCli.commandLine();
        cl.setOut(w);
        cl.setErr(w);
        int code = cl.execute(args.toArray(String[]::new));
        w.flush();
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("log.txt"), "$ opnorm " + String.join(" ", args) + "\n" + text,
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (code != 0) {
            throw new IOException("opnorm " + args.get(0) + " exited with " + code + " in " + dir + ":\n" + text);
        }
    }

    /** Epochs finished in the folder (its run.json), 0 for a fresh folder. */
    static long epochsDone(Path dir) {
        Optional<Map<String, Object>> j = RunFolder.readRunJson(dir);
        Object v = j.map(m -> m.get("epochs_done")).orElse(null);
        return v == null ? 0 : Long.parseLong(String.valueOf(v));
    }

    /** The final metrics: the axes, training's last metrics row, the evaluation curve, the weights' SHA-256. */
    static Map<String, String> row(SweepGrid.Run run, Path dir) throws IOException {
        Map<String, String> r = new LinkedHashMap<>();
        r.put("run", run.name());
        r.put("method", run.method());
        r.put("lambda", run.lambda() == null ? "" : Double.toString(run.lambda()));
        r.put("eps", run.eps() == null ? "" : Double.toString(run.eps()));
        r.put("seed", Long.toString(run.seed()));
        r.put("width", Double.toString(run.width()));
        r.put("epochs", Integer.toString(run.epochs()));
        String[] cols = TrainCommand.METRICS_COLUMNS.split(","), last = null;
        for (String line : Files.readAllLines(dir.resolve(TrainCommand.METRICS_FILE))) {
            if (!line.isBlank() && !line.startsWith("#") && !line.startsWith("epoch,")) {
                last = line.split(",");
            }
        }
        if (last == null || last.length != cols.length) {
            throw new IOException(dir.resolve(TrainCommand.METRICS_FILE) + ": no final row of " + cols.length
                    + " columns");
        }
        for (String c : List.of("steps", "loss", "train_acc", "test_acc")) {
            r.put(c, last[List.of(cols).indexOf(c)]);
        }
        Path curve = dir.resolve(EVAL_DIR).resolve("accuracy_l2.csv");
        boolean header = false;
        for (String line : Files.readAllLines(curve)) {
            if (line.startsWith("series,")) {
                header = true;
            } else if (header && !line.isBlank()) {
                String[] f = line.split(",");
                r.put("accuracy_l2_eps" + SweepGrid.fmt(Double.parseDouble(f[1])), f[2]);
            }
        }
        if (!header) {
            throw new IOException(curve + ": no data rows");
        }
        r.put("model_sha256", RunManifest.sha256(dir.resolve(TrainCommand.MODEL_FILE)));
        return r;
    }

    static Map<String, String> parseRow(String csv, String source) throws IOException {
        String[] lines = csv.split("\n");
        if (lines.length < 2) {
            throw new IOException(source + ": expected a header and one row");
        }
        String[] k = lines[0].split(",", -1), v = lines[1].split(",", -1);
        if (k.length != v.length) {
            throw new IOException(source + ": " + k.length + " columns in the header, " + v.length + " in the row");
        }
        Map<String, String> r = new LinkedHashMap<>();
        for (int i = 0; i < k.length; i++) {
            r.put(k[i], v[i]);
        }
        return r;
    }
}
