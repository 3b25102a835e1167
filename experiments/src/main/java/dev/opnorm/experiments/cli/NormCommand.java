package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.FiniteChecks;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.models.WideResNet;
import dev.opnorm.nn.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code opnorm norm}: per-example (p,q) operator norms ||J_f(x)||_{p,q} of a network's Jacobian at
 * test points, by the batched (p,q) power iteration (one JVP and one VJP pass through the network per
 * iteration for a whole batch). The network is the paper's 7-layer CNN, randomly initialized from the
 * seed. BatchNorm is in EVAL mode, so each example's Jacobian is its own.
 */
@Command(name = "norm",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Per-example (p,q) operator norms of a network's Jacobian at Fashion-MNIST test images.",
                "The value is ||J v||_q for the maximizer v found by the (p,q) power iteration (Eq. 12 of the paper, or Eq. 11 with --alpha):",
                "exact for (2,2) at convergence, a lower bound in general. BatchNorm uses running statistics (EVAL).",
                "Writes norms.csv and run.json into --out and prints a summary."},
        footer = {"", "Examples:",
                "  ./opnorm norm                                  (2,2) norms at 64 test images, width 0.25",
                "  ./opnorm norm --calibrate-bn 512               an untrained network with data BN statistics",
                "  ./opnorm norm --p inf --q 2 --count 256        the (inf,2) norm, 256 images",
                "  ./opnorm norm --p 1 --q 2 --alpha 0.5          finite-step projected ascent (Eq. 11)",
                "  ./opnorm norm --target features --model cnn7   the Jacobian of the penultimate features, full width",
                "  ./opnorm norm --checkpoint runs/train-at/model.safetensors   a network from `opnorm train --method at`"})
public final class NormCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EngineOptions engine;

    @Option(names = "--p", defaultValue = "2", description = "Domain norm p: 1, 2, inf, or any value >= 1. Default: ${DEFAULT-VALUE}.")
    String p;

    @Option(names = "--q", defaultValue = "2", description = "Co-domain norm q: 1, 2, inf, or any value >= 1. Default: ${DEFAULT-VALUE}.")
    String q;

    @Option(names = "--count", defaultValue = "64", description = "Number of test images. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--offset", defaultValue = "0", description = "Index of the first test image. Default: ${DEFAULT-VALUE}.")
    int offset;

    @Option(names = "--batch", defaultValue = "32", description = "Images per power-iteration batch. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--model", defaultValue = "cnn7-w0.25",
            description = "Network: cnn7 (the paper's 7-layer CNN), cnn7-w<factor> (width factor, e.g. cnn7-w0.25), "
                    + "wrn-<depth>-<k>. Default: ${DEFAULT-VALUE}.")
    String modelSpec;

    @Option(names = "--checkpoint", description = "Load the network's weights (safetensors checkpoint, e.g. from "
            + "`opnorm train`); without it the network is randomly initialized from --seed.")
    Path checkpoint;

    @Option(names = "--target", defaultValue = "logits",
            description = "Which Jacobian: logits (input -> logits) or features (input -> penultimate features). Default: ${DEFAULT-VALUE}.")
    String target;

    @Option(names = "--iterations", defaultValue = "100", description = "Maximum power iterations per example. Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--tol", defaultValue = "1e-6", description = "Relative change that counts as converged. Default: ${DEFAULT-VALUE}.")
    double tol;

    @Option(names = "--alpha", defaultValue = "inf",
            description = "Step of the iteration: inf (v = N_p(J^T u), Eq. 12) or a number > 0 (projected gradient "
                    + "ascent v = Proj_{||.||_p = 1}(v + alpha J^T u), Eq. 11). On --backend opencl a finite alpha "
                    + "needs --p 1, 2 or inf. Default: ${DEFAULT-VALUE}.")
    String alpha;

    @Option(names = "--restarts", defaultValue = "1", description = "Runs from different random start vectors, best kept. Default: ${DEFAULT-VALUE}.")
    int restarts;

    @Option(names = "--calibrate-bn", defaultValue = "0", paramLabel = "N",
            description = "Before measuring, set the BatchNorm running statistics from the first N training images "
                    + "(40 TRAIN-mode passes). Meant for untrained networks, whose initial statistics (mean 0, "
                    + "variance 1) make them nearly constant. 0 = off. Default: ${DEFAULT-VALUE}.")
    int calibrateBn;

    @Option(names = "--data", description = "Folder with the Fashion-MNIST files (default: " + "/usr/share/datasets/fashion-mnist).")
    Path data;

    @Option(names = "--out", defaultValue = "runs/norm", description = "Output folder, owned by this run while it "
            + "runs (a lock file); one that already holds results is refused unless --force. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--force", description = "Write into an --out that already holds results, replacing them.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        double pv = parseNorm(p, "--p"), qv = parseNorm(q, "--q");
        require(batch > 0, "--batch must be positive, got " + batch);
        require(iterations > 0, "--iterations must be positive, got " + iterations);
        require(tol >= 0, "--tol must be >= 0, got " + tol);
        require(restarts > 0, "--restarts must be positive, got " + restarts);
        double alphaValue = CliSupport.alpha(alpha);
        require(!Double.isNaN(alphaValue), "--alpha must be a positive number or inf, got '" + alpha + "'");
        require(calibrateBn >= 0, "--calibrate-bn must be >= 0, got " + calibrateBn);
        require(target.equals("logits") || target.equals("features"),
                "--target must be logits or features, got '" + target + "'");
        ComputeBackend compute = engine.install();
        // e.g. the device iteration projects onto l_1, l_2, l_inf spheres only
        compute.norms().check(pv, alphaValue, alpha, target.equals("features"), modelSpec);
        try (RunFolder folder = CliSupport.claimOut(spec, out, "norm", force)) {
            return measure(compute, pv, qv, alphaValue);
        }
    }

    private Integer measure(ComputeBackend compute, double pv, double qv, double alphaValue) throws IOException {
        Kernels kernels = compute.kernels();
        FiniteChecks.setEnabled(true);
        PrintWriter outw = spec.commandLine().getOut();

        Path dataDir = CliSupport.dataDir(data);
        Dataset points = CliSupport.testPoints(data, offset, count);
        Sequential model = CliSupport.model(modelSpec, checkpoint, engine.seed, kernels);
        // the linearization keeps each activation, the iteration a tangent and a cotangent of it
        CliSupport.requireFits(model, points.images().shape, Math.min(batch, count), 3, "--batch", modelSpec);
        if (calibrateBn > 0) {
            Dataset train = FashionMnist.load(dataDir, FashionMnist.Split.TRAIN, Domain.SYMMETRIC);
            require(calibrateBn <= train.size(), "--calibrate-bn " + calibrateBn + " exceeds the " + train.size()
                    + " training images");
            BatchNorm2d.calibrate(model, train.slice(0, calibrateBn).padTo(Cnn7.SIZE, Cnn7.SIZE).images(), 40);
        }
        String modelText = modelSpec + (checkpoint != null ? " (weights " + checkpoint + ")" : " (random init, seed " + engine.seed + ")")
                + (calibrateBn > 0 ? ", BN statistics from " + calibrateBn + " training images" : "");

        OperatorNorm.Options opts = OperatorNorm.Options.defaults().withMaxIterations(iterations).withRelTol(tol)
                .withRestarts(restarts).withSeed(engine.seed).withAlpha(alphaValue);
        double[] values = new double[count];
        int[] iters = new int[count], pred = new int[count];
        boolean[] conv = new boolean[count];
        long t0 = System.nanoTime();
        Progress progress = Progress.start("norm", count, "images", System.err);
        // the penultimate features phi^{L-1}: the prefix of the network up to this named part
        String featuresName = model.name().startsWith("wrn") ? WideResNet.FEATURES : Cnn7.FEATURES;
        for (int start = 0; start < count; start += batch) {
            int b = Math.min(batch, count - start);
            Tensor x = points.images().slice(start, b);
            // Each example's start vector depends on its index in the test set only, so values do not depend
            // on --batch (restarts beyond the first derive their own seeds inside OperatorNorm).
            int inDim = x.shape.perExample();
            float[] startVectors = new float[b * inDim];
            for (int i = 0; i < b; i++) {
                StartVectors.gaussian(StartVectors.exampleSeed(engine.seed, offset + start + i), startVectors,
                        i * inDim, inDim);
            }
            // the backend's iteration (on OpenCL the whole iteration on the device, only per-example norms
            // come back each iteration), the same start vectors, seeds and stopping rule on every backend
            ComputeBackend.Batch r = compute.norms().estimate(model, target.equals("features") ? featuresName : null,
                    x, pv, qv, opts.withSeed(engine.seed + start), startVectors);
            float[] logits = r.logits();
            CliSupport.requireFiniteOutput(logits, b, logits.length / b, offset + start, modelText);
            for (int i = 0; i < b; i++) {
                requireValue(r.value()[i], offset + start + i, modelText);
                values[start + i] = r.value()[i];
                iters[start + i] = r.iterations()[i];
                conv[start + i] = r.converged()[i];
                pred[start + i] = argmax(logits, i * 10, 10);
            }
            progress.advance(b);
        }
        progress.finish();
        double seconds = (System.nanoTime() - t0) / 1e9;

        RunManifest manifest = new RunManifest("norm")
                .put("seed", engine.seed).put("backend", kernels.name()).put("threads", engine.effectiveThreads())
                .put("bn_mode", "EVAL").put("model", modelText)
                .option("p", Norms.format(pv)).option("q", Norms.format(qv)).option("count", count)
                .option("offset", offset).option("batch", batch).option("model", modelSpec).option("checkpoint", checkpoint).option("calibrate_bn", calibrateBn).option("target", target)
                .option("iterations", iterations).option("tol", tol).option("alpha", Norms.format(alphaValue)).option("restarts", restarts)
                .option("data", dataDir);
        StringBuilder csv = new StringBuilder(); // provenance is in run.json; the CSV starts with its header row
        csv.append("index,label,predicted,norm,iterations,converged\n");
        double sum = 0, sumSq = 0;
        int converged = 0;
        for (int i = 0; i < count; i++) {
            csv.append(String.format(Locale.ROOT, "%d,%d,%d,%.9g,%d,%b%n", offset + i, points.labels()[i], pred[i],
                    values[i], iters[i], conv[i]));
            sum += values[i];
            sumSq += values[i] * values[i];
            converged += conv[i] ? 1 : 0;
        }
        RunManifest.AtomicFiles.writeString(out.resolve("norms.csv"), csv.toString());
        if (checkpoint != null) {
            manifest.input(checkpoint);
        }
        manifest.input(dataDir).output(out, "norms.csv").put("seconds", String.format(Locale.ROOT, "%.2f", seconds));
        manifest.write(out);

        double mean = sum / count;
        double sd = count > 1 ? Math.sqrt(Math.max(0, (sumSq - count * mean * mean) / (count - 1))) : 0;
        outw.printf(Locale.ROOT, "(%s,%s) operator norm of the %s Jacobian of %s, BatchNorm EVAL, %s backend%n",
                Norms.format(pv), Norms.format(qv), target, modelText, kernels.name());
        outw.printf(Locale.ROOT, "  %d Fashion-MNIST test images: mean %.6g, std error %.3g, min %.6g, max %.6g%n",
                count, mean, sd / Math.sqrt(count), min(values), max(values));
        outw.printf(Locale.ROOT, "  converged %d/%d within %d iterations (tol %.1e); %.2f s, %.1f images/s%n",
                converged, count, iterations, tol, seconds, count / seconds);
        if (!(pv == 2 && qv == 2)) {
            outw.println("  (a lower bound of the true norm: the (p,q) iteration is a local ascent method)");
        }
        outw.println("  per-example values: " + out.resolve("norms.csv") + ", run manifest: " + out.resolve("run.json"));
        outw.flush();
        return 0;
    }

    /** A norm is finite and >= 0; anything else comes from a network that is not finite there. */
    private static void requireValue(double v, int image, String modelText) {
        if (!(v >= 0 && Double.isFinite(v))) {
            throw new IllegalStateException("the (p,q) iteration at test image " + image + " gave " + v + " instead of a "
                    + "norm (" + modelText + "): the network's Jacobian there is not finite, so no result is reported");
        }
    }

    static double parseNorm(String text, String flag) {
        try {
            return Norms.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage());
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    private static int argmax(float[] a, int off, int len) {
        int best = 0;
        for (int i = 1; i < len; i++) {
            if (a[off + i] > a[off + best]) {
                best = i;
            }
        }
        return best;
    }

    private static double min(double[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    private static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }
}
