package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.report.Figure;
import dev.opnorm.experiments.report.FigureFiles;
import dev.opnorm.experiments.report.HtmlReport;
import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.linalg.Svd;
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
import dev.opnorm.robust.analysis.Directions;
import dev.opnorm.robust.analysis.Linearity;
import dev.opnorm.robust.analysis.SharedActivations;
import dev.opnorm.robust.analysis.Spectra;
import dev.opnorm.robust.attack.AttackResult;
import dev.opnorm.robust.attack.Pga;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code opnorm analyze}: the paper's analyses (Figs. 2, 4, 5) of one or more networks at Fashion-MNIST test
 * points, with l2 PGA adversarial points. For each network and test point x (BatchNorm EVAL, phi = the
 * penultimate features):
 * <ul>
 *   <li>Fig. 2 left: the singular values of J_phi at x and at x*; right: |cos(x* - x, v_r)| against the rank r,
 *       v_r the right singular vectors of J_phi(x);</li>
 *   <li>Fig. 4: ||phi(x + z) - phi(x) - J_phi(x) z||_2 and sigma_max(J_phi(x + z)) against ||z||_2, z along a
 *       random unit direction and along x* - x;</li>
 *   <li>Fig. 5: the fraction of ReLU units with the same state at x and x + z, z uniform in the l_inf box of
 *       radius eps, near the test points and near uniformly random inputs of [-1, 1]^d.</li>
 * </ul>
 * Each figure is written as CSV (means with standard errors over the points) and PNG, with report.html (the
 * figures inline and the configuration) and run.json (the resolved options and provenance).
 */
@Command(name = "analyze",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "The paper's analyses (Figs. 2, 4, 5) of networks at Fashion-MNIST test images (padded to 32x32, domain "
                        + "[-1, 1]), with l2 PGA adversarial points x*; phi = the penultimate features, BatchNorm EVAL.",
                "Fig 2: singular value spectra of J_phi at x and x*; |cos(x* - x, v_r)| against the rank r.",
                "Fig 4: deviation from linearity and sigma_max(J_phi(x + z)) against ||z||_2, for z along a random and "
                        + "along the adversarial direction.",
                "Fig 5: fraction of ReLU units with the same state at x and x + z, z uniform in the l_inf box of "
                        + "radius eps, near test points and near uniformly random inputs.",
                "Writes each figure as CSV (means and standard errors over the points) and PNG, report.html and run.json "
                        + "into --out."},
        footer = {"", "Examples:",
                "  ./opnorm analyze --random --points 8                        an untrained network (the baseline)",
                "  ./opnorm analyze --random --calibrate-bn 512 --points 8     ... with BN statistics from training data",
                "  ./opnorm analyze --checkpoint runs/std/model.safetensors --label standard \\",
                "                   --checkpoint runs/at/model.safetensors --label AT --random --points 64",
                "  ./opnorm analyze --random --figures 5 --noise 0.01,0.1,0.5  only Fig. 5"})
public final class AnalyzeCommand implements Callable<Integer> {
    // Seed offsets of the independent random streams (each expanded per example by StartVectors.exampleSeed).
    private static final long PGA_STREAM = 0, DIRECTION_STREAM = 1, NOISE_STREAM = 2, INPUT_STREAM = 3,
            INPUT_NOISE_STREAM = 4, POWER_STREAM = 5;

    @Spec
    CommandSpec spec;

    @Mixin
    EngineOptions engine;

    @Option(names = "--checkpoint", description = "A trained network (safetensors, e.g. from `opnorm train`). Repeatable.")
    List<Path> checkpoints = new ArrayList<>();

    @Option(names = "--label", description = "Name of the network of the matching --checkpoint in the figures "
            + "(default: the file name). Repeatable; give none or one per --checkpoint.")
    List<String> labels = new ArrayList<>();

    @Option(names = "--random", description = "Also analyze an untrained network initialized from --seed (the baseline).")
    boolean random;

    @Option(names = "--calibrate-bn", defaultValue = "0", paramLabel = "N",
            description = "For the --random network only: set its BatchNorm running statistics from the first N "
                    + "training images (40 TRAIN-mode passes) first; with its initial statistics (mean 0, variance 1) "
                    + "an untrained network is nearly constant. 0 = off. Default: ${DEFAULT-VALUE}.")
    int calibrateBn;

    @Option(names = "--model", defaultValue = "cnn7-w0.25",
            description = "Architecture of every network: cnn7, cnn7-w<factor>, wrn-<depth>-<k>. Default: ${DEFAULT-VALUE}.")
    String modelSpec;

    @Option(names = "--points", defaultValue = "32", description = "Number of test images. Default: ${DEFAULT-VALUE}.")
    int points;

    @Option(names = "--offset", defaultValue = "0", description = "Index of the first test image. Default: ${DEFAULT-VALUE}.")
    int offset;

    @Option(names = "--batch", defaultValue = "16", description = "Test images per batched pass. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--figures", defaultValue = "2,4,5", split = ",",
            description = "Which figures: any of 2, 4, 5, comma-separated. Default: ${DEFAULT-VALUE}.")
    List<String> figures;

    @Option(names = "--eps", defaultValue = "2.0", description = "Radius of the l2 PGA attack for x*. Default: ${DEFAULT-VALUE}.")
    double eps;

    @Option(names = "--iterations", defaultValue = "10", description = "PGA iterations (step 2 eps / iterations). Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--z-max", description = "Fig. 4: the largest ||z||_2 (default: 2 x --eps).")
    Double zMax;

    @Option(names = "--z-steps", defaultValue = "8", description = "Fig. 4: number of steps from ||z|| = 0 to --z-max. Default: ${DEFAULT-VALUE}.")
    int zSteps;

    @Option(names = "--power-iterations", defaultValue = "100",
            description = "Fig. 4: maximum power iterations for sigma_max. Default: ${DEFAULT-VALUE}.")
    int powerIterations;

    @Option(names = "--tol", defaultValue = "1e-4",
            description = "Fig. 4: relative change of sigma_max that counts as converged. Default: ${DEFAULT-VALUE}.")
    double tol;

    @Option(names = "--noise", split = ",", description = "Fig. 5: radii eps of the uniform noise. Default: "
            + "0.1,0.25,0.5,1,2,4 for the l2 ball (the CNN's l2 eps_train is about 1-4), "
            + "0.01,0.02,0.05,0.1,0.2,0.5 for the l_inf box.")
    List<Double> noise;

    @Option(names = "--noise-norm", defaultValue = "2", converter = MatrixNormCommand.ExponentConverter.class,
            paramLabel = "P", description = "Fig. 5: the noise is uniform in the l_P ball of each radius: 2 (as "
            + "`reproduce` draws it) or inf (the box [-eps, eps]^d). Default: ${DEFAULT-VALUE}.")
    double noiseNorm;

    @Option(names = "--samples", defaultValue = "4", description = "Fig. 5: noise draws per point and radius. Default: ${DEFAULT-VALUE}.")
    int samples;

    @Option(names = "--data", description = "Folder with the Fashion-MNIST files (default: /usr/share/datasets/fashion-mnist).")
    Path data;

    @Option(names = "--out", defaultValue = "runs/analyze", description = "Output folder, owned by this run while it "
            + "runs (a lock file); one that already holds results is refused unless --force. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--force", description = "Write into an --out that already holds results, replacing them.")
    boolean force;

    /** A network to analyze. */
    private record Network(String label, Sequential model, String description) {
    }

    /** Per-point results of one network, rows appended batch by batch. */
    private static final class Rows {
        final List<double[]> spectrumClean = new ArrayList<>(), spectrumAdv = new ArrayList<>(),
                alignment = new ArrayList<>(), devRandom = new ArrayList<>(), devAdv = new ArrayList<>(),
                sigmaRandom = new ArrayList<>(), sigmaAdv = new ArrayList<>(), sharedNear = new ArrayList<>(),
                sharedRandom = new ArrayList<>();
        int attackSuccesses;
        int attacked;
        final long[] nanos = new long[5]; // attack, fig 2, fig 4 deviation, fig 4 sigma_max, fig 5 (for the log)
    }

    @Override
    public Integer call() throws IOException {
        Set<Integer> figs = parseFigures();
        require(points > 0, "--points must be positive, got " + points);
        require(offset >= 0, "--offset must be >= 0, got " + offset);
        require(batch > 0, "--batch must be positive, got " + batch);
        require(eps > 0 && Double.isFinite(eps), "--eps must be positive and finite, got " + eps);
        require(iterations > 0, "--iterations must be positive, got " + iterations);
        double zTop = zMax == null ? 2 * eps : zMax;
        require(zTop > 0 && Double.isFinite(zTop), "--z-max must be positive and finite, got " + zTop);
        require(zSteps > 0, "--z-steps must be positive, got " + zSteps);
        require(powerIterations > 0, "--power-iterations must be positive, got " + powerIterations);
        require(tol >= 0, "--tol must be >= 0, got " + tol);
        require(samples > 0, "--samples must be positive, got " + samples);
        require(noiseNorm == 2 || noiseNorm == Double.POSITIVE_INFINITY, "--noise-norm must be 2 or inf, got " + noiseNorm);
        if (noise == null) {
            noise = noiseNorm == 2 ? List.of(0.1, 0.25, 0.5, 1.0, 2.0, 4.0) : List.of(0.01, 0.02, 0.05, 0.1, 0.2, 0.5);
        }
        require(!noise.isEmpty(), "--noise needs at least one radius");
        for (double e : noise) {
            require(e >= 0 && Double.isFinite(e), "--noise radii must be finite and >= 0, got " + e);
        }
        require(calibrateBn >= 0, "--calibrate-bn must be >= 0, got " + calibrateBn);
        require(calibrateBn == 0 || random, "--calibrate-bn applies to the --random network; add --random");
        require(!checkpoints.isEmpty() || random, "nothing to analyze: give --checkpoint FILE (repeatable) and/or --random");
        require(labels.isEmpty() || labels.size() == checkpoints.size(), "--label given " + labels.size()
                + " times for " + checkpoints.size() + " --checkpoint; give one per checkpoint or none");
        try (RunFolder folder = CliSupport.claimOut(spec, out, "analyze", force)) {
            return analyze(figs, zTop);
        }
    }

    private Integer analyze(Set<Integer> figs, double zTop) throws IOException {
        Kernels kernels = engine.install().kernels();
        FiniteChecks.setEnabled(true);
        PrintWriter outw = spec.commandLine().getOut();

        Path dataDir = data != null ? data : FashionMnist.DEBIAN_DIR;
        List<Network> nets = networks(kernels, dataDir);
        Dataset test = FashionMnist.load(dataDir, FashionMnist.Split.TEST, Domain.SYMMETRIC);
        require(offset + points <= test.size(), "--offset + --points = " + (offset + points) + " exceeds the "
                + test.size() + " test images");
        Dataset pts = test.slice(offset, points).padTo(Cnn7.SIZE, Cnn7.SIZE);
        for (Network net : nets) {
            // the analyses keep each activation and a few tangents of it per point
            CliSupport.requireFits(net.model, pts.images().shape, Math.min(batch, points), 3, "--batch", modelSpec);
            CliSupport.requireFiniteNetwork(net.model, pts, batch, offset, net.description);
        }

        double[] zNorms = new double[zSteps + 1];
        for (int k = 0; k <= zSteps; k++) {
            zNorms[k] = zTop * k / zSteps;
        }
        double[] noiseRadii = noise.stream().mapToDouble(Double::doubleValue).toArray();
        Pga attack = Pga.l2(eps).iterations(iterations).seed(engine.seed + PGA_STREAM);
        boolean needAdv = figs.contains(2) || figs.contains(4);

        long t0 = System.nanoTime();
        List<Rows> results = new ArrayList<>();
        for (Network net : nets) {
            Rows rows = new Rows();
            String features = net.model.name().startsWith("wrn") ? WideResNet.FEATURES : Cnn7.FEATURES;
            Progress progress = Progress.start("analyze " + net.label, points, "points", System.err);
            for (int start = 0; start < points; start += batch) {
                int b = Math.min(batch, points - start);
                Tensor x = pts.images().slice(start, b);
                int[] y = Arrays.copyOfRange(pts.labels(), start, start + b);
                Tensor xAdv = null;
                long t = System.nanoTime();
                if (needAdv) {
                    AttackResult r = attack.attack(net.model, x, y, start);
                    xAdv = r.adversarial();
                    rows.attackSuccesses += r.successes();
                    rows.attacked += b;
                }
                t = lap(rows.nanos, 0, t);
                float[] top = null;   // v_1 of J_phi(x): the sigma_max curves' start at ||z|| = 0
                if (figs.contains(2)) {
                    Svd.Result[] svds = Spectra.svds(net.model, features, x);
                    top = Spectra.topRightVectors(svds);
                    for (Svd.Result s : svds) {
                        rows.spectrumClean.add(Spectra.flushRoundOff(s.singularValues()));
                    }
                    for (double[] v : Spectra.singularValues(net.model, features, xAdv)) {
                        rows.spectrumAdv.add(Spectra.flushRoundOff(v));
                    }
                    Tensor delta = new Tensor(x.shape);
                    for (int j = 0; j < delta.data.length; j++) {
                        delta.data[j] = xAdv.data[j] - x.data[j];
                    }
                    rows.alignment.addAll(List.of(Spectra.alignments(svds, delta)));
                }
                t = lap(rows.nanos, 1, t);
                if (figs.contains(4)) {
                    Tensor dRandom = Directions.randomUnit(x.shape, engine.seed + DIRECTION_STREAM, start);
                    Tensor dAdv = Directions.unitDifference(xAdv, x);
                    PowerMethod.Options po = PowerMethod.Options.defaults().withMaxIterations(powerIterations)
                            .withRelTol(tol).withSeed(StartVectors.exampleSeed(engine.seed + POWER_STREAM, start));
                    rows.devRandom.addAll(List.of(Linearity.deviationCurve(net.model, features, x, dRandom, zNorms)));
                    rows.devAdv.addAll(List.of(Linearity.deviationCurve(net.model, features, x, dAdv, zNorms)));
                    t = lap(rows.nanos, 2, t);
                    rows.sigmaRandom.addAll(List.of(Linearity.sigmaMaxCurve(net.model, features, x, dRandom, zNorms, po,
                            top)));
                    rows.sigmaAdv.addAll(List.of(Linearity.sigmaMaxCurve(net.model, features, x, dAdv, zNorms, po, top)));
                }
                t = lap(rows.nanos, 3, t);
                if (figs.contains(5)) {
                    rows.sharedNear.addAll(List.of(SharedActivations.curve(net.model, x, noiseNorm,
                            noiseRadii, samples, engine.seed + NOISE_STREAM, start)));
                    Tensor u = SharedActivations.randomInputs(x.shape, Domain.SYMMETRIC, engine.seed + INPUT_STREAM, start);
                    rows.sharedRandom.addAll(List.of(SharedActivations.curve(net.model, u, noiseNorm,
                            noiseRadii, samples, engine.seed + INPUT_NOISE_STREAM, start)));
                }
                lap(rows.nanos, 4, t);
                progress.advance(b);
            }
            progress.finish();
            results.add(rows);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        List<Map.Entry<String, Figure>> figures = figures(figs, nets, results, zNorms, noiseRadii);
        RunManifest manifest = new RunManifest("analyze")
                .put("seed", engine.seed).put("backend", kernels.name()).put("threads", engine.effectiveThreads())
                .put("bn_mode", "EVAL").put("features", "penultimate (phi^{L-1})")
                .put("fig5_noise", "uniform in the " + noiseBall() + " of radius eps, not clamped to the domain")
                .put("fig4_directions", "z = t d, d a unit (l2) random Gaussian direction or (x* - x) / ||x* - x||_2");
        for (int i = 0; i < nets.size(); i++) {
            manifest.put("network." + nets.get(i).label, nets.get(i).description);
            if (results.get(i).attacked > 0) {
                manifest.put("attack_success." + nets.get(i).label, results.get(i).attackSuccesses + "/" + results.get(i).attacked);
            }
        }
        manifest.option("checkpoints", checkpoints).option("labels", labels).option("random", random)
                .option("calibrate_bn", calibrateBn).option("model", modelSpec).option("points", points).option("offset", offset).option("batch", batch)
                .option("figures", new TreeSet<>(figs)).option("eps", eps).option("iterations", iterations)
                .option("attack", attack.describe()).option("z_max", zTop).option("z_steps", zSteps)
                .option("power_iterations", powerIterations).option("tol", tol).option("noise", noise)
                .option("noise_norm", noiseNorm == 2 ? "2" : "inf")
                .option("samples", samples).option("data", dataDir);
        manifest.put("seconds", String.format(Locale.ROOT, "%.2f", seconds));
        List<String> written = new ArrayList<>();
        HtmlReport report = new HtmlReport("opnorm analyze: " + String.join(", ", nets.stream().map(Network::label).toList()))
                .paragraph("The paper's analyses (Figs. 2, 4, 5) of " + nets.size() + " network(s) of " + modelSpec + " at "
                        + points + " Fashion-MNIST test images (padded to 32x32, inputs in [-1, 1]).");
        for (Map.Entry<String, Figure> e : figures) {
            FigureFiles files = e.getValue().write(out, e.getKey());
            written.add(files.csv().getFileName().toString());
            written.add(files.png().getFileName().toString());
            report.figure(files);
        }
        report.config(manifest);
        report.write(out.resolve("report.html"));
        written.add("report.html");
        for (Path c : checkpoints) {
            manifest.input(c);
        }
        manifest.input(dataDir);
        for (String f : written) {
            manifest.output(out, f);
        }
        manifest.write(out);

        outw.printf(Locale.ROOT, "analyze: %d network(s) of %s at %d Fashion-MNIST test images, figures %s, %s backend, %.1f s%n",
                nets.size(), modelSpec, points, new TreeSet<>(figs), kernels.name(), seconds);
        for (int i = 0; i < nets.size(); i++) {
            Rows r = results.get(i);
            outw.printf(Locale.ROOT, "  %-12s %s%s%n", nets.get(i).label, nets.get(i).description,
                    r.attacked > 0 ? String.format(Locale.ROOT, "; l2 PGA eps %.3g fools %d/%d", eps, r.attackSuccesses,
                            r.attacked) : "");
            outw.printf(Locale.ROOT, "  %-12s seconds: attack %.1f, fig 2 %.1f, fig 4 deviation %.1f, fig 4 sigma_max %.1f,"
                    + " fig 5 %.1f%n", "", r.nanos[0] / 1e9, r.nanos[1] / 1e9, r.nanos[2] / 1e9, r.nanos[3] / 1e9,
                    r.nanos[4] / 1e9);
        }
        for (Map.Entry<String, Figure> e : figures) {
            outw.println(summary(e.getValue()));
        }
        outw.println("  files: " + String.join(", ", written) + ", run.json in " + out);
        outw.flush();
        return 0;
    }

    /** A series: x[k] against the mean and standard error over points of column k of perPoint[point][k]. */
    private static void add(Figure f, String series, double[] x, List<double[]> perPoint) {
        Figure.Series s = f.series(series);
        double[] col = new double[perPoint.size()];
        for (int k = 0; k < x.length; k++) {
            for (int i = 0; i < col.length; i++) {
                col[i] = perPoint.get(i)[k];
            }
            s.add(x[k], col);
        }
    }

    private String noiseBall() {
        return noiseNorm == 2 ? "l2 ball" : "l_inf box";
    }

    private List<Map.Entry<String, Figure>> figures(Set<Integer> figs, List<Network> nets, List<Rows> results,
                                                    double[] zNorms, double[] noiseRadii) {
        List<Map.Entry<String, Figure>> f = new ArrayList<>();
        String over = " Means and standard errors over " + points + " Fashion-MNIST test images; phi = the penultimate "
                + "features, BatchNorm EVAL; x* from untargeted l2 PGA (eps " + eps + ", " + iterations + " iterations).";
        if (figs.contains(2)) {
            Figure spectrum = new Figure("Singular values of the features' Jacobian", "rank", "rank r", "sigma",
                    "sigma_r(J_phi)").logY(true).errorStyle(Figure.ErrorStyle.BAND)
                    .caption("Fig. 2 left: the full singular value spectrum of J_phi at clean x and at x*; values below "
                            + Spectra.NUMERICAL_ZERO + " sigma_1 are float round-off and count as 0 (the log axis leaves zero "
                            + "means out)." + over);
            Figure align = new Figure("Alignment of the adversarial perturbation with the singular vectors", "rank",
                    "rank r", "abs_cos", "|cos(x* - x, v_r)|").errorStyle(Figure.ErrorStyle.BAND)
                    .caption("Fig. 2 right: v_r = the right singular vectors of J_phi(x); an untrained network is the "
                            + "baseline." + over);
            for (int i = 0; i < nets.size(); i++) {
                Rows r = results.get(i);
                double[] ranks = ranks(r.spectrumClean.get(0).length);
                add(spectrum, nets.get(i).label + " clean", ranks, r.spectrumClean);
                add(spectrum, nets.get(i).label + " adversarial", ranks, r.spectrumAdv);
                add(align, nets.get(i).label, ranks, r.alignment);
            }
            f.add(Map.entry("fig2_spectrum", spectrum));
            f.add(Map.entry("fig2_alignment", align));
        }
        if (figs.contains(4)) {
            String dirs = " z = t d with d a random unit direction (Gaussian) or d = (x* - x) / ||x* - x||_2.";
            Figure dev = new Figure("Deviation from linearity", "z_norm", "||z||_2", "deviation",
                    "||phi(x + z) - phi(x) - J_phi(x) z||_2").marker(eps, "attack eps")
                    .caption("Fig. 4 left." + dirs + over);
            Figure sig = new Figure("Largest singular value along z", "z_norm", "||z||_2", "sigma_max",
                    "sigma_max(J_phi(x + z))").marker(eps, "attack eps")
                    .caption("Fig. 4 right: batched power method (at most " + powerIterations + " iterations, relative "
                            + "tolerance " + tol + "), a lower bound of sigma_max; started at ||z|| = 0 from v_1 of "
                            + "J_phi(x) when Fig. 2 ran, else from a Gaussian, and at each further ||z|| from the "
                            + "previous vector." + dirs + over);
            for (int i = 0; i < nets.size(); i++) {
                Rows r = results.get(i);
                add(dev, nets.get(i).label + " random", zNorms, r.devRandom);
                add(dev, nets.get(i).label + " adversarial", zNorms, r.devAdv);
                add(sig, nets.get(i).label + " random", zNorms, r.sigmaRandom);
                add(sig, nets.get(i).label + " adversarial", zNorms, r.sigmaAdv);
            }
            f.add(Map.entry("fig4_deviation", dev));
            f.add(Map.entry("fig4_sigma_max", sig));
        }
        if (figs.contains(5)) {
            Figure shared = new Figure("Shared ReLU activations under uniform noise", "eps", "eps (" + noiseBall()
                    + " radius)", "shared", "fraction of ReLU units with the same state at x and x + z").yRange(0, 1)
                    .caption("Fig. 5: z uniform in the " + noiseBall() + " of radius eps (not clamped to the domain), "
                            + samples + " draws per "
                            + "point and radius; near the test images and near uniformly random inputs of [-1, 1]^d. "
                            + "Every ReLU of the network counts." + over);
            for (int i = 0; i < nets.size(); i++) {
                Rows r = results.get(i);
                add(shared, nets.get(i).label + " near data", noiseRadii, r.sharedNear);
                add(shared, nets.get(i).label + " random inputs", noiseRadii, r.sharedRandom);
            }
            f.add(Map.entry("fig5_shared", shared));
        }
        return f;
    }

    private static String summary(Figure f) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "  %s (%s vs %s):", f.title(), f.yLabel(), f.xLabel()));
        for (Figure.Series s : f.seriesList()) {
            Figure.Point first = s.points().get(0), last = s.points().get(s.points().size() - 1);
            b.append(String.format(Locale.ROOT, "%n    %-26s %s=%-8.4g %.4g +- %.2g   ...   %s=%-8.4g %.4g +- %.2g",
                    s.name(), f.xColumn(), first.x(), first.mean(), first.stderr(), f.xColumn(), last.x(), last.mean(),
                    last.stderr()));
        }
        return b.toString();
    }

    private static long lap(long[] acc, int slot, long since) {
        long now = System.nanoTime();
        acc[slot] += now - since;
        return now;
    }

    private static double[] ranks(int r) {
        double[] x = new double[r];
        for (int k = 0; k < r; k++) {
            x[k] = k + 1;
        }
        return x;
    }

    private List<Network> networks(Kernels kernels, Path dataDir) throws IOException {
        List<Network> nets = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < checkpoints.size(); i++) {
            Path c = checkpoints.get(i);
            String label = labels.isEmpty() ? stem(c) : labels.get(i);
            checkLabel(label, seen);
            // validated weights, errors naming --checkpoint and the file
            Sequential model = CliSupport.model(modelSpec, c, engine.seed, kernels);
            nets.add(new Network(label, model, modelSpec + " (weights " + c + ")"));
        }
        if (random) {
            checkLabel("random", seen);
            Sequential model = CliSupport.model(modelSpec, null, engine.seed, kernels);
            if (calibrateBn > 0) {
                Dataset train = FashionMnist.load(dataDir, FashionMnist.Split.TRAIN, Domain.SYMMETRIC);
                require(calibrateBn <= train.size(), "--calibrate-bn " + calibrateBn + " exceeds the " + train.size()
                        + " training images");
                BatchNorm2d.calibrate(model, train.slice(0, calibrateBn).padTo(Cnn7.SIZE, Cnn7.SIZE).images(), 40);
            }
            nets.add(new Network("random", model, modelSpec + " (untrained, random init seed " + engine.seed
                    + (calibrateBn > 0 ? ", BN statistics from " + calibrateBn + " training images" : "") + ")"));
        }
        return nets;
    }

    private static void checkLabel(String label, Set<String> seen) {
        require(!label.isBlank() && label.chars().noneMatch(ch -> ch == ',' || ch == '"' || ch < 0x20),
                "--label '" + label + "' must be non-empty without commas, quotes or control characters");
        require(seen.add(label), "--label '" + label + "' is used twice (every network needs its own label; "
                + "'random' is the --random network's)");
    }

    private static String stem(Path p) {
        String s = p.getFileName().toString();
        int dot = s.lastIndexOf('.');
        return dot > 0 ? s.substring(0, dot) : s;
    }

    private Set<Integer> parseFigures() {
        Set<Integer> f = new LinkedHashSet<>();
        for (String s : figures) {
            String v = s.trim();
            require(v.equals("2") || v.equals("4") || v.equals("5"),
                    "--figures takes 2, 4 and/or 5 (comma-separated), got '" + s + "'");
            f.add(Integer.parseInt(v));
        }
        require(!f.isEmpty(), "--figures needs at least one of 2, 4, 5");
        return f;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
