package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.report.MeanStderr;
import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.experiments.run.RunManifest;
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
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code opnorm attack}: l_p projected gradient ascent (PGA, {@link Pga}) on Fashion-MNIST test images
 * against a network (random or from a checkpoint), BatchNorm in EVAL mode. Writes one row per example
 * (label, clean and adversarial prediction, success, loss, ||x* - x||_p) and run.json, and prints clean
 * and robust accuracy. Example i of the test set always gets the same random start for a given seed,
 * whatever --offset, --batch or --threads. With {@code --backend opencl} the same {@link Pga} runs on
 * the device ({@code PgaBackend.placed} on the OpenCL model: per batch the images, labels and start offsets go up, 8 floats per
 * example come back); losses and norms are then computed in float on the device, so they agree with the CPU
 * run to float rounding, not digit for digit.
 */
@Command(name = "attack",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Attack a network with l_p projected gradient ascent (PGA) at Fashion-MNIST",
                "test images. Untargeted by default (ascend the loss of the true label);",
                "--targeted C descends the loss of class C. Robust accuracy counts examples",
                "whose adversarial prediction is still the true label. Writes attack.csv",
                "(one row per example) and run.json into --out and prints a summary."},
        footer = {"", "Examples:",
                "  ./opnorm attack --eps 1.75                       l2, 10 iterations",
                "  ./opnorm attack --p inf --eps 0.03 --restarts 3  l_inf, best of 3 starts",
                "  ./opnorm attack --eps 1 --loss logit-l2          Theorem 1's logit loss",
                "  ./opnorm attack --eps 2 --checkpoint runs/train/model.safetensors"})
public final class AttackCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EngineOptions engine;

    @Option(names = "--p", defaultValue = "2", description = "Threat model norm: 1, 2 or inf. Default: ${DEFAULT-VALUE}.")
    String p;

    @Option(names = "--eps", required = true, description = "Radius of the l_p ball (inputs are in [-1, 1]).")
    double eps;

    @Option(names = "--iterations", defaultValue = "10", description = "PGA steps. Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--alpha", description = "Step size: a number > 0, or inf (x + eps N_p(g) each step). "
            + "Default: 2 eps / iterations.")
    String alpha;

    @Option(names = "--restarts", defaultValue = "1", description = "Runs from different random starts; each "
            + "example keeps its worst case. Default: ${DEFAULT-VALUE}.")
    int restarts;

    @Option(names = "--start", defaultValue = "random",
            description = "Start point: random (uniform in the ball) or clean (x itself). Default: ${DEFAULT-VALUE}.")
    String start;

    @Option(names = "--loss", defaultValue = "ce", description = "Adversarial loss: ce (cross-entropy), logit-l1, "
            + "logit-l2, logit-linf (||f(x*) - f(x)||_q). Default: ${DEFAULT-VALUE}.")
    String loss;

    @Option(names = "--labels", defaultValue = "true", description = "Untargeted reference label: true (the data "
            + "set's labels) or predicted (the clean prediction, so labels do not leak). Default: ${DEFAULT-VALUE}.")
    String labels;

    @Option(names = "--targeted", paramLabel = "CLASS", description = "Targeted attack towards class CLASS (0-9) "
            + "with the cross-entropy loss; success = predicted CLASS.")
    Integer targeted;

    @Option(names = "--model", defaultValue = "cnn7-w0.25", description = "Network: cnn7, cnn7-w<factor>, "
            + "wrn-<depth>-<k>. Default: ${DEFAULT-VALUE}.")
    String modelSpec;

    @Option(names = "--checkpoint", description = "Load the network's weights (safetensors checkpoint); without it "
            + "the network is randomly initialized from --seed.")
    Path checkpoint;

    @Option(names = "--count", defaultValue = "100", description = "Number of test images. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--offset", defaultValue = "0", description = "Index of the first test image. Default: ${DEFAULT-VALUE}.")
    int offset;

    @Option(names = "--batch", defaultValue = "50", description = "Images attacked together. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--data", description = "Folder with the Fashion-MNIST files (default: /usr/share/datasets/fashion-mnist).")
    Path data;

    @Option(names = "--out", defaultValue = "runs/attack", description = "Output folder, owned by this run while it "
            + "runs (a lock file); one that already holds results is refused unless --force. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--force", description = "Write into an --out that already holds results, replacing them.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        double pv = CliSupport.attackNorm(p, "--p");
        CliSupport.eps(eps, "--eps");
        CliSupport.require(iterations > 0, "--iterations must be positive, got " + iterations);
        CliSupport.require(restarts > 0, "--restarts must be positive, got " + restarts);
        CliSupport.require(batch > 0, "--batch must be positive, got " + batch);
        CliSupport.require(start.equals("random") || start.equals("clean"),
                "--start must be random or clean, got '" + start + "'");
        CliSupport.require(labels.equals("true") || labels.equals("predicted"),
                "--labels must be true or predicted, got '" + labels + "'");
        double a = CliSupport.alpha(alpha);
        AdversarialLoss lossFn = CliSupport.loss(loss);
        if (targeted != null) {
            CliSupport.require(targeted >= 0 && targeted < 10, "--targeted must be a class in 0..9, got " + targeted);
            CliSupport.require(!lossFn.isLogitLoss(), "--targeted needs --loss ce: the " + lossFn + " has no target class");
        }
        CliSupport.require(!(lossFn.isLogitLoss() && start.equals("clean")), "--loss " + loss
                + " with --start clean does not move: the logit loss has zero gradient at x* = x");

        try (RunFolder folder = CliSupport.claimOut(spec, out, "attack", force)) {
            return attack(pv, a, lossFn);
        }
    }

    private Integer attack(double pv, double a, AdversarialLoss lossFn) throws IOException {
        ComputeBackend compute = engine.install();
        Kernels kernels = compute.kernels();
        FiniteChecks.setEnabled(true);
        PrintWriter outw = spec.commandLine().getOut();
        Path dataDir = CliSupport.dataDir(data);
        Dataset points = CliSupport.testPoints(data, offset, count);
        Sequential model = CliSupport.model(modelSpec, checkpoint, engine.seed, kernels);
        String modelText = modelSpec + (checkpoint != null ? " (weights " + checkpoint + ")"
                : " (random init, seed " + engine.seed + ")");

        // PGA keeps each activation and its gradient
        CliSupport.requireFits(model, points.images().shape, Math.min(batch, count), 2, "--batch", modelSpec);
        CliSupport.requireFiniteNetwork(model, points, batch, offset, modelText);
        Pga attack = Pga.lp(pv, eps).iterations(iterations).restarts(restarts).seed(engine.seed)
                .randomStart(start.equals("random")).loss(lossFn).domain(points.domain());
        if (!Double.isNaN(a)) {
            attack = attack.alpha(a);
        }

        int[] label = points.labels(), reference = new int[count], cleanPred = new int[count], advPred = new int[count];
        int[] restart = new int[count];
        boolean[] success = new boolean[count];
        double[] lossAt = new double[count], norm = new double[count];
        long t0 = System.nanoTime();
        Progress progress = Progress.start("attack", count, "img", System.err);
        PgaBackend backend = compute.pga();
        for (int from = 0; from < count; from += batch) {
            int b = Math.min(batch, count - from);
            Dataset part = points.slice(from, b);
            int first = offset + from; // the example's index in the test set fixes its random start
            Pga.Outcome o;
            if (targeted != null) {
                int[] t = new int[b];
                Arrays.fill(t, targeted);
                o = attack.outcome(backend, model, part.images(), t, Pga.Target.TARGETS, first);
            } else if (labels.equals("predicted")) {
                o = attack.outcome(backend, model, part.images(), null, Pga.Target.PREDICTED, first);
            } else {
                o = attack.outcome(backend, model, part.images(), part.labels(), Pga.Target.LABELS, first);
            }
            for (int i = 0; i < b; i++) {
                reference[from + i] = o.labels()[i];
                cleanPred[from + i] = o.cleanPredictions()[i];
                advPred[from + i] = o.predictions()[i];
                success[from + i] = o.success()[i];
                lossAt[from + i] = o.loss()[i];
                norm[from + i] = o.perturbationNorm()[i];
                restart[from + i] = o.restart()[i];
            }
            progress.advance(b);
        }
        progress.finish();
        compute.release(model); // e.g. the network's device copy is not needed any more
        double seconds = (System.nanoTime() - t0) / 1e9;

        int clean = 0, robust = 0, successes = 0;
        for (int i = 0; i < count; i++) {
            clean += cleanPred[i] == label[i] ? 1 : 0;
            robust += advPred[i] == label[i] ? 1 : 0;
            successes += success[i] ? 1 : 0;
        }
        MeanStderr cleanAcc = MeanStderr.proportion(clean, count), robustAcc = MeanStderr.proportion(robust, count);
        MeanStderr meanNorm = MeanStderr.of(norm), meanLoss = MeanStderr.of(lossAt);

        RunManifest manifest = new RunManifest("attack")
                .put("seed", engine.seed).put("backend", kernels.name()).put("threads", engine.effectiveThreads())
                .put("bn_mode", "EVAL").put("model", modelText).put("attack", attack.describe())
                .option("p", CliSupport.format(pv)).option("eps", eps).option("iterations", iterations)
                .option("alpha", alpha == null ? "default (2 eps / iterations = " + attack.alpha() + ")" : alpha)
                .option("restarts", restarts).option("start", start).option("loss", loss).option("labels", labels)
                .option("targeted", targeted).option("model", modelSpec).option("checkpoint", checkpoint)
                .option("count", count).option("offset", offset).option("batch", batch).option("data", dataDir);
        StringBuilder csv = new StringBuilder(); // provenance is in run.json; the CSV starts with its header row
        csv.append("index,label,reference,clean_prediction,adversarial_prediction,success,loss,perturbation_norm,restart\n");
        for (int i = 0; i < count; i++) {
            csv.append(offset + i).append(',').append(label[i]).append(',').append(reference[i]).append(',')
                    .append(cleanPred[i]).append(',').append(advPred[i]).append(',').append(success[i]).append(',')
                    .append(lossAt[i]).append(',').append(norm[i]).append(',').append(restart[i]).append('\n');
        }
        RunManifest.AtomicFiles.writeString(out.resolve("attack.csv"), csv.toString());
        if (checkpoint != null) {
            manifest.input(checkpoint);
        }
        manifest.input(dataDir).output(out, "attack.csv")
                .put("clean_accuracy", cleanAcc.mean()).put("robust_accuracy", robustAcc.mean())
                .put("success_rate", successes / (double) count)
                .put("seconds", String.format(Locale.ROOT, "%.2f", seconds));
        manifest.write(out);

        outw.printf(Locale.ROOT, "%s against %s, %d Fashion-MNIST test images (from %d), %s backend%n",
                attack.describe(), modelText, count, offset, kernels.name());
        outw.printf(Locale.ROOT, "  clean accuracy  %.4f +- %.4f (%d/%d)%n", cleanAcc.mean(), se(cleanAcc), clean, count);
        outw.printf(Locale.ROOT, "  robust accuracy %.4f +- %.4f (%d/%d)%n", robustAcc.mean(), se(robustAcc), robust, count);
        outw.printf(Locale.ROOT, "  attack success  %d/%d (%s), mean loss %.4g, mean ||x* - x||_%s %.4g (max %.4g)%n",
                successes, count, targeted != null ? "predicted class " + targeted
                        : labels.equals("predicted") ? "prediction changed" : "prediction != label",
                meanLoss.mean(), CliSupport.format(pv), meanNorm.mean(), Arrays.stream(norm).max().orElse(0));
        outw.printf(Locale.ROOT, "  %.2f s, %.1f images/s%n", seconds, count / seconds);
        outw.println("  per-example results: " + out.resolve("attack.csv") + ", run manifest: " + out.resolve("run.json"));
        outw.flush();
        return 0;
    }

    /** Standard error for printing: 0 when undefined (one example). */
    private static double se(MeanStderr m) {
        return Double.isNaN(m.stderr()) ? 0 : m.stderr();
    }
}
