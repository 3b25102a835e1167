package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.report.Estimate;
import dev.opnorm.experiments.report.Figure;
import dev.opnorm.experiments.report.FigureFiles;
import dev.opnorm.experiments.report.MeanStderr;
import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.util.Progress;
import dev.opnorm.robust.analysis.Directions;
import dev.opnorm.robust.analysis.Linearity;
import dev.opnorm.robust.analysis.SharedActivations;
import dev.opnorm.robust.analysis.Spectra;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.opnorm.experiments.reproduce.Reproduction.METHODS;
import static dev.opnorm.experiments.reproduce.Reproduction.RANDOM;
import static dev.opnorm.experiments.reproduce.Reproduction.num;
import static dev.opnorm.experiments.reproduce.Reproduction.putFigure;

/**
 * The figure phases of a {@link Reproduction}: each computes per-point numbers with {@code robust.analysis} /
 * {@code robust.attack}, writes CSV + PNG (means with standard errors over the test points; accuracies with their
 * 95 % Wilson intervals) and returns the key numbers and the per-image results the claims resample
 * ({@link ReproduceReport}): 0/1 correctness strings ({@link Reproduction#bits(boolean[])}) and per-point number
 * lists ({@link Reproduction#nums(double[])}), keys suffixed {@code _seedK} for further seeds. All analyses use
 * BatchNorm EVAL and the penultimate features phi^{L-1} ({@code features} of the 7-layer CNN).
 */
final class Figures {
    /** Ranks averaged as the "top" of the alignment curve. */
    static final int TOP_RANKS = 5;

    private Figures() {
    }

    /** The key suffix of seed k's values: none for seed 0, "_seedK" else. */
    static String sfx(int k) {
        return k == 0 ? "" : "_seed" + k;
    }

    /**
     * Fig. 3: accuracy against eps under l2 and l_inf PGA, eps_train marked, every seed's networks; the curves of
     * seed 0 are drawn, with their 95 % Wilson intervals as bands. Along each curve an image broken at a smaller
     * radius stays broken ({@link Reproduction#robust}). Stored per image: correctness under attack at eps_train
     * (l2) and at eps_train / sqrt(n) (l_inf), keys {@code robust_l2_METHOD}, {@code robust_linf_METHOD}.
     */
    static Map<String, String> fig3(Reproduction r) throws IOException {
        Dataset curve = r.curveSet();
        double eps = r.eps(), epsInf = r.epsLinf();
        double[] l2 = r.radii(eps), linf = r.radii(epsInf);
        int mid = (l2.length - 1) / 2, seeds = r.profile().seeds();
        Map<String, String> v = new LinkedHashMap<>();
        String caption = "Untargeted PGA against the true label (" + r.profile().evalIterations() + " iterations, "
                + "step 2 eps / iterations, random start) on " + curve.size() + " test images; an image broken at a "
                + "smaller radius of the curve counts as broken at the larger ones (its adversarial point lies in "
                + "their balls). Bands: 95 % Wilson intervals over the images" + (seeds > 1 ? " (networks of seed 0;"
                + " the claims use all " + seeds + " seeds)" : "") + ". The l_inf radii are the l2 ones divided by "
                + "sqrt(" + r.inputDim() + ").";
        Figure f2 = new Figure("Fig. 3: accuracy under l2 PGA", "eps", "eps (l2 radius, inputs in [-1, 1])",
                "accuracy", "test accuracy").yRange(0, 1).marker(eps, "eps_train").caption(caption)
                .errorStyle(Figure.ErrorStyle.BAND);
        Figure fi = new Figure("Fig. 3: accuracy under l_inf PGA", "eps", "eps (l_inf radius, inputs in [-1, 1])",
                "accuracy", "test accuracy").yRange(0, 1).marker(epsInf, "eps_train / sqrt(n)").caption(caption)
                .errorStyle(Figure.ErrorStyle.BAND);
        Progress progress = Progress.start("fig3", (long) seeds * METHODS.size() * (l2.length + linf.length - 2),
                "attack", r.log());
        for (int k = 0; k < seeds; k++) {
            for (String m : METHODS) {
                Sequential model = r.model(m, k);
                boolean[] clean = r.clean(model, curve);
                if (k == 0) {
                    v.put("clean_" + m, num(Reproduction.count(clean) / (double) curve.size()));
                }
                for (int n = 0; n < 2; n++) {
                    double[] radii = n == 0 ? l2 : linf;
                    String tag = n == 0 ? "l2" : "linf";
                    Figure.Series s = k == 0 ? (n == 0 ? f2 : fi).series(m) : null;
                    boolean[] alive = clean;
                    for (int j = 0; j < radii.length; j++) {
                        if (radii[j] > 0) {
                            progress.field("net", Reproduction.seedName(m, k)).field("eps", tag + " " + radii[j]);
                            alive = Reproduction.robust(r.workers(), model, curve, r.attack(n == 0 ? 2 : Double.POSITIVE_INFINITY,
                                    radii[j]), alive);
                            progress.advance(1);
                        }
                        int correct = Reproduction.count(alive);
                        if (s != null) {
                            s.add(radii[j], MeanStderr.proportion(correct, curve.size()),
                                    Estimate.wilson(correct, curve.size()));
                        }
                        if (j == mid) {
                            v.put("robust_" + tag + "_" + m + sfx(k), Reproduction.bits(alive));
                            if (k == 0) {
                                v.put("acc_" + tag + "_" + m, num(correct / (double) curve.size()));
                            }
                        }
                    }
                }
            }
        }
        progress.finish();
        putFigure(v, "fig3_accuracy_l2", f2.write(r.out(), "fig3_accuracy_l2"));
        putFigure(v, "fig3_accuracy_linf", fi.write(r.out(), "fig3_accuracy_linf"));
        return v;
    }

    /**
     * Fig. 2: singular value spectra of J_phi at clean and adversarial points (left) and the alignment
     * |cos(x* - x, v_r)| against the rank r (right), every method and the random network, for every seed (the
     * curves drawn are seed 0's). Stored per point: sigma_1 at the clean point ({@code sigma1_points_NET}), the
     * mean |cos| over the top {@link #TOP_RANKS} ranks and over the second half of the ranks
     * ({@code cos_top_points_NET}, {@code cos_tail_points_NET}).
     */
    static Map<String, String> fig2(Reproduction r) throws IOException {
        Dataset pts = r.pointSet();
        List<String> nets = new ArrayList<>(METHODS);
        nets.add(RANDOM);
        int seeds = r.profile().seeds();
        Map<String, String> v = new LinkedHashMap<>();
        String where = pts.size() + " test points; mean and standard error over the points. Adversarial points: "
                + "untargeted l2 PGA at eps_train = " + Profile.fmt(r.eps()) + " against each network itself."
                + (seeds > 1 ? " Networks of seed 0 (the claims use all " + seeds + " seeds)." : "");
        Figure clean = new Figure("Fig. 2 left: spectrum of J_phi at clean points", "rank", "rank r",
                "singular_value", "singular value sigma_r").logY(true).errorStyle(Figure.ErrorStyle.BAND)
                .caption("Singular values of the Jacobian of the penultimate features phi(x) (BatchNorm EVAL), " + where);
        Figure adv = new Figure("Fig. 2 left: spectrum of J_phi at adversarial points", "rank", "rank r",
                "singular_value", "singular value sigma_r").logY(true).errorStyle(Figure.ErrorStyle.BAND)
                .caption("Singular values of J_phi(x*), " + where);
        Figure align = new Figure("Fig. 2 right: alignment of x* - x with the singular vectors", "rank", "rank r",
                "abs_cos", "|cos(x* - x, v_r)|").errorStyle(Figure.ErrorStyle.BAND)
                .caption("|cos| between the adversarial perturbation and the right singular vectors v_r of "
                        + "J_phi(x), in rank order; " + where);
        Progress progress = Progress.start("fig2", (long) seeds * nets.size() * 3L, "step", r.log());
        // one job per network (seed-major, as the keys are written): each on its own worker, whose SVDs and
        // Jacobian passes are the serial ones; only the per-point numbers come back
        List<String[]> jobs = new ArrayList<>();
        for (int k = 0; k < seeds; k++) {
            for (String m : nets) {
                jobs.add(new String[]{m, String.valueOf(k)});
            }
        }
        Tensor x = pts.images();
        List<Fig2Net> results = r.workers().map(jobs.size(), r.kernels(), (i, kernels) -> {
            String m = jobs.get(i)[0];
            int k = Integer.parseInt(jobs.get(i)[1]);
            try {
                Sequential model = r.model(m, k, kernels);
                Tensor xa = r.adversarial(model, pts);
                step(progress, Reproduction.seedName(m, k));
                Svd.Result[] sc = Spectra.svds(model, Cnn7.FEATURES, x);
                step(progress, Reproduction.seedName(m, k));
                double[][] svAdv = k == 0 ? Reproduction.singularValues(Spectra.svds(model, Cnn7.FEATURES, xa)) : null;
                step(progress, Reproduction.seedName(m, k));
                Tensor delta = new Tensor(x.shape);
                for (int j = 0; j < delta.data.length; j++) {
                    delta.data[j] = xa.data[j] - x.data[j];
                }
                return new Fig2Net(Reproduction.singularValues(sc), svAdv, Spectra.alignments(sc, delta));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        for (int i = 0; i < jobs.size(); i++) {
            String m = jobs.get(i)[0];
            int k = Integer.parseInt(jobs.get(i)[1]);
            Fig2Net res = results.get(i);
            double[][] svClean = res.svClean(), cos = res.cos();
            int ranks = svClean[0].length;
            double[] sigma1 = new double[pts.size()], top = new double[pts.size()], tail = new double[pts.size()];
            for (int p = 0; p < pts.size(); p++) {
                sigma1[p] = svClean[p][0];
                top[p] = meanOver(new double[][]{cos[p]}, 0, Math.min(TOP_RANKS, ranks));
                tail[p] = meanOver(new double[][]{cos[p]}, ranks / 2, ranks);
            }
            v.put("sigma1_points_" + m + sfx(k), Reproduction.nums(sigma1));
            v.put("cos_top_points_" + m + sfx(k), Reproduction.nums(top));
            v.put("cos_tail_points_" + m + sfx(k), Reproduction.nums(tail));
            if (k == 0) {
                double[][] svAdv = res.svAdv();
                addCurve(clean.series(m), svClean);
                addCurve(adv.series(m), svAdv);
                addCurve(align.series(m), cos);
                v.put("sigma1_clean_" + m, num(Reproduction.column(svClean, 0).mean()));
                v.put("sigma1_adv_" + m, num(Reproduction.column(svAdv, 0).mean()));
                v.put("cos_top_" + m, num(meanOver(cos, 0, Math.min(TOP_RANKS, ranks))));
                v.put("cos_tail_" + m, num(meanOver(cos, ranks / 2, ranks)));
            }
        }
        progress.finish();
        putFigure(v, "fig2_spectrum_clean", clean.write(r.out(), "fig2_spectrum_clean"));
        putFigure(v, "fig2_spectrum_adversarial", adv.write(r.out(), "fig2_spectrum_adversarial"));
        putFigure(v, "fig2_alignment", align.write(r.out(), "fig2_alignment"));
        return v;
    }

    /** Fig. 2's per-point numbers of one network: clean and adversarial spectra (the latter seed 0 only), |cos|. */
    private record Fig2Net(double[][] svClean, double[][] svAdv, double[][] cos) {
    }

    /** One step of a progress shared by workers. */
    private static void step(Progress progress, String net) {
        synchronized (progress) {
            progress.field("net", net).advance(1);
        }
    }

    /** Fig. 4: deviation from linearity and sigma_max(J_phi(x + z)) against ||z||_2, random and adversarial z. */
    static Map<String, String> fig4(Reproduction r) throws IOException {
        Dataset pts = r.pointSet();
        Tensor x = pts.images();
        double eps = r.eps();
        double[] norms = r.radii(eps);
        int mid = (norms.length - 1) / 2;
        Map<String, String> v = new LinkedHashMap<>();
        String where = pts.size() + " test points; z = t d, d a unit l2 direction per point (uniform random, or the "
                + "direction of the l2 PGA perturbation at eps_train against the network). Mean and standard error "
                + "over the points.";
        Figure[] figs = new Figure[4];
        String[] kinds = {"random", "adversarial"};
        for (int k = 0; k < 2; k++) {
            figs[k] = new Figure("Fig. 4 left: deviation from linearity, " + kinds[k] + " z", "norm",
                    "||z||_2", "deviation", "||phi(x+z) - phi(x) - J z||_2").marker(eps, "eps_train")
                    .caption("Deviation of the penultimate features from their linearization at x; " + where);
            figs[2 + k] = new Figure("Fig. 4 right: sigma_max(J_phi(x + z)), " + kinds[k] + " z", "norm", "||z||_2",
                    "sigma_max", "sigma_max(J_phi(x + z))").marker(eps, "eps_train")
                    .caption("Largest singular value of the features' Jacobian along z (power method, "
                            + r.profile().powerIterations() + " iterations); " + where);
        }
        Tensor random = Directions.randomUnit(x.shape, r.seed(), 0);
        Progress progress = Progress.start("fig4", METHODS.size() * 5L, "step", r.log());
        // one job per network and direction (the adversarial one attacks first), spread over the workers; the
        // values are then stored in the order of the serial loop
        int jobs = METHODS.size() * 2;
        List<double[][][]> curves = r.workers().map(jobs, r.kernels(), (i, kernels) -> {
            String m = METHODS.get(i / 2);
            int k = i % 2;
            try {
                Sequential model = r.model(m, 0, kernels);
                Tensor d = random;
                if (k == 1) {
                    d = Directions.unitDifference(r.adversarial(model, pts), x);
                    step(progress, m);
                }
                double[][] dev = Linearity.deviationCurve(model, Cnn7.FEATURES, x, d, norms);
                step(progress, m);
                double[][] sig = Linearity.sigmaMaxCurve(model, Cnn7.FEATURES, x, d, norms, r.powerOptions());
                step(progress, m);
                return new double[][][]{dev, sig};
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        for (int i = 0; i < jobs; i++) {
            String m = METHODS.get(i / 2);
            int k = i % 2;
            double[][] dev = curves.get(i)[0], sig = curves.get(i)[1];
            addCurve(figs[k].series(m), norms, dev);
            addCurve(figs[2 + k].series(m), norms, sig);
            String tag = k == 0 ? "rand_" : "adv_";
            v.put("dev_" + tag + m, num(Reproduction.column(dev, mid).mean()));
            v.put("sigma_" + tag + m, num(Reproduction.column(sig, mid).mean()));
            if (k == 1) {
                v.put("dev_adv_points_" + m, Reproduction.nums(column(dev, mid)));
                v.put("sigma_adv_points_" + m, Reproduction.nums(column(sig, mid)));
            }
            v.put("sigma0_" + m, num(Reproduction.column(sig, 0).mean()));
        }
        progress.finish();
        String[] names = {"fig4_linearity_random", "fig4_linearity_adversarial", "fig4_sigma_random",
                "fig4_sigma_adversarial"};
        for (int k = 0; k < 4; k++) {
            putFigure(v, names[k], figs[k].write(r.out(), names[k]));
        }
        return v;
    }

    /** Fig. 5: fraction of shared ReLU states under uniform l2-ball noise, near test points and at random inputs. */
    static Map<String, String> fig5(Reproduction r) throws IOException {
        Dataset pts = r.pointSet();
        Tensor x = pts.images();
        double eps = r.eps();
        double[] radii = r.radii(eps);
        int mid = (radii.length - 1) / 2;
        int samples = r.profile().noiseSamples();
        Tensor rand = SharedActivations.randomInputs(x.shape, Domain.SYMMETRIC, r.seed() + 1, 0);
        Map<String, String> v = new LinkedHashMap<>();
        Figure[] figs = new Figure[2];
        String[] where = {"near " + pts.size() + " test points", "at " + pts.size() + " uniformly random inputs in "
                + "[-1, 1]^n"};
        for (int k = 0; k < 2; k++) {
            figs[k] = new Figure("Fig. 5: shared activations " + where[k].replaceAll(" [0-9]+ ", " "), "eps",
                    "noise radius (l2 ball)", "shared", "fraction of shared ReLU states").yRange(0, 1)
                    .marker(eps, "eps_train").caption("Fraction of ReLU units with the same on/off state at x + z as "
                            + "at x, z uniform in the l2 ball of the radius, " + samples + " draws per point, "
                            + where[k] + "; mean and standard error over the points.");
        }
        Progress progress = Progress.start("fig5", METHODS.size() * 2L, "curve", r.log());
        for (String m : METHODS) {
            Sequential model = r.model(m);
            progress.field("net", m);
            for (int k = 0; k < 2; k++) {
                double[][] c = SharedActivations.curve(model, k == 0 ? x : rand, 2, radii, samples, r.seed(), 0);
                addCurve(figs[k].series(m), radii, c);
                v.put((k == 0 ? "shared_near_" : "shared_random_") + m, num(Reproduction.column(c, mid).mean()));
                v.put((k == 0 ? "shared_near_points_" : "shared_random_points_") + m,
                        Reproduction.nums(column(c, mid)));
                progress.advance(1);
            }
        }
        progress.finish();
        putFigure(v, "fig5_shared_near_data", figs[0].write(r.out(), "fig5_shared_near_data"));
        putFigure(v, "fig5_shared_random_inputs", figs[1].write(r.out(), "fig5_shared_random_inputs"));
        return v;
    }

    /** Fig. 7: clean and l2-robust accuracy along the AT (t = 1) to d.d. SNR (t = 0) interpolation. */
    static Map<String, String> fig7(Reproduction r) throws IOException {
        Dataset curve = r.curveSet();
        double eps = r.eps();
        List<double[]> ts = new ArrayList<>();
        List<String> nets = new ArrayList<>();
        nets.add("dd-snr");
        ts.add(new double[]{0});
        for (double t : r.profile().interpolation()) {
            nets.add(Reproduction.interpolationName(t));
            ts.add(new double[]{t});
        }
        nets.add("at");
        ts.add(new double[]{1});
        Figure f = new Figure("Fig. 7: AT <-> d.d. SNR interpolation", "t", "t (1 = AT, 0 = d.d. SNR)", "accuracy",
                "test accuracy").yRange(0, 1).caption("Objective CE + t CE(x*) + (1 - t) lambda_SNR d.d. SNR (sum of "
                + "squares), lambda_SNR = " + r.store().values("train-dd-snr").get("lambda") + "; t = 0 and t = 1 are "
                + "the d.d. SNR and AT networks. Robust accuracy under l2 PGA at eps_train = " + Profile.fmt(eps)
                + " on " + curve.size() + " test images; 95 % Wilson intervals.");
        Figure.Series clean = f.series("clean"), robust = f.series("l2 PGA at eps_train");
        Map<String, String> v = new LinkedHashMap<>();
        Progress progress = Progress.start("fig7", nets.size(), "net", r.log());
        for (int i = 0; i < nets.size(); i++) {
            Sequential model = r.model(nets.get(i));
            boolean[] ok = r.clean(model, curve);
            int cleanCorrect = Reproduction.count(ok);
            boolean[] rob = Reproduction.robust(r.workers(), model, curve, r.attack(2, eps), ok);
            int robustCorrect = Reproduction.count(rob);
            double t = ts.get(i)[0];
            clean.add(t, MeanStderr.proportion(cleanCorrect, curve.size()), Estimate.wilson(cleanCorrect, curve.size()));
            robust.add(t, MeanStderr.proportion(robustCorrect, curve.size()),
                    Estimate.wilson(robustCorrect, curve.size()));
            v.put("robust_t" + Profile.fmt(t), num(robustCorrect / (double) curve.size()));
            v.put("clean_t" + Profile.fmt(t), num(cleanCorrect / (double) curve.size()));
            v.put("robust_bits_t" + Profile.fmt(t), Reproduction.bits(rob));
            progress.field("net", nets.get(i)).advance(1);
        }
        progress.finish();
        putFigure(v, "fig7_interpolation", f.write(r.out(), "fig7_interpolation"));
        return v;
    }

    /**
     * Table 2: clean test accuracy of every network (the figure: seed 0's networks with 95 % Wilson intervals).
     * Stored per image: correctness of each network, {@code correct_NET}, and of each further seed's methods.
     */
    static Map<String, String> table2(Reproduction r) throws IOException {
        Dataset table = r.tableSet();
        List<String> nets = new ArrayList<>(METHODS);
        for (double t : r.profile().interpolation()) {
            nets.add(Reproduction.interpolationName(t));
        }
        nets.add(RANDOM);
        int seeds = r.profile().seeds();
        Figure f = new Figure("Table 2: clean test accuracy", "network", "network (0 = " + String.join(", ",
                indexed(nets)) + ")", "accuracy", "clean test accuracy").yRange(0, 1)
                .caption("Clean accuracy (BatchNorm EVAL) on " + table.size() + " test images with the 95 % Wilson "
                        + "interval" + (seeds > 1 ? " (networks of seed 0)" : "") + ". Networks: "
                        + String.join(", ", indexed(nets)) + ".");
        Map<String, String> v = new LinkedHashMap<>();
        Progress progress = Progress.start("table2", nets.size() + (long) (seeds - 1) * (METHODS.size() + 1), "net",
                r.log());
        for (int i = 0; i < nets.size(); i++) {
            boolean[] ok = r.clean(r.model(nets.get(i), 0), table);
            int correct = Reproduction.count(ok);
            f.series(nets.get(i)).add(i, MeanStderr.proportion(correct, table.size()),
                    Estimate.wilson(correct, table.size()));
            v.put("acc_" + nets.get(i), num(correct / (double) table.size()));
            v.put("correct_" + nets.get(i), Reproduction.bits(ok));
            progress.field("net", nets.get(i)).advance(1);
        }
        for (int k = 1; k < seeds; k++) {
            List<String> again = new ArrayList<>(METHODS);
            again.add(RANDOM);
            for (String m : again) {
                v.put("correct_" + m + sfx(k), Reproduction.bits(r.clean(r.model(m, k), table)));
                progress.field("net", Reproduction.seedName(m, k)).advance(1);
            }
        }
        progress.finish();
        putFigure(v, "table2_clean_accuracy", f.write(r.out(), "table2_clean_accuracy"));
        return v;
    }

    private static List<String> indexed(List<String> names) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            out.add(i + " " + names.get(i));
        }
        return out;
    }

    /** Adds mean +- stderr over points of [point][rank] at x = rank (1-based). */
    private static void addCurve(Figure.Series s, double[][] perPoint) {
        int len = perPoint[0].length;
        for (double[] p : perPoint) {
            len = Math.min(len, p.length);
        }
        for (int k = 0; k < len; k++) {
            s.add(k + 1, Reproduction.column(perPoint, k));
        }
    }

    /** Adds mean +- stderr over points of [point][k] at x = xs[k]. */
    private static void addCurve(Figure.Series s, double[] xs, double[][] perPoint) {
        for (int k = 0; k < xs.length; k++) {
            s.add(xs[k], Reproduction.column(perPoint, k));
        }
    }

    /** Column k of per-point values [point][k]. */
    static double[] column(double[][] perPoint, int k) {
        double[] c = new double[perPoint.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = perPoint[i][k];
        }
        return c;
    }

    /** Mean over points and over ranks [from, to) of [point][rank]. */
    private static double meanOver(double[][] perPoint, int from, int to) {
        double sum = 0;
        int n = 0;
        for (double[] p : perPoint) {
            for (int k = from; k < Math.min(to, p.length); k++) {
                sum += p[k];
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
