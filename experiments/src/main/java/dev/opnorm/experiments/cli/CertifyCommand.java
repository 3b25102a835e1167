package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.report.Figure;
import dev.opnorm.experiments.report.FigureRenderer;
import dev.opnorm.experiments.report.MeanStderr;
import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.FiniteChecks;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.util.Progress;
import dev.opnorm.robust.certify.Bracket;
import dev.opnorm.robust.certify.Certificate;
import dev.opnorm.robust.certify.Certifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code opnorm certify}: certified brackets [lower, upper] for ||J_f||_{p,q} (the Jacobian of the logits
 * with respect to the input, BatchNorm EVAL) at Fashion-MNIST test images and over l_r balls around them,
 * and certified accuracy against eps, with {@link Certifier} (interval bound propagation, pre-activation
 * and margin bounds tightened by linear back-substitution unless {@code --bounds interval}). An image
 * counts as certified at eps when the network predicts its label at x and every logit margin provably
 * stays positive over the ball (intersected with the input domain [-1, 1]). Across the radii of one
 * image, uppers are made non-increasing and lowers non-decreasing as eps shrinks (a bound for one ball
 * holds for the balls inside it; a point of a ball lies in the larger ones).
 *
 * <p>The bound propagation is a host computation in double; {@code --backend opencl} is accepted and
 * says so, and everything runs on the CPU.
 */
@Command(name = "certify",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Certified brackets [lower, upper] for the (p,q) operator norm of the logits' Jacobian",
                "at Fashion-MNIST test images and over l_r balls of radius eps around them (bound",
                "propagation with linear back-substitution, outward rounding), and certified accuracy",
                "against eps. Writes",
                "certify.csv (one row per image and eps), certify_summary.csv (one row per eps),",
                "certified_accuracy.png, bracket.png and run.json into --out."},
        footer = {"", "Examples:",
                "  ./opnorm certify --eps 0,0.01,0.05 --count 5              (2,2) over l_2 balls",
                "  ./opnorm certify --p inf --q 1 --eps 0,0.002 --ball inf    an NP-hard cell",
                "  ./opnorm certify --eps 0,0.1 --checkpoint runs/train/model.safetensors"})
public final class CertifyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EngineOptions engine;

    @Option(names = "--p", defaultValue = "2", description = "Input norm of ||J||_{p,q}: 1, 2 or inf. Default: ${DEFAULT-VALUE}.")
    String p;

    @Option(names = "--q", defaultValue = "2", description = "Output norm of ||J||_{p,q}: 1, 2 or inf. Default: ${DEFAULT-VALUE}.")
    String q;

    @Option(names = "--ball", description = "Norm r of the ball B_r(x, eps): 1, 2 or inf. Default: --p.")
    String ball;

    @Option(names = "--eps", required = true, split = ",", paramLabel = "E1,E2,...",
            description = "Ball radii, comma separated, >= 0 (0: the bracket at the point; inputs are in [-1, 1]).")
    List<Double> eps;

    @Option(names = "--model", defaultValue = "cnn7-w0.25", description = "Network: cnn7, cnn7-w<factor>, "
            + "wrn-<depth>-<k>. Default: ${DEFAULT-VALUE}.")
    String modelSpec;

    @Option(names = "--checkpoint", description = "Load the network's weights (safetensors checkpoint); without it "
            + "the network is randomly initialized from --seed.")
    Path checkpoint;

    @Option(names = {"--count", "--n"}, defaultValue = "10", description = "Number of test images. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--offset", defaultValue = "0", description = "Index of the first test image. Default: ${DEFAULT-VALUE}.")
    int offset;

    @Option(names = "--samples", defaultValue = "8", description = "Uniform samples of the ball in the lower-bound "
            + "search. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--ascent", defaultValue = "16", description = "Random ascent steps of the lower-bound search. "
            + "Default: ${DEFAULT-VALUE}.")
    int ascent;

    @Option(names = "--bounds", defaultValue = "linear", description = "Pre-activation and margin bounds over the "
            + "ball: linear (back-substitution, CROWN style, intersected with intervals) or interval (plain interval "
            + "propagation; faster, looser). Default: ${DEFAULT-VALUE}.")
    String bounds;

    @Option(names = "--tighten", defaultValue = "all", paramLabel = "N|all", description = "With --bounds linear: "
            + "pre-activation bounds tightened by back-substitution in all ReLU layers (tightest; the cost grows "
            + "with the depth and the radius), or in the first N only (interval bounds after them, faster, looser; "
            + "0: only the margins are back-substituted). Default: ${DEFAULT-VALUE}.")
    String tighten;

    @Option(names = "--full-rows", description = "With --bounds linear: pull both rows (+e_j, -e_j) of every "
            + "pre-activation the box leaves unstable back to the input. By default a ReLU's sign is fixed first: "
            + "one row per unit, stopped at the first layer whose box proves the sign, both rows in full only for "
            + "units that stay unstable (same ReLU states in practice, looser boxes of stable units, 2-3x faster).")
    boolean fullRows;

    @Option(names = "--no-zonotope", description = "With --bounds linear: do not narrow every layer's box by a "
            + "zonotope over the ball first (one forward pass of a batch of one image per input value; over small "
            + "balls it leaves only the really unstable units to back-substitution, 2-4x faster, never looser in "
            + "our measurements).")
    boolean noZonotope;

    @Option(names = "--data", description = "Folder with the Fashion-MNIST files (default: /usr/share/datasets/fashion-mnist).")
    Path data;

    @Option(names = "--out", defaultValue = "runs/certify", description = "Output folder, owned by this run while it "
            + "runs (a lock file); one that already holds results is refused unless --force. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--force", description = "Write into an --out that already holds results, replacing them.")
    boolean force;

    private int tightenLayers;

    /** --tighten's value as {@link Certifier.Options#tightenLayers}: a count >= 0 or "all". */
    static int tightenLayers(String v) {
        if (v.equalsIgnoreCase("all")) {
            return Certifier.Options.ALL_LAYERS;
        }
        try {
            int n = Integer.parseInt(v.trim());
            CliSupport.require(n >= 0, "--tighten must be a number of ReLU layers >= 0 or 'all', got " + v);
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--tighten must be a number of ReLU layers >= 0 or 'all', got '" + v + "'");
        }
    }

    @Override
    public Integer call() throws IOException {
        double pv = CliSupport.attackNorm(p, "--p");
        double qv = CliSupport.attackNorm(q, "--q");
        double rv = ball == null ? pv : CliSupport.attackNorm(ball, "--ball");
        CliSupport.require(samples >= 0, "--samples must be >= 0, got " + samples);
        CliSupport.require(ascent >= 0, "--ascent must be >= 0, got " + ascent);
        CliSupport.require(bounds.equals("linear") || bounds.equals("interval"),
                "--bounds must be linear or interval, got " + bounds);
        tightenLayers = tightenLayers(tighten);
        for (double e : eps) {
            CliSupport.require(e >= 0 && Double.isFinite(e), "--eps values must be >= 0 and finite, got " + e);
        }
        try (RunFolder folder = CliSupport.claimOut(spec, out, "certify", force)) {
            return certify(pv, qv, rv);
        }
    }

    private Integer certify(double pv, double qv, double rv) throws IOException {
        PrintWriter outw = spec.commandLine().getOut();
        boolean openclRequested = engine.backend == EngineOptions.Backend.opencl;
        if (openclRequested) {
            spec.commandLine().getErr().println("note: --backend opencl: certification is a host computation (double "
                    + "interval arithmetic); it runs on the CPU, the power iterations too");
            spec.commandLine().getErr().flush();
            engine.backend = EngineOptions.Backend.cpu;
        }
        Kernels kernels = engine.install().kernels();
        FiniteChecks.setEnabled(true);
        Path dataDir = CliSupport.dataDir(data);
        Dataset points = CliSupport.testPoints(data, offset, count);
        Sequential model = CliSupport.model(modelSpec, checkpoint, engine.seed, kernels);
        String modelText = modelSpec + (checkpoint != null ? " (weights " + checkpoint + ")"
                : " (random init, seed " + engine.seed + ")");
        CliSupport.requireFiniteNetwork(model, points, Math.min(count, 50), offset, modelText);
        Shape one = points.images().shape.withBatch(1);
        Certifier certifier;
        try {
            certifier = new Certifier(model, one, pv, qv, Certifier.Options.defaults(rv)
                    .withDomain(points.domain().low(), points.domain().high()).withSearch(samples, ascent)
                    .withSeed(engine.seed).withLinear(bounds.equals("linear")).withTightenLayers(tightenLayers).withSignsFirst(!fullRows)
                    .withZonotope(!noZonotope));
        } catch (UnsupportedOperationException e) {
            throw new IllegalArgumentException("--model " + modelSpec + ": " + e.getMessage());
        }

        double[] radii = eps.stream().mapToDouble(Double::doubleValue).sorted().distinct().toArray();
        int per = one.size(), k = radii.length;
        int[] label = points.labels(), pred = new int[count];
        double[][] lower = new double[count][k], upper = new double[count][k], mono = new double[count][k];
        double[][] estimate = new double[count][k], margin = new double[count][k];
        boolean[][] certified = new boolean[count][k];
        String[][] methods = new String[count][k];
        long t0 = System.nanoTime();
        Progress progress = Progress.start("certify", count, "img", System.err);
        for (int i = 0; i < count; i++) {
            float[] x = Arrays.copyOfRange(points.images().data, i * per, (i + 1) * per);
            pred[i] = argmax(model.forward(new Tensor(one, x.clone())).data);
            Certifier.Propagation atX = certifier.propagate(x, 0, label[i]);
            for (int j = 0; j < k; j++) {
                Certifier.Propagation over = radii[j] == 0 ? atX : certifier.propagate(x, radii[j], label[i]);
                Bracket b = certifier.ball(x, radii[j], over);
                Certificate c = certifier.certify(x, label[i], radii[j], atX, over);
                lower[i][j] = b.lower();
                upper[i][j] = b.upper();
                estimate[i][j] = b.estimate();
                margin[i][j] = c.marginLower();
                certified[i][j] = c.certified() && pred[i] == label[i];
                methods[i][j] = "lower: " + b.lowerMethod() + "; upper: " + b.upperMethod();
            }
            mono[i] = Certifier.monotoneUppers(radii, upper[i]);
            lower[i] = Certifier.monotoneLowers(radii, lower[i]); // a point of a smaller ball counts in a larger one
            progress.advance(1);
        }
        progress.finish();
        double seconds = (System.nanoTime() - t0) / 1e9;

        String pn = CliSupport.format(pv), qn = CliSupport.format(qv), rn = CliSupport.format(rv);
        RunManifest manifest = new RunManifest("certify")
                .put("seed", engine.seed).put("backend", kernels.name() + (openclRequested
                        ? " (opencl requested; certification runs on the CPU)" : ""))
                .put("threads", engine.effectiveThreads()).put("bn_mode", "EVAL").put("model", modelText)
                .put("bounds", (bounds.equals("linear") ? "interval bound propagation with pre-activation and margin "
                        + "bounds by linear back-substitution" : "interval bound propagation") + " in double, outward "
                        + "rounding; lower bounds attained at points of the ball (x, samples, ascent), made sound by the "
                        + "point's interval Jacobian")
                .option("p", pn).option("q", qn).option("ball", rn).option("eps", Arrays.toString(radii))
                .option("model", modelSpec).option("checkpoint", checkpoint).option("count", count)
                .option("offset", offset).option("bounds", bounds).option("tighten", tighten).option("full_rows", fullRows).option("zonotope", !noZonotope).option("samples", samples).option("ascent", ascent).option("data", dataDir);

        StringBuilder csv = new StringBuilder("index,label,prediction,eps,lower,upper,upper_monotone,gap,estimate,"
                + "margin_lower,certified,methods\n");
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < k; j++) {
                csv.append(offset + i).append(',').append(label[i]).append(',').append(pred[i]).append(',')
                        .append(radii[j]).append(',').append(lower[i][j]).append(',').append(upper[i][j]).append(',')
                        .append(mono[i][j]).append(',').append(mono[i][j] - lower[i][j]).append(',')
                        .append(estimate[i][j]).append(',').append(margin[i][j]).append(',').append(certified[i][j])
                        .append(',').append(quote(methods[i][j])).append('\n');
            }
        }
        int clean = 0;
        for (int i = 0; i < count; i++) {
            clean += pred[i] == label[i] ? 1 : 0;
        }
        StringBuilder summary = new StringBuilder("eps,count,clean_accuracy,certified_accuracy,mean_lower,mean_upper,"
                + "mean_gap\n");
        Figure acc = new Figure("Certified accuracy, l_" + rn + " balls", "eps", "eps (l_" + rn
                + " radius, inputs in [-1, 1])", "certified_accuracy", "certified accuracy").yRange(0, 1)
                .caption(modelText + ", " + count + " Fashion-MNIST test images");
        Figure br = new Figure("Bracket on sup ||J_f||_{" + pn + "," + qn + "} over the l_" + rn + " ball", "eps",
                "eps (l_" + rn + " radius)", "norm", "||J_f||_{" + pn + "," + qn + "} bound").logY(true)
                .caption("mean over " + count + " images of the certified lower and upper bounds");
        double[] certAcc = new double[k];
        for (int j = 0; j < k; j++) {
            int c = 0;
            double[] lo = new double[count], up = new double[count];
            for (int i = 0; i < count; i++) {
                c += certified[i][j] ? 1 : 0;
                lo[i] = lower[i][j];
                up[i] = mono[i][j];
            }
            certAcc[j] = c / (double) count;
            MeanStderr ml = MeanStderr.of(lo), mu = MeanStderr.of(up);
            summary.append(radii[j]).append(',').append(count).append(',').append(clean / (double) count).append(',')
                    .append(certAcc[j]).append(',').append(ml.mean()).append(',').append(mu.mean()).append(',')
                    .append(mu.mean() - ml.mean()).append('\n');
            acc.series("certified").add(radii[j], MeanStderr.proportion(c, count));
            br.series("upper").add(radii[j], up);
            br.series("lower").add(radii[j], lo);
        }
        RunManifest.AtomicFiles.writeString(out.resolve("certify.csv"), csv.toString());
        RunManifest.AtomicFiles.writeString(out.resolve("certify_summary.csv"), summary.toString());
        RunManifest.AtomicFiles.writeBytes(out.resolve("certified_accuracy.png"), acc.png(FigureRenderer.WIDTH, FigureRenderer.HEIGHT));
        boolean positive = Arrays.stream(lower).flatMapToDouble(Arrays::stream).allMatch(v -> v > 0);
        if (!positive) {
            br.logY(false); // a zero lower bound has no place on a log axis
        }
        RunManifest.AtomicFiles.writeBytes(out.resolve("bracket.png"), br.png(FigureRenderer.WIDTH, FigureRenderer.HEIGHT));
        if (checkpoint != null) {
            manifest.input(checkpoint);
        }
        manifest.input(dataDir).output(out, "certify.csv").output(out, "certify_summary.csv")
                .output(out, "certified_accuracy.png").output(out, "bracket.png")
                .put("clean_accuracy", clean / (double) count).put("certified_accuracy", Arrays.toString(certAcc))
                .put("seconds", String.format(Locale.ROOT, "%.2f", seconds));
        manifest.write(out);

        outw.printf(Locale.ROOT, "Certified ||J_f||_{%s,%s} over l_%s balls, %s, %d Fashion-MNIST test images (from %d)%n",
                pn, qn, rn, modelText, count, offset);
        outw.printf(Locale.ROOT, "  %-10s %-10s %-12s %-12s %-10s%n", "eps", "certified", "mean lower", "mean upper", "upper/lower");
        for (int j = 0; j < k; j++) {
            double ml = 0, mu = 0;
            for (int i = 0; i < count; i++) {
                ml += lower[i][j] / count;
                mu += mono[i][j] / count;
            }
            outw.printf(Locale.ROOT, "  %-10.4g %-10.4f %-12.5g %-12.5g %-10.4g%n", radii[j], certAcc[j], ml, mu,
                    ml > 0 ? mu / ml : Double.POSITIVE_INFINITY);
        }
        outw.printf(Locale.ROOT, "  clean accuracy %.4f; %.2f s%n", clean / (double) count, seconds);
        outw.println("  per-image rows: " + out.resolve("certify.csv") + ", run manifest: " + out.resolve("run.json"));
        outw.flush();
        return 0;
    }

    private static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }

    /** RFC 4180 quoting. */
    private static String quote(String s) {
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
