package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.report.Figure;
import dev.opnorm.experiments.report.FigureFiles;
import dev.opnorm.experiments.report.MeanStderr;
import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.FiniteChecks;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.util.Progress;
import dev.opnorm.robust.attack.AdversarialLoss;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.attack.PgaBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code opnorm eval}: test accuracy against the attack radius eps under l_p PGA (Fig. 3 of the paper)
 * for one or more networks. An example counts at eps when the prediction at its attacked point is its
 * true label (untargeted PGA against the true label, BatchNorm EVAL); at eps = 0 it is the clean
 * accuracy. Each curve point is the mean over the test images with its standard error
 * sqrt(a (1 - a) / (n - 1)). One figure per norm: {@code accuracy_l<p>.csv} and {@code .png}, plus
 * run.json. Every network sees the same images and, for a given seed, the same random starts.
 */
@Command(name = "eval",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Accuracy against eps under l_p PGA (Fig. 3 of the paper), one or more networks.",
                "Writes accuracy_l<p>.csv (eps, accuracy, standard error per network) and",
                "accuracy_l<p>.png for every --p, and run.json, into --out."},
        footer = {"", "Examples:",
                "  ./opnorm eval --eps-max 3 --eps-steps 7 --train-eps 1.75 \\",
                "      --checkpoint std=runs/std/model.safetensors \\",
                "      --checkpoint at=runs/at/model.safetensors    two curves, eps_train marked",
                "  ./opnorm eval --p 2 --p inf --eps-list 0,0.5,1,2 --eps-list 0,0.02,0.05,0.1 \\",
                "      --checkpoint runs/at/model.safetensors       an l2 and an l_inf figure",
                "  ./opnorm eval --eps-list 0,0.25,0.5              a random network"})
public final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EngineOptions engine;

    /** The chosen backend, set when the evaluation starts. */
    private ComputeBackend compute;

    @Option(names = "--checkpoint", paramLabel = "[LABEL=]PATH", description = "A network's weights (safetensors), "
            + "repeatable; LABEL names its curve (default: the file name without .safetensors). Without any, the "
            + "randomly initialized network (from --seed) is evaluated.")
    List<String> checkpoints = new ArrayList<>();

    @Option(names = "--model", defaultValue = "cnn7-w0.25", description = "Network of every checkpoint: cnn7, "
            + "cnn7-w<factor>, wrn-<depth>-<k>. Default: ${DEFAULT-VALUE}.")
    String modelSpec;

    @Option(names = "--p", paramLabel = "P", description = "Threat model norm, 1, 2 or inf; repeatable for one "
            + "figure per norm. Default: 2.")
    List<String> norms = new ArrayList<>();

    @Option(names = "--eps-list", paramLabel = "E1,E2,...", description = "Radii, comma separated (0 = clean "
            + "accuracy): one list for every --p, or one list per --p in the same order.")
    List<String> epsLists = new ArrayList<>();

    @Option(names = "--eps-max", paramLabel = "EPS", description = "Largest radius, instead of --eps-list: "
            + "--eps-steps radii evenly from 0 to it. One value for every --p, or one per --p.")
    List<Double> epsMax = new ArrayList<>();

    @Option(names = "--eps-steps", defaultValue = "9", description = "Number of radii with --eps-max, "
            + "0 and EPS included (>= 2). Default: ${DEFAULT-VALUE}.")
    int epsSteps;

    @Option(names = "--train-eps", description = "Mark the training eps with a vertical line (on the --train-p figure).")
    Double trainEps;

    @Option(names = "--train-p", defaultValue = "2", description = "The norm of --train-eps. Default: ${DEFAULT-VALUE}.")
    String trainP;

    @Option(names = "--iterations", defaultValue = "10", description = "PGA steps (step 2 eps / iterations, random "
            + "start, as in the paper). Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--restarts", defaultValue = "1", description = "Random starts per example, worst case kept. "
            + "Default: ${DEFAULT-VALUE}.")
    int restarts;

    @Option(names = "--loss", defaultValue = "ce", description = "Adversarial loss: ce, logit-l1, logit-l2, logit-linf. "
            + "Default: ${DEFAULT-VALUE}.")
    String loss;

    @Option(names = "--count", defaultValue = "200", description = "Number of test images. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--offset", defaultValue = "0", description = "Index of the first test image. Default: ${DEFAULT-VALUE}.")
    int offset;

    @Option(names = "--batch", defaultValue = "50", description = "Images attacked together. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--data", description = "Folder with the Fashion-MNIST files (default: /usr/share/datasets/fashion-mnist).")
    Path data;

    @Option(names = "--out", defaultValue = "runs/eval", description = "Output folder, owned by this run while it "
            + "runs (a lock file); one that already holds results is refused unless --force. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--force", description = "Write into an --out that already holds results, replacing them.")
    boolean force;

    /** A network to evaluate: its curve label and weights (null: random init). */
    record Entry(String label, Path checkpoint) {
    }

    @Override
    public Integer call() throws IOException {
        List<Double> ps = new ArrayList<>();
        for (String t : norms.isEmpty() ? List.of("2") : norms) {
            double pv = CliSupport.attackNorm(t, "--p");
            CliSupport.require(!ps.contains(pv), "--p " + t + " is given twice");
            ps.add(pv);
        }
        List<double[]> radii = radii(ps.size());
        List<Entry> entries = entries();
        CliSupport.require(iterations > 0, "--iterations must be positive, got " + iterations);
        CliSupport.require(restarts > 0, "--restarts must be positive, got " + restarts);
        CliSupport.require(batch > 0, "--batch must be positive, got " + batch);
        AdversarialLoss lossFn = CliSupport.loss(loss);
        double trainPv = CliSupport.attackNorm(trainP, "--train-p");
        if (trainEps != null) {
            CliSupport.require(trainEps >= 0 && Double.isFinite(trainEps), "--train-eps must be >= 0, got " + trainEps);
            CliSupport.require(ps.contains(trainPv), "--train-p " + trainP + " is not among the --p values "
                    + ps.stream().map(CliSupport::format).toList() + ": its marker would be on no figure");
        }

        try (RunFolder folder = CliSupport.claimOut(spec, out, "eval", force)) {
            return evaluate(ps, radii, entries, lossFn, trainPv);
        }
    }

    private Integer evaluate(List<Double> ps, List<double[]> radii, List<Entry> entries, AdversarialLoss lossFn,
            double trainPv) throws IOException {
        compute = engine.install();
        Kernels kernels = compute.kernels();
        FiniteChecks.setEnabled(true);
        PrintWriter outw = spec.commandLine().getOut();
        Path dataDir = CliSupport.dataDir(data);
        Dataset points = CliSupport.testPoints(data, offset, count);
        // load every network before the long loop, so a bad checkpoint fails at once
        List<Sequential> models = new ArrayList<>();
        for (Entry e : entries) {
            Sequential net = CliSupport.model(modelSpec, e.checkpoint(), engine.seed, kernels);
            CliSupport.requireFits(net, points.images().shape, Math.min(batch, count), 2, "--batch", modelSpec);
            CliSupport.requireFiniteNetwork(net, points, batch, offset, "network " + e.label()
                    + (e.checkpoint() != null ? ", weights " + e.checkpoint() : ""));
            models.add(net);
        }

        long attacked = 0;
        for (double[] r : radii) {
            for (double e : r) {
                attacked += e > 0 ? 1 : 0;
            }
        }
        long t0 = System.nanoTime();
        Progress progress = Progress.start("eval", Math.max(1, (attacked + 1) * entries.size() * count), "img", System.err);
        int[] clean = new int[entries.size()];                    // per model: correct clean predictions
        int[][][] correct = new int[ps.size()][entries.size()][]; // per norm, model: correct examples per radius
        for (int m = 0; m < entries.size(); m++) {
            clean[m] = cleanCorrect(models.get(m), points);
            progress.advance(count);
        }
        for (int k = 0; k < ps.size(); k++) {
            double[] eps = radii.get(k);
            for (int m = 0; m < entries.size(); m++) {
                correct[k][m] = new int[eps.length];
                for (int j = 0; j < eps.length; j++) {
                    if (eps[j] == 0) {
                        correct[k][m][j] = clean[m];
                        continue;
                    }
                    progress.field("net", entries.get(m).label())
                            .field("eps", "l_" + CliSupport.format(ps.get(k)) + " " + eps[j]);
                    Pga attack = Pga.lp(ps.get(k), eps[j]).iterations(iterations).restarts(restarts)
                            .seed(engine.seed).loss(lossFn).domain(points.domain());
                    correct[k][m][j] = robustCorrect(models.get(m), points, attack, progress);
                }
            }
        }
        progress.finish();
        double seconds = (System.nanoTime() - t0) / 1e9;

        RunManifest manifest = new RunManifest("eval")
                .put("seed", engine.seed).put("backend", kernels.name()).put("threads", engine.effectiveThreads())
                .put("bn_mode", "EVAL")
                .put("attack", "PGA, untargeted against the true label, " + iterations + " iterations, step 2 eps / "
                        + "iterations, uniform random start, " + restarts + " restart(s), loss " + lossFn)
                .option("model", modelSpec).option("p", ps.stream().map(CliSupport::format).toList());
        for (int k = 0; k < ps.size(); k++) {
            manifest.option("eps_l" + CliSupport.format(ps.get(k)), java.util.Arrays.toString(radii.get(k)));
        }
        for (Entry e : entries) {
            manifest.option("checkpoint " + e.label(), e.checkpoint() == null ? "random init, seed " + engine.seed
                    : e.checkpoint());
        }
        manifest.option("train_eps", trainEps).option("train_p", CliSupport.format(trainPv))
                .option("iterations", iterations).option("restarts", restarts).option("loss", loss)
                .option("count", count).option("offset", offset).option("batch", batch).option("data", dataDir);

        List<String> names = new ArrayList<>();
        for (int k = 0; k < ps.size(); k++) {
            String pn = CliSupport.format(ps.get(k));
            Figure f = new Figure("Accuracy under l_" + pn + " PGA", "eps", "eps (l_" + pn + " radius, inputs in [-1, 1])",
                    "accuracy", "test accuracy").yRange(0, 1)
                    .caption("Untargeted l_" + pn + " PGA against the true label: " + iterations + " iterations, step "
                            + "2 eps / iterations, random start, best of " + restarts + "; " + count
                            + " Fashion-MNIST test images; mean and standard error over the images.");
            if (trainEps != null && ps.get(k) == trainPv) {
                f.marker(trainEps, "training eps");
            }
            for (int m = 0; m < entries.size(); m++) {
                Figure.Series s = f.series(entries.get(m).label());
                for (int j = 0; j < radii.get(k).length; j++) {
                    s.add(radii.get(k)[j], MeanStderr.proportion(correct[k][m][j], count));
                }
            }
            String name = "accuracy_l" + pn;
            FigureFiles files = f.write(out, name);
            names.add(files.csv().getFileName().toString());
            names.add(files.png().getFileName().toString());
        }
        for (Entry e : entries) {
            if (e.checkpoint() != null) {
                manifest.input(e.checkpoint());
            }
        }
        manifest.input(dataDir);
        for (String n : names) {
            manifest.output(out, n);
        }
        manifest.put("seconds", String.format(Locale.ROOT, "%.2f", seconds));
        manifest.write(out);

        outw.printf(Locale.ROOT, "Accuracy under PGA (%d iterations, %d restart(s), loss %s), %d Fashion-MNIST test "
                + "images, model %s, %s backend%n", iterations, restarts, lossFn, count, modelSpec, kernels.name());
        for (int k = 0; k < ps.size(); k++) {
            outw.printf(Locale.ROOT, "  l_%s:%n    %-12s", CliSupport.format(ps.get(k)), "eps");
            for (double e : radii.get(k)) {
                outw.printf(Locale.ROOT, " %8s", CliSupport.format(e));
            }
            outw.println();
            for (int m = 0; m < entries.size(); m++) {
                outw.printf(Locale.ROOT, "    %-12s", entries.get(m).label());
                for (int j = 0; j < radii.get(k).length; j++) {
                    outw.printf(Locale.ROOT, " %8.4f", correct[k][m][j] / (double) count);
                }
                outw.println();
            }
        }
        outw.printf(Locale.ROOT, "  %.2f s; figures and data: %s%n", seconds,
                String.join(", ", names.stream().map(n -> out.resolve(n).toString()).toList()));
        outw.flush();
        return 0;
    }

    /** The radii of each norm, from --eps-list or --eps-max/--eps-steps. */
    private List<double[]> radii(int normCount) {
        CliSupport.require(epsLists.isEmpty() != epsMax.isEmpty(),
                "give the radii with either --eps-list or --eps-max (with --eps-steps), not " + (epsLists.isEmpty()
                        ? "neither" : "both"));
        List<double[]> out = new ArrayList<>();
        if (!epsLists.isEmpty()) {
            CliSupport.require(epsLists.size() == 1 || epsLists.size() == normCount, "--eps-list is given "
                    + epsLists.size() + " times for " + normCount + " --p value(s): give it once, or once per --p");
            for (int k = 0; k < normCount; k++) {
                out.add(parseList(epsLists.get(epsLists.size() == 1 ? 0 : k)));
            }
        } else {
            CliSupport.require(epsMax.size() == 1 || epsMax.size() == normCount, "--eps-max is given "
                    + epsMax.size() + " times for " + normCount + " --p value(s): give it once, or once per --p");
            CliSupport.require(epsSteps >= 2, "--eps-steps must be >= 2 (0 and --eps-max), got " + epsSteps);
            for (int k = 0; k < normCount; k++) {
                double max = CliSupport.eps(epsMax.get(epsMax.size() == 1 ? 0 : k), "--eps-max");
                double[] r = new double[epsSteps];
                for (int j = 0; j < epsSteps; j++) {
                    r[j] = max * j / (epsSteps - 1);
                }
                out.add(r);
            }
        }
        return out;
    }

    private static double[] parseList(String text) {
        String[] parts = text.split(",");
        double[] r = new double[parts.length];
        for (int j = 0; j < parts.length; j++) {
            try {
                r[j] = Double.parseDouble(parts[j].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--eps-list: '" + parts[j].trim() + "' in '" + text
                        + "' is not a number");
            }
            CliSupport.require(r[j] >= 0 && Double.isFinite(r[j]), "--eps-list: radius " + parts[j].trim()
                    + " must be >= 0 and finite");
            CliSupport.require(j == 0 || r[j] > r[j - 1], "--eps-list: radii must increase, got '" + text + "'");
        }
        return r;
    }

    /** --checkpoint values as labelled entries (labels unique); the random network when there are none. */
    private List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        if (checkpoints.isEmpty()) {
            out.add(new Entry("random-init", null));
            return out;
        }
        Set<String> labels = new HashSet<>();
        for (String c : checkpoints) {
            int eq = c.indexOf('=');
            String label;
            Path path;
            if (eq > 0 && !Files.exists(Path.of(c))) {
                label = c.substring(0, eq).trim();
                path = Path.of(c.substring(eq + 1));
            } else {
                path = Path.of(c);
                String file = path.getFileName().toString();
                label = file.endsWith(".safetensors") ? file.substring(0, file.length() - ".safetensors".length()) : file;
            }
            CliSupport.require(!label.isBlank(), "--checkpoint " + c + ": empty label");
            CliSupport.require(labels.add(label), "--checkpoint: two networks are labelled '" + label
                    + "'; name them with --checkpoint LABEL=PATH");
            CliSupport.require(Files.isRegularFile(path), "--checkpoint " + c + ": file " + path + " not found");
            out.add(new Entry(label, path));
        }
        return out;
    }

    /** Number of examples whose clean prediction (BatchNorm EVAL) is the true label. */
    private int cleanCorrect(Sequential model, Dataset points) {
        int correct = 0;
        for (int from = 0; from < points.size(); from += batch) {
            int b = Math.min(batch, points.size() - from);
            Tensor logits = model.forward(points.images().slice(from, b));
            int classes = logits.data.length / b;
            for (int i = 0; i < b; i++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (logits.data[i * classes + c] > logits.data[i * classes + best]) {
                        best = c;
                    }
                }
                correct += best == points.labels()[from + i] ? 1 : 0;
            }
        }
        return correct;
    }

    /**
     * Number of examples still classified correctly after the attack (the count
     * {@link dev.opnorm.robust.attack.RobustAccuracy} makes, batch by batch here for the progress display).
     * Example i's random start is drawn from the stream of test index offset + i.
     */
    private int robustCorrect(Sequential model, Dataset points, Pga attack, Progress progress) {
        // the chosen backend's PGA (on OpenCL the whole attack on the device, only the per-example outcome
        // comes back)
        PgaBackend backend = compute.pga();
        int correct = 0;
        for (int from = 0; from < points.size(); from += batch) {
            int b = Math.min(batch, points.size() - from);
            Dataset part = points.slice(from, b);
            int[] pred = attack.outcome(backend, model, part.images(), part.labels(), Pga.Target.LABELS, offset + from)
                    .predictions();
            for (int i = 0; i < b; i++) {
                correct += pred[i] == part.labels()[i] ? 1 : 0;
            }
            progress.advance(b);
        }
        compute.release(model);
        return correct;
    }
}
