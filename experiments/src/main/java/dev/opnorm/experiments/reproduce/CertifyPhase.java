package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.report.Estimate;
import dev.opnorm.experiments.report.Figure;
import dev.opnorm.experiments.report.MeanStderr;
import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.util.Progress;
import dev.opnorm.robust.certify.Certifier;
import dev.opnorm.robust.reg.GlobalSpectralNorm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.opnorm.experiments.reproduce.Reproduction.METHODS;
import static dev.opnorm.experiments.reproduce.Reproduction.num;
import static dev.opnorm.experiments.reproduce.Reproduction.putFigure;

/**
 * The certify phase of a {@link Reproduction}: how much of each trained network's robustness can be proved, on the
 * first {@link Profile#certifyImages()} curve images (the same for every network), over l2 balls of the radii
 * {@link Profile#certifyEps()} and eps_train, with {@link Certifier} (the logits' Jacobian (2,2) norm, interval
 * or linear bounds by {@link Profile#certifyBounds()}, inputs clipped to the data domain).
 * <ul>
 *   <li>Certified accuracy: an image counts at eps when the network classifies it correctly and the label's
 *       margins provably stay positive over the ball, at this radius and every smaller one of the grid (the
 *       radii are tried in increasing order and an image's first failure ends its list: a sound certificate at a
 *       larger radius would also hold at the smaller ones, so this only under-counts, and saves the propagation
 *       of every larger ball). 95 % Wilson interval over the images.</li>
 *   <li>Beside it the PGA robust accuracy on the same images at the same radius: at eps_train Fig. 3's stored
 *       per-image results (the first images of its curve set are these), below it l2 PGA run here, an image
 *       broken at a smaller radius counting as broken (certified.csv's pga_source says which). A certified image
 *       that PGA breaks would be a wrong bound: the phase logs and counts such images
 *       ({@code certified_not_robust}, 0 when the bounds are sound; the report shows the count).</li>
 *   <li>Brackets on sup ||J_f(x')||_{2,2} over the ball for the first {@link Profile#certifyBracketImages()}
 *       images at every radius of the profile's grid (not eps_train, where the interval bound is useless): the
 *       upper bound of the ball's propagation (made non-increasing as eps shrinks),
 *       the lower bound ||J_f(x)|| of the point bracket (x lies in every ball), their ratio (at eps 0 it may fall
 *       below 1 by float rounding: the upper bound is for the network in exact arithmetic, the lower for the float
 *       network the kernels compute); and the upper bound
 *       over the global bound, the product of the layers' l2 operator norms (convolutions as maps on the shapes
 *       they see, power iteration as for global SNR) and of each BatchNorm's largest scale (ReLU and 2x2 max
 *       pooling are 1-Lipschitz in l2): where the ratio passes 1 the ball bound says less than the global one.</li>
 * </ul>
 * The images are spread over {@link Reproduction#threads()} threads, one {@link Certifier} each (a propagation is
 * single-threaded); the numbers do not depend on the thread count.
 * The paper makes no claim about certification, so nothing here is a claim: the report shows it as a measurement.
 */
final class CertifyPhase {
    /** Per method and radius: certified and PGA robust accuracy with the interval. */
    static final String CSV = "certified.csv";
    /** Per method, bracket image and radius: the ball bracket and its upper bound over the global bound. */
    static final String BRACKET_CSV = "certify-bracket.csv";
    /** The figure (its own CSV is FIGURE.csv). */
    static final String FIGURE = "certified-accuracy";
    /** The bracket width figure. */
    static final String BRACKET_FIGURE = "certify-bracket-width";
    static final String CSV_HEADER = "method,eps,certified,n,wilson_lo,wilson_hi,pga_robust,pga_source,bound";
    static final String BRACKET_HEADER = "method,image,eps,lower,upper,upper_over_lower,global_bound,"
            + "upper_over_global";
    /** Power steps per layer for the global bound's layer norms (converged for these layer sizes). */
    static final int GLOBAL_POWER_STEPS = 50;

    private CertifyPhase() {
    }

    /** The radii of the phase: the profile's, then eps_train when it is larger than all of them. */
    static double[] radii(Profile p, double epsTrain) {
        double[] g = p.certifyEps();
        if (epsTrain <= g[g.length - 1]) {
            return g.clone();
        }
        double[] r = Arrays.copyOf(g, g.length + 1);
        r[g.length] = epsTrain;
        return r;
    }

    static Map<String, String> run(Reproduction r) throws IOException {
        Profile p = r.profile();
        Dataset curve = r.curveSet();
        int n = Math.min(p.certifyImages(), curve.size());
        int brackets = Math.min(p.certifyBracketImages(), n);
        Dataset imgs = curve.slice(0, n);
        double epsTrain = r.eps();
        double[] eps = radii(p, epsTrain);
        int drawn = p.certifyEps().length;
        String bound = p.certifyBounds();
        Map<String, String> fig3 = r.store().values("fig3");
        Map<String, String> v = new LinkedHashMap<>();
        StringBuilder csv = new StringBuilder(CSV_HEADER).append('\n');
        StringBuilder bcsv = new StringBuilder(BRACKET_HEADER).append('\n');
        Figure f = new Figure("Certified accuracy under l2 balls", "eps", "eps (l2 radius, inputs in [-1, 1])",
                "certified", "certified accuracy").yRange(0, 1).errorStyle(Figure.ErrorStyle.BAND)
                .caption("Fraction of " + n + " test images (the first of the curve images, the same for every "
                        + "network) classified correctly and certified robust over the l2 ball by " + bound
                        + " bounds (margins of the logits, BatchNorm EVAL, inputs clipped to [-1, 1]), with 95 % "
                        + "Wilson intervals as bands; an image counts at a radius when it is certified there and at "
                        + "every smaller one. Radii up to " + Profile.fmt(eps[drawn - 1]) + " drawn; certified.csv "
                        + "adds eps_train = " + Profile.fmt(epsTrain) + " and the PGA robust accuracy of the same "
                        + "images at every radius.");
        Figure bf = new Figure("Ball bracket width on sup ||J_f||_{2,2}", "eps", "eps (l2 radius)",
                "upper_over_lower", "upper / lower bound").logY(true).caption("Upper over lower bound on the "
                + "largest (2,2) norm of the logits' Jacobian over the l2 ball (" + bound + " bounds; lower: "
                + "||J_f(x)||, x lies in every ball), mean and standard error over " + brackets + " image(s) at the "
                + "radii of the profile's grid (" + Arrays.stream(p.certifyEps()).mapToObj(Profile::fmt)
                .collect(java.util.stream.Collectors.joining(", ")) + "; "
                + "certify-bracket.csv adds the upper bound over the global one).");
        int unsound = 0;
        int threads = Math.max(1, Math.min(r.threads(), n));
        ExecutorService pool = Executors.newFixedThreadPool(threads, task -> {
            Thread t = new Thread(task, "certify");
            t.setDaemon(true);
            return t;
        });
        Progress progress = Progress.start("certify", (long) METHODS.size() * n, "img", r.log());
        try {
            // every network's images go to the pool at once, so a thread that is done with one network's images
            // goes on with the next network's instead of waiting for the other thread's last image
            List<Sequential> models = new ArrayList<>();
            List<boolean[]> cleans = new ArrayList<>();
            List<List<Future<ImageResult>>> pending = new ArrayList<>();
            for (String m : METHODS) {
                Sequential model = r.model(m);
                boolean[] clean = Reproduction.correct(model, imgs);
                models.add(model);
                cleans.add(clean);
                pending.add(submitAll(pool, model, imgs, clean, eps, brackets, p, r.seed()));
            }
            for (int mi = 0; mi < METHODS.size(); mi++) {
                String m = METHODS.get(mi);
                Sequential model = models.get(mi);
                boolean[] clean = cleans.get(mi);
                List<ImageResult> res = collect(pending.get(mi), model, imgs, brackets, p, r.seed(),
                        () -> progress.field("net", m).advance(1));
                boolean[][] cert = new boolean[eps.length][n];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < eps.length; j++) {
                        cert[j][i] = res.get(i).certified()[j];
                    }
                }
                boolean[][] pga = pgaRobust(r, model, imgs, eps, epsTrain, clean, fig3.get("robust_l2_" + m));
                double global = globalBound(model, imgs.images().shape.withBatch(1), r.seed());
                v.put("global_bound_" + m, num(global));
                for (int j = 0; j < eps.length; j++) {
                    int k = Reproduction.count(cert[j]);
                    for (int i = 0; i < n; i++) {
                        if (cert[j][i] && !pga[j][i]) {
                            unsound++;
                            r.log().printf(Locale.ROOT, "[reproduce] certify: %s image %d is certified at l2 eps %s "
                                    + "but PGA breaks it: a bound is wrong%n", m, i, Profile.fmt(eps[j]));
                        }
                    }
                    Estimate w = Estimate.wilson(k, n);
                    double robust = Reproduction.count(pga[j]) / (double) n;
                    csv.append(m).append(',').append(eps[j]).append(',').append(k / (double) n).append(',')
                            .append(n).append(',').append(w.low()).append(',').append(w.high()).append(',')
                            .append(robust).append(',').append(pgaSource(eps[j], epsTrain, fig3.get("robust_l2_" + m),
                                    n)).append(',').append(bound).append('\n');
                    if (j < drawn) {
                        f.series(m).add(eps[j], MeanStderr.proportion(k, n), w);
                    }
                    String key = m + "_" + Profile.fmt(eps[j]);
                    v.put("certified_" + key, num(k / (double) n));
                    v.put("pga_robust_" + key, num(robust));
                    v.put("certified_bits_" + key, Reproduction.bits(cert[j]));
                }
                if (brackets > 0) {
                    double[] grid = p.certifyEps();
                    double[][] width = new double[brackets][drawn];
                    double[][] overGlobal = new double[brackets][drawn];
                    for (int i = 0; i < brackets; i++) {
                        ImageResult b = res.get(i);
                        double[] up = Certifier.monotoneUppers(grid, b.upper());
                        for (int j = 0; j < drawn; j++) {
                            width[i][j] = up[j] / b.lower();
                            overGlobal[i][j] = up[j] / global;
                            bcsv.append(m).append(',').append(i).append(',').append(grid[j]).append(',')
                                    .append(b.lower()).append(',').append(up[j]).append(',').append(width[i][j])
                                    .append(',').append(global).append(',').append(overGlobal[i][j]).append('\n');
                        }
                    }
                    for (int j = 0; j < drawn; j++) {
                        bf.series(m).add(grid[j], Reproduction.column(width, j));
                        String key = m + "_" + Profile.fmt(grid[j]);
                        v.put("bracket_width_" + key, num(Reproduction.column(width, j).mean()));
                        v.put("upper_over_global_" + key, num(Reproduction.column(overGlobal, j).mean()));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        progress.finish();
        v.put("images", String.valueOf(n));
        v.put("bracket_images", String.valueOf(brackets));
        v.put("eps", Reproduction.nums(eps));
        v.put("bound", bound);
        v.put("settings", settings(p));
        v.put("certified_not_robust", String.valueOf(unsound));
        RunManifest.AtomicFiles.writeString(r.out().resolve(CSV), csv.toString());
        RunManifest.AtomicFiles.writeString(r.out().resolve(BRACKET_CSV), bcsv.toString());
        putFigure(v, FIGURE, f.write(r.out(), FIGURE));
        if (brackets > 0) {
            putFigure(v, BRACKET_FIGURE, bf.write(r.out(), BRACKET_FIGURE));
        }
        return v;
    }

    /** The profile's certify settings as one line (what the phase ran with). */
    static String settings(Profile p) {
        StringBuilder b = new StringBuilder();
        p.describe().forEach((k, val) -> {
            if (k.startsWith(Profile.CERTIFY_PREFIX)) {
                b.append(b.length() == 0 ? "" : "; ").append(k).append(' ').append(val);
            }
        });
        return b.toString();
    }

    /** Where certified.csv's PGA column comes from at radius e. */
    private static String pgaSource(double e, double epsTrain, String fig3Bits, int n) {
        if (e == 0) {
            return "clean";
        }
        return e == epsTrain && fig3Bits != null && fig3Bits.length() >= n ? "fig3" : "certify";
    }

    /**
     * One image's results: certified at each radius (false from its first failure on), and for a bracket image
     * the lower bound ||J_f(x)|| and the ball upper bound at each radius (else null).
     */
    private record ImageResult(boolean[] certified, double lower, double[] upper) {
    }

    /**
     * Every image's certification and brackets, submitted to the pool (one {@link Certifier} per thread and network:
     * its propagations touch only the network's weights; the answers do not depend on the thread count or on which
     * thread takes an image).
     */
    private static List<Future<ImageResult>> submitAll(ExecutorService pool, Sequential model, Dataset imgs,
            boolean[] clean, double[] eps, int brackets, Profile p, long seed) {
        int drawn = p.certifyEps().length;
        Shape one = imgs.images().shape.withBatch(1);
        int per = one.size();
        Certifier.Options opt = options(p, seed);
        ThreadLocal<Certifier> certifiers = ThreadLocal.withInitial(() -> new Certifier(model, one, 2, 2, opt));
        List<Future<ImageResult>> futures = new ArrayList<>();
        for (int i = 0; i < imgs.size(); i++) {
            float[] x = Arrays.copyOfRange(imgs.images().data, i * per, (i + 1) * per);
            int y = imgs.labels()[i];
            boolean bracket = i < brackets, ok = clean[i];
            futures.add(pool.submit(() -> image(certifiers.get(), x, y, ok, bracket, eps, drawn)));
        }
        return futures;
    }

    private static Certifier.Options options(Profile p, long seed) {
        return Certifier.Options.defaults(2).withDomain(Domain.SYMMETRIC.low(), Domain.SYMMETRIC.high())
                .withSearch(0, 0).withSeed(seed).withLinear(p.certifyBounds().equals("linear"));
    }

    /**
     * The results of {@link #submitAll} in image order. The point brackets' lower bounds (the network's Jacobian
     * through the engine's kernels) are computed here, on the calling thread.
     */
    private static List<ImageResult> collect(List<Future<ImageResult>> futures, Sequential model, Dataset imgs,
            int brackets, Profile p, long seed, Runnable done) throws IOException {
        Shape one = imgs.images().shape.withBatch(1);
        int per = one.size();
        Certifier here = new Certifier(model, one, 2, 2, options(p, seed));
        List<ImageResult> out = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++) {
            ImageResult res;
            try {
                res = futures.get(i).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("certify: interrupted", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException(e.getCause());
            }
            if (i < brackets) {
                float[] x = Arrays.copyOfRange(imgs.images().data, i * per, (i + 1) * per);
                res = new ImageResult(res.certified(), here.point(x).lower(), res.upper());
            }
            out.add(res);
            done.run();
        }
        return out;
    }

    /**
     * One image: the propagation at x, then the balls in increasing order while the image is still certified, and
     * for a bracket image every ball of the profile's grid (the ball upper bounds; once the image is no longer
     * certified without the label's margin rows, which halves the rows pulled back).
     */
    private static ImageResult image(Certifier c, float[] x, int y, boolean clean, boolean bracket, double[] eps,
            int drawn) {
        boolean[] cert = new boolean[eps.length];
        double[] upper = bracket ? new double[drawn] : null;
        if (!clean && !bracket) {
            return new ImageResult(cert, Double.NaN, null);
        }
        Certifier.Propagation atX = c.propagate(x, 0, y);
        boolean alive = clean && c.certify(x, y, 0, atX, atX).certified();
        cert[0] = alive;
        if (bracket) {
            upper[0] = c.upper(atX.jacobian()).value();
        }
        for (int j = 1; j < eps.length; j++) {
            boolean up = bracket && j < drawn;
            if (!alive && !up) {
                break;
            }
            Certifier.Propagation over = c.propagate(x, eps[j], alive ? y : -1);
            if (alive) {
                alive = c.certify(x, y, eps[j], atX, over).certified();
                cert[j] = alive;
            }
            if (up) {
                upper[j] = c.upper(over.jacobian()).value();
            }
        }
        return new ImageResult(cert, Double.NaN, upper);
    }

    /**
     * Per radius and image: still correct under l2 PGA at this radius and every smaller one. At eps_train Fig. 3's
     * stored result of the same image (when Fig. 3 stored one for this network) and'ed with the radius below;
     * elsewhere the evaluation attack of the figures, on the images still alive.
     */
    private static boolean[][] pgaRobust(Reproduction r, Sequential model, Dataset imgs, double[] eps,
            double epsTrain, boolean[] clean, String fig3Bits) {
        int n = imgs.size();
        boolean[][] ok = new boolean[eps.length][];
        ok[0] = clean.clone();
        for (int j = 1; j < eps.length; j++) {
            if (eps[j] == epsTrain && fig3Bits != null && fig3Bits.length() >= n) {
                ok[j] = new boolean[n];
                for (int i = 0; i < n; i++) {
                    ok[j][i] = ok[j - 1][i] && fig3Bits.charAt(i) == '1';
                }
            } else {
                ok[j] = Reproduction.robust(r.workers(), model, imgs, r.attack(2, eps[j]), ok[j - 1]);
            }
        }
        return ok;
    }

    /**
     * The global bound on ||J_f(x)||_{2,2} for every x: the product of the weight layers' l2 operator norms (power
     * iteration, {@link #GLOBAL_POWER_STEPS} steps, from {@code seed}) and of every BatchNorm's largest factor
     * |gamma_c| / sqrt(var_c + eps) (1 / sqrt(var_c + eps) without affine).
     */
    static double globalBound(Sequential model, Shape one, long seed) {
        GlobalSpectralNorm g = GlobalSpectralNorm.convolution(model, one, 0, 1);
        g.initialize(seed);
        for (int s = 0; s < GLOBAL_POWER_STEPS; s++) {
            g.powerStep();
        }
        double prod = 1;
        for (int i = 0; i < g.layers(); i++) {
            prod *= Math.abs(g.sigma(i));
        }
        for (Layer l : model.chain()) {
            if (l instanceof BatchNorm2d bn) {
                float[] var = bn.runningVar().value;
                double worst = 0;
                for (int ch = 0; ch < var.length; ch++) {
                    double scale = (bn.affine() ? Math.abs(bn.weight().value[ch]) : 1)
                            / Math.sqrt(var[ch] + BatchNorm2d.EPS);
                    worst = Math.max(worst, scale);
                }
                prod *= worst;
            }
        }
        return prod;
    }

    /** The rows of certified.csv as [method -> rows of (eps, certified, n, lo, hi, pga)], for tests and the report. */
    static Map<String, List<double[]>> read(java.nio.file.Path csv) throws IOException {
        List<String> lines = java.nio.file.Files.readAllLines(csv);
        if (lines.isEmpty() || !lines.get(0).equals(CSV_HEADER)) {
            throw new IllegalStateException(csv + ": the first line is not the header " + CSV_HEADER);
        }
        Map<String, List<double[]>> m = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",");
            if (c.length != 9) {
                throw new IllegalStateException(csv + ": row '" + line + "' has " + c.length + " columns, not 9");
            }
            double[] row = new double[6];
            for (int k = 0; k < 6; k++) {
                row[k] = Double.parseDouble(c[k + 1]);
            }
            m.computeIfAbsent(c[0], k -> new ArrayList<>()).add(row);
        }
        return m;
    }
}
