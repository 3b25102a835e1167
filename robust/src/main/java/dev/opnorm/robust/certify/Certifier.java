package dev.opnorm.robust.certify;

import dev.opnorm.linalg.Jacobians;
import dev.opnorm.linalg.LinearMap;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.Projections;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.bounds.Backsub;
import dev.opnorm.nn.bounds.Zonotope;
import dev.opnorm.nn.bounds.ZonotopeSlot;
import dev.opnorm.nn.bounds.BoundRule;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.bounds.IntervalRows;
import dev.opnorm.nn.bounds.Intervals;
import dev.opnorm.nn.bounds.LinearRows;
import dev.opnorm.nn.bounds.Outward;
import dev.opnorm.nn.bounds.RowWindow;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.BallSampling;
import org.ejml.data.DMatrixRMaj;

/**
 * Certified brackets for ||J_f(x)||_{p,q}, the Jacobian of a network's logits with respect to its
 * input (BatchNorm in EVAL mode), at a point and over the ball B_r(x, eps) = {x' : ||x' - x||_r &lt;= eps}
 * intersected with the input domain, and certified robustness at x.
 *
 * <p><b>Upper bounds</b> by bound propagation ({@link Layer#bounds()}): the box [x - eps, x + eps] (the
 * smallest box holding the l_r ball for every r, clipped to the domain) goes forward through the layers'
 * interval rules. With {@link Options#linear} (the default) each ReLU of the first {@link
 * Options#tightenLayers} first tightens the bounds of the units the box leaves unstable, and each max
 * pool before them those of the inputs of windows whose selection is open, by linear back-substitution
 * (CROWN / DeepPoly style): the rows +-e_j are pulled back to the input through the earlier layers'
 * linear relaxations ({@link dev.opnorm.nn.bounds.BoundStep#pullLower}) and minimized over the ball
 * exactly for its dual norm
 * (a . x0 - eps ||a||_{r*}) and over the domain box, the best of these and the interval bound kept. That
 * fixes each ReLU's derivative to {0}, {1} or [0,1] and each max-pool window's possible choices; the rows
 * e_1..e_k of the logits' Jacobian then come back as an interval matrix [C - R, C + R]
 * holding J_f(x') for every x' in the box. For any such J, ||J|| &lt;= min(||(|C| + R)||, ||C|| + ||R||)
 * (|J| &lt;= |C| + R entrywise and the norms are monotone on nonnegative matrices; J = C + D with |D| &lt;= R),
 * each norm bounded above by {@link NormBounds#upper}. At eps = 0 the same computation is the point
 * bound of the network in exact arithmetic: R is then the rounding of the double computation, plus
 * every max-pool tie or ReLU kink that rounding cannot resolve (constant image borders make exact ties).
 * {@link #point} is the bracket of the float network's extracted Jacobian.
 *
 * <p>With {@link Options#zonotope} (the default) a zonotope over the ball ({@link Zonotope}: every value as
 * a linear function of the input offset plus a box of errors) goes forward beside the boxes, and each box
 * is intersected with its bounds before the layer's rule sees it; its differences also fix max-pool windows
 * whose candidates' boxes overlap. Interval boxes lose every correlation, so deep in a network they flag most
 * ReLU units as unstable even over tiny balls; the zonotope flags only those near their kink.
 *
 * <p>Cost of the linear bounds ({@link Options#windowed}, the default): only units the box leaves
 * unstable are back-substituted, each row held on the window of values it reaches ({@link
 * dev.opnorm.nn.bounds.RowWindow}: a 3x3 convolution's unit reaches 3x3 positions of the layer below);
 * the rows of the units at one spatial position share their windows and are pulled back together
 * ({@link dev.opnorm.nn.bounds.RowBatch}, vectorized over the rows), batches in parallel. With
 * {@link Options#signsFirst} (the default) a ReLU unit gets one row, on the side its box predicts, which stops
 * at the first layer whose box proves the unit's sign (most units the box leaves unstable are stable), and a
 * max-pool window's likely maximum goes first, the others' rows stopping once below it; both ends in full
 * only where a unit or window stays open. The work grows
 * with depth (each deeper layer has more unstable units, each reaching a larger window), so
 * {@link Options#tightenLayers} can bound it: pre-activations tightened in the first few ReLU layers
 * only (default: all, {@link Options#TIGHTEN}), the later ones keep interval bounds, and the logit and
 * margin rows still back-substituted through every layer (with 0 layers: CROWN-IBP). Rows may also stop at
 * an intermediate layer's box ({@link Options#maxRowSize}), which is much looser on deep networks.
 * Where a network's interval bounds blow up layer by layer (BatchNorm scales, wide convolutions), only
 * tightening the deep layers too ({@link Options#ALL_LAYERS}) certifies more than interval bounds, at a
 * cost that grows with the radius: see BENCHMARKS.md, "Certification cost".
 *
 * <p><b>Lower bounds</b>: ||J_f(x*)|| for points x* of the ball, found by search: x, uniform samples of
 * the ball, then a random-step ascent from the best one with shrinking steps (projected back into the
 * ball and domain). J_f is piecewise constant for ReLU/max-pool networks, so the gradient of its norm is
 * zero almost everywhere and a gradient ascent would not move: the search compares power-iteration
 * values ({@link OperatorNorm}) of the float network. At the best point the float network's Jacobian is
 * extracted and {@link NormBounds#lower} gives the value (exact on the closed-form and enumerable cells).
 * A lower bound is thus about the float network, which differs from the exact-arithmetic one by float
 * rounding: it may exceed an upper bound by that much ({@link Bracket} allows 1e-5 relative).
 *
 * <p><b>Certification</b> of label y at eps: each margin m_j = z_y - z_j must stay positive over the
 * ball. Three sound lower bounds, the largest used: the row e_y - e_j back-substituted to the ball (with
 * {@link Options#linear}; the standard linear certificate), lo(z_y) - hi(z_j) from the logit boxes, and
 * m_j(x) - eps sup ||grad m_j||_{r*} (mean value theorem along the segment from x, which stays in the
 * ball; the gradient bound from pulling the row e_y - e_j back through the same interval rules).
 *
 * <p>Tightness: interval propagation of the Jacobian loses sign information once an entry's sign is
 * uncertain, after which radii grow with |W| rather than W at every layer, so ball uppers are loose by
 * orders of magnitude on deep networks that were not trained for such bounds (a 7-layer CNN trained
 * for two epochs: (inf,1) point bracket tight, ball upper 1e7 times the lower at l_inf eps = 3e-5).
 * Tightened pre-activation bounds (linear back-substitution) leave fewer ReLUs unstable, but the
 * Jacobian itself is still propagated by intervals.
 *
 * <p>Not thread-safe to share while {@link Options#seed} drives the search: one instance per thread.
 */
public final class Certifier {

    /**
     * Settings.
     *
     * @param ballP      norm r of the ball: 1, 2 or inf
     * @param domainLow  smallest input value (the data domain; -inf for none)
     * @param domainHigh largest input value (+inf for none)
     * @param samples    uniform samples of the ball in the lower-bound search
     * @param ascent     random steps of the ascent from the best sample
     * @param power      power-iteration settings for the search
     * @param seed       seed of the samples and steps
     * @param linear     tighten pre-activation, logit and margin bounds by linear back-substitution over
     *                   the ball (false: plain interval propagation over its box)
     * @param windowed   pull the pre-activation rows back one unit at a time on the window of values they
     *                   reach (fast; false: dense batches over whole layers, the reference; same bounds up
     *                   to rounding)
     * @param maxRowSize a windowed row holding more entries than this stops at the layer it has reached and
     *                   is bounded over that layer's box (sound, looser; {@link Integer#MAX_VALUE}: always
     *                   back to the input)
     * @param probeRowSize the cheap first pass of pre-activation bounds stops rows past this many entries,
     *                   and only the units it leaves unstable are bounded in full (0: no first pass)
     * @param tightenLayers pre-activation bounds are tightened by back-substitution at the inputs of the
     *                   first this many ReLU layers (and of the max pools before the last of them); later
     *                   layers keep their interval bounds, and the logit and margin rows are still
     *                   back-substituted through every layer (0: CROWN-IBP; {@link #ALL_LAYERS}: the full
     *                   linear bounds)
     * @param signsFirst  pre-activation rows fix ReLU signs first: one row per stable unit, on the side its
     *                   box predicts, stopped at the first layer whose box proves the sign; both rows in full
     *                   only for units that stay unstable (the same relaxations; looser boxes of stable
     *                   units; see {@link Backsub#signsFirst()}). False: both rows of every unit in full
     * @param zonotope   with {@link #linear}: every layer's box is first intersected with the bounds of a
     *                   zonotope carried through the network alongside ({@link Zonotope}; one forward pass of
     *                   a batch of one image per input value), so back-substitution starts from tighter boxes
     */
    public record Options(double ballP, double domainLow, double domainHigh, int samples, int ascent,
                          OperatorNorm.Options power, long seed, boolean linear, boolean windowed, int maxRowSize,
                          int probeRowSize, int tightenLayers, boolean signsFirst, boolean zonotope) {
        /** Windowed rows, never stopped early, the default first pass and every ReLU layer tightened ({@link #TIGHTEN}). */
        public Options(double ballP, double domainLow, double domainHigh, int samples, int ascent,
                       OperatorNorm.Options power, long seed, boolean linear) {
            this(ballP, domainLow, domainHigh, samples, ascent, power, seed, linear, true, Integer.MAX_VALUE, PROBE,
                    TIGHTEN, SIGNS_FIRST, ZONOTOPE);
        }

        /** The row settings given, pre-activation bounds tightened at every layer (the full linear bounds). */
        public Options(double ballP, double domainLow, double domainHigh, int samples, int ascent,
                       OperatorNorm.Options power, long seed, boolean linear, boolean windowed, int maxRowSize,
                       int probeRowSize) {
            this(ballP, domainLow, domainHigh, samples, ascent, power, seed, linear, windowed, maxRowSize,
                    probeRowSize, ALL_LAYERS, SIGNS_FIRST, ZONOTOPE);
        }

        /** Default entries of the first pass ({@link #probeRowSize}). */
        public static final int PROBE = 0;

        /**
         * Default {@link #signsFirst}: on. On the quick profile's network most units the interval box leaves
         * unstable are stable, and their rows fix the sign a few layers back (BENCHMARKS.md,
         * "Certification cost").
         */
        public static final boolean SIGNS_FIRST = true;

        /**
         * Default {@link #zonotope}: on. Over small balls the zonotope's bounds leave only the units that are
         * really unstable, so few rows are pulled back (BENCHMARKS.md, "Certification cost").
         */
        public static final boolean ZONOTOPE = true;

        /** {@link #tightenLayers} for every layer: the full linear bounds (slow on deep networks). */
        public static final int ALL_LAYERS = Integer.MAX_VALUE;

        /**
         * Default {@link #tightenLayers}: every ReLU layer. On the quick profile's network, tightening
         * fewer leaves the deep layers' interval bounds so wide that nothing certifies beyond l_2 1e-6,
         * while every layer certifies test image 0 up to 1e-3, at some 5-15 s per propagation on 2 cores
         * (see BENCHMARKS.md, "Certification cost"); fewer layers trade tightness for time.
         */
        public static final int TIGHTEN = ALL_LAYERS;

        public Options {
            if (maxRowSize < 1 || probeRowSize < 0 || tightenLayers < 0) {
                throw new IllegalArgumentException("maxRowSize must be >= 1, probeRowSize and tightenLayers >= 0, got "
                        + maxRowSize + ", " + probeRowSize + " and " + tightenLayers);
            }
            if (ballP != 1 && ballP != 2 && ballP != Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("ball norm must be 1, 2 or inf, got " + ballP);
            }
            if (!(domainLow < domainHigh)) {
                throw new IllegalArgumentException("domain [" + domainLow + ", " + domainHigh + "] is empty");
            }
            if (samples < 0 || ascent < 0) {
                throw new IllegalArgumentException("samples and ascent steps must be >= 0, got " + samples + ", " + ascent);
            }
        }

        /**
         * Ball norm r, no domain, 16 samples, 32 ascent steps, 100 power iterations, seed 0, linear bounds
         * (pre-activations tightened in every ReLU layer, {@link #TIGHTEN}).
         */
        public static Options defaults(double ballP) {
            return new Options(ballP, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, 16, 32,
                    OperatorNorm.Options.defaults().withMaxIterations(100).withRelTol(1e-6), 0, true, true,
                    Integer.MAX_VALUE, PROBE, TIGHTEN, SIGNS_FIRST, ZONOTOPE);
        }

        public Options withDomain(double low, double high) {
            return new Options(ballP, low, high, samples, ascent, power, seed, linear, windowed, maxRowSize,
                    probeRowSize, tightenLayers, signsFirst, zonotope);
        }

        public Options withSearch(int samples, int ascent) {
            return new Options(ballP, domainLow, domainHigh, samples, ascent, power, seed, linear, windowed, maxRowSize,
                    probeRowSize, tightenLayers, signsFirst, zonotope);
        }

        public Options withSeed(long s) {
            return new Options(ballP, domainLow, domainHigh, samples, ascent, power, s, linear, windowed, maxRowSize,
                    probeRowSize, tightenLayers, signsFirst, zonotope);
        }

        public Options withLinear(boolean on) {
            return new Options(ballP, domainLow, domainHigh, samples, ascent, power, seed, on, windowed, maxRowSize,
                    probeRowSize, tightenLayers, signsFirst, zonotope);
        }

        /** Windowed rows on or off (off: the dense reference). */
        public Options withWindowed(boolean on) {
            return new Options(ballP, domainLow, domainHigh, samples, ascent, power, seed, linear, on, maxRowSize,
                    probeRowSize, tightenLayers, signsFirst, zonotope);
        }

        /** The first pass of pre-activation bounds stops rows past this many entries (0: no first pass). */
        public Options withProbeRowSize(int entries) {
            return new Options(ballP, domainLow, domainHigh, samples, ascent, power, seed, linear, windowed, maxRowSize,
                    entries, tightenLayers, signsFirst, zonotope);
        }

        /** Windowed rows stop early past this many entries ({@link Integer#MAX_VALUE}: never). */
        public Options withMaxRowSize(int entries) {
            return new Options(ballP, domainLow, domainHigh, samples, ascent, power, seed, linear, windowed, entries,
                    probeRowSize, tightenLayers, signsFirst, zonotope);
        }

        /**
         * Pre-activation bounds tightened by back-substitution in the first {@code layers} ReLU layers only
         * (0: none, CROWN-IBP style; {@link #ALL_LAYERS}: every layer).
         */
        public Options withTightenLayers(int layers) {
            return new Options(ballP, domainLow, domainHigh, samples, ascent, power, seed, linear, windowed, maxRowSize,
                    probeRowSize, layers, signsFirst, zonotope);
        }

        /** Pre-activation rows fix ReLU signs first (true) or both rows of every unit go back in full (false). */
        public Options withSignsFirst(boolean on) {
            return new Options(ballP, domainLow, domainHigh, samples, ascent, power, seed, linear, windowed, maxRowSize,
                    probeRowSize, tightenLayers, on, zonotope);
        }

        /** Pre-activation boxes narrowed by a zonotope over the ball first (true), or not (false: the boxes alone). */
        public Options withZonotope(boolean on) {
            return new Options(ballP, domainLow, domainHigh, samples, ascent, power, seed, linear, windowed, maxRowSize,
                    probeRowSize, tightenLayers, signsFirst, on);
        }
    }

    /**
     * The result of one propagation over the box of B(x, eps).
     *
     * @param logits   bounds on the logits over the box
     * @param jacobian k x n interval matrix holding J_f(x') for every x' in the box
     * @param margins  when a label y was given: (k-1) x n rows bounding grad (z_y - z_j), j != y in order;
     *                 else null
     * @param marginLower when a label was given and {@link Options#linear}: a lower bound on each margin
     *                 z_y - z_j over the ball by linear back-substitution (same order); else null
     */
    public record Propagation(Box logits, IntervalRows jacobian, IntervalRows margins, double[] marginLower) {}

    private final Layer model;
    private final Shape inShape;
    private final double p;
    private final double q;
    private final Options options;
    private final BoundRule rule;

    /**
     * @param model   the network (logits out); every layer must have a {@link Layer#bounds()} rule
     * @param inShape shape of one example, batch 1
     * @throws UnsupportedOperationException when a layer has no interval rule (names it)
     */
    public Certifier(Layer model, Shape inShape, double p, double q, Options options) {
        NormBounds.checkPq(p, q);
        if (inShape.n() != 1) {
            throw new IllegalArgumentException("certifier input shape must have batch 1, got " + inShape);
        }
        this.model = model;
        this.inShape = inShape;
        this.p = p;
        this.q = q;
        this.options = options;
        this.rule = model.bounds();
        model.outputShape(inShape); // fails early, naming the layer, when the shape does not fit
    }

    public double p() {
        return p;
    }

    public double q() {
        return q;
    }

    public Options options() {
        return options;
    }

    /** Bounds over the box of B(x, eps) (eps = 0: the point x); label &lt; 0 for no margin rows. */
    public Propagation propagate(float[] x, double eps, int label) {
        checkInput(x);
        Box box = Box.around(inShape, x, eps, options.domainLow(), options.domainHigh());
        Backsub atInput = ball(x, eps, box);
        BoundStep step = rule.over(box, atInput);
        int k = step.output().size();
        if (label >= k) {
            throw new IllegalArgumentException("label " + label + " out of range for " + k + " logits");
        }
        int rows = label < 0 ? k : 2 * k - 1;
        double[][] g = new double[rows][k];
        for (int i = 0; i < k; i++) {
            g[i][i] = 1;
        }
        for (int j = 0, r = k; label >= 0 && j < k; j++) {
            if (j != label) {
                g[r][label] = 1;
                g[r][j] = -1;
                r++;
            }
        }
        IntervalRows all = step.pullback(IntervalRows.exact(g)); // convolutions take the rows together
        int n = all.cols();
        IntervalRows jac = slice(all, 0, k, n);
        IntervalRows margins = label < 0 ? null : slice(all, k, k - 1, n);
        if (!options.linear()) {
            return new Propagation(step.output(), jac, margins, null);
        }
        // rows +e_i, -e_i (logit bounds), then e_y - e_j (margins), pulled back and minimized over the ball
        double[][] f = new double[2 * k + (label < 0 ? 0 : k - 1)][];
        for (int i = 0; i < k; i++) {
            f[2 * i] = new double[k];
            f[2 * i][i] = 1;
            f[2 * i + 1] = new double[k];
            f[2 * i + 1][i] = -1;
        }
        for (int r = k; r < g.length; r++) {
            f[k + r] = g[r];
        }
        Backsub atOutput = atInput.after(step);
        double[] l;
        if (options.windowed()) { // each row on the windows it reaches (convolutions: centres only), rows in parallel
            Shape outShape = step.output().shape();
            double[] lw = new double[f.length];
            java.util.stream.IntStream.range(0, f.length).parallel().forEach(i -> lw[i] = atOutput.lower(
                    RowWindow.full(outShape, f[i].clone(), f[i].clone(), 0), Integer.MAX_VALUE));
            l = lw;
        } else {
            l = atOutput.lower(LinearRows.exact(f));
        }
        double[] lo = step.output().lo().clone(), hi = step.output().hi().clone();
        for (int i = 0; i < k; i++) {
            lo[i] = Math.max(lo[i], l[2 * i]);
            hi[i] = Math.min(hi[i], -l[2 * i + 1]);
        }
        double[] marginLower = label < 0 ? null : java.util.Arrays.copyOfRange(l, 2 * k, 2 * k + k - 1);
        return new Propagation(new Box(step.output().shape(), lo, hi), jac, margins, marginLower);
    }

    /**
     * The end of back-substitution over B_r(x, eps) intersected with the domain ({@link Backsub#NONE}
     * when {@link Options#linear} is off): what every rule's {@code over} is given at the network input.
     */
    public Backsub backsub(float[] x, double eps) {
        checkInput(x);
        return ball(x, eps, Box.around(inShape, x, eps, options.domainLow(), options.domainHigh()));
    }

    /**
     * Back-substitution ends here: a . x + c (a in interval rows) minimized over B_r(x0, eps) intersected
     * with the domain box {@code box}. Two lower bounds, the larger kept: over the box, sum_j min(a_j lo_j,
     * a_j hi_j) (exact for r = inf, where the box is the ball clipped to the domain), each product and
     * addition rounded down; over the ball, with a = a_c + d, |d| &lt;= a_r: a_c . x0 - eps ||a_c||_{r*}
     * - sum_j a_r,j max(|lo_j|, |hi_j|), the dot product widened by {@link Outward#dotError} and the norms
     * rounded up.
     */
    private Backsub ball(float[] x0, double eps, Box box) {
        if (!options.linear()) {
            return Backsub.NONE;
        }
        double dual = Norms.conjugate(options.ballP());
        boolean boxOnly = options.ballP() == Double.POSITIVE_INFINITY;
        Backsub dense = f -> {
            IntervalRows a = f.coef();
            int n = a.cols();
            double[] out = new double[a.rows()];
            double[] ac = new double[n];
            for (int i = 0; i < a.rows(); i++) {
                double byBox = 0, dot = 0, abs = 0, spread = 0;
                for (int j = 0, q = i * n; j < n; j++, q++) {
                    double al = a.lo()[q], ah = a.hi()[q];
                    if (al == 0 && ah == 0) {
                        ac[j] = 0;
                        continue;
                    }
                    byBox = Intervals.sumDown(byBox, Outward.mulLo(al, ah, box.lo()[j], box.hi()[j]));
                    if (!boxOnly) {
                        double c = Outward.centre(al, ah), r = Outward.radius(al, ah, c);
                        ac[j] = c;
                        dot += c * x0[j];
                        abs += Math.abs(c * x0[j]);
                        if (r > 0) {
                            spread = Outward.addUp(spread, Outward.mulUp(r, Math.max(Math.abs(box.lo()[j]),
                                    Math.abs(box.hi()[j]))));
                        }
                    }
                }
                double best = byBox;
                if (!boxOnly) {
                    double centre = Math.nextDown(dot - Outward.dotError(n, abs));
                    double byBall = Outward.addDown(Outward.addDown(centre, -Outward.mulUp(eps, NormBounds.lpUp(ac, dual))),
                            -spread);
                    best = Math.max(byBox, byBall);
                }
                out[i] = Intervals.sumDown(best, f.c()[i]);
            }
            return out;
        };
        ZonotopeSlot slot = new ZonotopeSlot(options.zonotope() ? Zonotope.ball(inShape, x0, eps, options.ballP(), box) : null);
        return new Backsub() {
            @Override
            public double[] lower(LinearRows f) {
                return dense.lower(f);
            }

            @Override
            public ZonotopeSlot slot() {
                return slot;
            }

            /** As the dense rows, over the window's entries only (the rest are zero). */
            @Override
            public double lower(RowWindow f, int max) {
                double byBox = f.lowerOver(box);
                if (boxOnly) {
                    return byBox;
                }
                double[] ac = new double[f.size()];
                double dot = 0, abs = 0, spread = 0;
                for (int ch = 0, q = 0; ch < f.c(); ch++) {
                    for (int y = f.y0(); y <= f.y1(); y++) {
                        for (int x = f.x0(), j = f.global(ch, y, x); x <= f.x1(); x++, j++, q++) {
                            double al = f.lo()[q], ah = f.hi()[q];
                            if (al == 0 && ah == 0) {
                                continue;
                            }
                            double c = Outward.centre(al, ah), r = Outward.radius(al, ah, c);
                            ac[q] = c;
                            dot += c * x0[j];
                            abs += Math.abs(c * x0[j]);
                            if (r > 0) {
                                spread = Outward.addUp(spread, Outward.mulUp(r, Math.max(Math.abs(box.lo()[j]),
                                        Math.abs(box.hi()[j]))));
                            }
                        }
                    }
                }
                double centre = Math.nextDown(dot - Outward.dotError(f.size(), abs));
                double byBall = Outward.addDown(Outward.addDown(centre, -Outward.mulUp(eps, NormBounds.lpUp(ac, dual))),
                        -spread);
                return Math.max(byBox, Intervals.sumDown(byBall, f.k()));
            }

            @Override
            public boolean windowed() {
                return options.windowed();
            }

            @Override
            public int maxRowSize() {
                return options.maxRowSize();
            }

            @Override
            public int probeRowSize() {
                return options.probeRowSize();
            }

            @Override
            public int tightenLayers() {
                return options.tightenLayers();
            }

            @Override
            public boolean signsFirst() {
                return options.signsFirst();
            }
        };
    }

    /**
     * The interval rows g pulled back through the step, one row per task, rows in parallel: every rule
     * pulls each row back on its own, so this is {@code step.pullback(IntervalRows.exact(g))} bit for bit
     * (what {@link #propagate} uses: the convolutions' batched form is faster; this is its reference).
     */
    static IntervalRows pullbackRows(BoundStep step, double[][] g) {
        IntervalRows[] one = new IntervalRows[g.length];
        java.util.stream.IntStream.range(0, g.length).parallel()
                .forEach(i -> one[i] = step.pullback(IntervalRows.exact(new double[][]{g[i]})));
        int n = one.length == 0 ? 0 : one[0].cols();
        double[] lo = new double[g.length * n], hi = new double[lo.length];
        for (int i = 0; i < g.length; i++) {
            System.arraycopy(one[i].lo(), 0, lo, i * n, n);
            System.arraycopy(one[i].hi(), 0, hi, i * n, n);
        }
        return new IntervalRows(g.length, n, lo, hi);
    }

    private static IntervalRows slice(IntervalRows a, int from, int rows, int n) {
        double[] lo = new double[rows * n], hi = new double[rows * n];
        System.arraycopy(a.lo(), from * n, lo, 0, rows * n);
        System.arraycopy(a.hi(), from * n, hi, 0, rows * n);
        return new IntervalRows(rows, n, lo, hi);
    }

    /** An upper bound on ||J|| over every J in the interval matrix (see the class comment). */
    public NormBounds.Bound upper(IntervalRows j) {
        int n = j.lo().length;
        double[] c = new double[n], r = new double[n], m = new double[n];
        Intervals.split(j.lo(), j.hi(), c, r);
        for (int t = 0; t < n; t++) {
            m[t] = Outward.addUp(Math.abs(c[t]), r[t]);
        }
        NormBounds.Bound viaM = NormBounds.upper(new NormBounds.Dense(j.rows(), j.cols(), m), p, q);
        NormBounds.Bound viaC = NormBounds.upper(new NormBounds.Dense(j.rows(), j.cols(), c), p, q);
        double radius = NormBounds.upper(new NormBounds.Dense(j.rows(), j.cols(), r), p, q).value();
        double split = Outward.addUp(viaC.value(), radius);
        return split <= viaM.value()
                ? new NormBounds.Bound(split, "||C|| + ||R||, ||C||: " + viaC.method())
                : new NormBounds.Bound(viaM.value(), "|| |C| + R ||: " + viaM.method());
    }

    /**
     * The float network's Jacobian at x (BatchNorm EVAL), extracted with one VJP per logit and held
     * exactly in double: the matrix the point bracket and the lower bounds are about.
     */
    public NormBounds.Dense jacobianAt(float[] x) {
        checkInput(x);
        LinearMap map = model.linearize(new Tensor(inShape, x.clone()), BnMode.EVAL).asLinearMap(0);
        DMatrixRMaj j = Jacobians.extract(map);
        return new NormBounds.Dense(j.numRows, j.numCols, j.data.clone());
    }

    /**
     * The bracket at x on ||J_f(x)||_{p,q} for the float network's extracted Jacobian: {@link NormBounds}
     * on that dense matrix, its own rounding bounded (exact cells: zero width up to rounding; (2,2):
     * sigma_max by Gram iteration; (inf,2): the gap of the bound). The bound for the network in exact
     * arithmetic, which also covers max-pool ties and ReLU kinks within rounding, is {@code ball(x, 0)}'s
     * upper.
     */
    public Bracket point(float[] x) {
        OperatorNorm.Result est = estimate(x);
        NormBounds.Dense j = jacobianAt(x);
        NormBounds.Bound lo = NormBounds.lower(j, p, q, toDouble(est.v()));
        NormBounds.Bound up = NormBounds.upper(j, p, q);
        return new Bracket(lo.value(), up.value(), est.value(), lo.method(), up.method(), x.clone());
    }

    /**
     * The bracket over B(x, eps): lower &lt;= sup_{x' in ball} ||J_f(x')||_{p,q} &lt;= upper. The upper bound
     * is the interval one (at eps = 0 it bounds every Jacobian the network can have at x when max-pool
     * ties or ReLU kinks cannot be resolved within rounding, so it may exceed {@link #point}'s upper, never
     * fall below it but for float rounding); the lower bound is {@link #point}'s lower at the best point found.
     */
    public Bracket ball(float[] x, double eps) {
        return ball(x, eps, propagate(x, eps, -1));
    }

    /** As {@link #ball(float[], double)}, reusing a propagation of the same x and eps (any label rows). */
    public Bracket ball(float[] x, double eps, Propagation over) {
        NormBounds.Bound up = upper(over.jacobian());
        float[] best = x;
        OperatorNorm.Result estX = estimate(x), bestEst = estX;
        if (eps > 0) {
            Rng rng = new Rng(options.seed());
            float[] cand = new float[x.length];
            for (int s = 0; s < options.samples(); s++) {
                BallSampling.uniform(options.ballP(), eps, x.length, rng, cand, 0);
                for (int i = 0; i < x.length; i++) {
                    cand[i] += x[i];
                }
                OperatorNorm.Result r = tryPoint(x, eps, cand);
                if (r != null && r.value() > bestEst.value()) {
                    bestEst = r;
                    best = cand.clone();
                }
            }
            double step = eps / 2;
            for (int s = 0; s < options.ascent(); s++) {
                BallSampling.uniform(options.ballP(), step, x.length, rng, cand, 0);
                for (int i = 0; i < x.length; i++) {
                    cand[i] += best[i];
                }
                OperatorNorm.Result r = tryPoint(x, eps, cand);
                if (r != null && r.value() > bestEst.value()) {
                    bestEst = r;
                    best = cand.clone();
                } else if (s % 4 == 3) {
                    step /= 2; // no progress at this scale: look closer
                }
            }
        }
        NormBounds.Bound lo = NormBounds.lower(jacobianAt(best), p, q, toDouble(bestEst.v()));
        if (best != x) { // the search moved: x itself may still give the better bound on the exact cells
            NormBounds.Bound atX = NormBounds.lower(jacobianAt(x), p, q, toDouble(estX.v()));
            if (atX.value() > lo.value()) {
                lo = atX;
                best = x;
            }
        }
        return new Bracket(lo.value(), up.value(), bestEst.value(),
                lo.method() + (eps > 0 ? ", best of x, " + options.samples() + " samples and " + options.ascent()
                        + " ascent steps" : ""), up.method(), best.clone());
    }

    /**
     * Moves cand into the ball and the domain (in place); returns the power-iteration result there, or
     * null when float rounding leaves it outside the ball after projection and shrinking.
     */
    private OperatorNorm.Result tryPoint(float[] x, double eps, float[] cand) {
        Projections.ontoBall(cand, x, options.ballP(), eps, cand);
        for (int i = 0; i < cand.length; i++) {
            cand[i] = (float) Math.min(options.domainHigh(), Math.max(options.domainLow(), cand[i]));
        }
        for (int tries = 0; !inside(x, eps, cand); tries++) {
            if (tries == 20) {
                return null;
            }
            for (int i = 0; i < cand.length; i++) { // towards x: stays in the domain box
                cand[i] = (float) (x[i] + 0.999 * ((double) cand[i] - x[i]));
            }
        }
        return estimate(cand);
    }

    /** ||cand - x||_r &lt;= eps, the norm computed in double and rounded up (so a true answer is sound). */
    boolean inside(float[] x, double eps, float[] cand) {
        double[] d = new double[x.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = (double) cand[i] - x[i]; // exact: the difference of two floats fits a double
        }
        return NormBounds.lpUp(d, options.ballP()) <= eps;
    }

    /** Power iteration on the float network's Jacobian at x (a lower estimate, not a bound). */
    public OperatorNorm.Result estimate(float[] x) {
        checkInput(x);
        LinearMap j = model.linearize(new Tensor(inShape, x.clone()), BnMode.EVAL).asLinearMap(0);
        return OperatorNorm.estimate(j, p, q, options.power());
    }

    /**
     * Certifies the label at x over B(x, eps) (see the class comment). The label is usually the true one;
     * certified accuracy also needs the float network to predict it at x.
     */
    public Certificate certify(float[] x, int label, double eps) {
        return certify(x, label, eps, propagate(x, 0, label), propagate(x, eps, label));
    }

    /** As {@link #certify(float[], int, double)} from propagations at x (eps = 0) and over the ball, both with the label. */
    public Certificate certify(float[] x, int label, double eps, Propagation atX, Propagation over) {
        if (over.margins() == null || atX.margins() == null) {
            throw new IllegalArgumentException("certification needs propagations with the label's margin rows");
        }
        double dual = Norms.conjugate(options.ballP());
        int k = over.logits().size(), n = over.margins().cols();
        double worst = Double.POSITIVE_INFINITY;
        String how = "interval";
        for (int j = 0, row = 0; j < k; j++) {
            if (j == label) {
                continue;
            }
            double byBox = Outward.addDown(over.logits().lo()[label], -over.logits().hi()[j]);
            double at = Outward.addDown(atX.logits().lo()[label], -atX.logits().hi()[j]);
            double[] g = new double[n];
            for (int t = 0; t < n; t++) {
                int idx = row * n + t;
                g[t] = Math.max(Math.abs(over.margins().lo()[idx]), Math.abs(over.margins().hi()[idx]));
            }
            double byLip = Outward.addDown(at, -Outward.mulUp(eps, NormBounds.lpUp(g, dual)));
            double byLinear = over.marginLower() == null ? Double.NEGATIVE_INFINITY : over.marginLower()[row];
            double m = Math.max(byBox, Math.max(byLip, byLinear));
            if (m < worst) {
                worst = m;
                how = byLinear >= m ? "linear" : byLip >= m ? "mean value" : "interval";
            }
            row++;
        }
        return new Certificate(label, eps, worst, worst > 0, how);
    }

    /**
     * Upper bounds for a list of radii made non-increasing as eps shrinks: B(x, eps_i) lies in B(x, eps_j)
     * for eps_i &lt;= eps_j, so the bound of the larger ball holds for the smaller (suffix minimum).
     */
    public static double[] monotoneUppers(double[] eps, double[] upper) {
        double[] out = upper.clone();
        Integer[] order = new Integer[eps.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(eps[b], eps[a]));
        double run = Double.POSITIVE_INFINITY;
        for (Integer i : order) {
            run = Math.min(run, out[i]);
            out[i] = run;
        }
        return out;
    }

    /**
     * Lower bounds for a list of radii made non-decreasing in eps: a point of B(x, eps_i) lies in every
     * larger ball, so its value is a lower bound there too (prefix maximum).
     */
    public static double[] monotoneLowers(double[] eps, double[] lower) {
        double[] neg = new double[lower.length];
        for (int i = 0; i < neg.length; i++) {
            neg[i] = -lower[i];
        }
        double[] epsNeg = new double[eps.length];
        for (int i = 0; i < eps.length; i++) {
            epsNeg[i] = -eps[i];
        }
        double[] m = monotoneUppers(epsNeg, neg); // suffix minimum over decreasing -eps = prefix over eps
        for (int i = 0; i < m.length; i++) {
            m[i] = -m[i];
        }
        return m;
    }

    private void checkInput(float[] x) {
        if (x.length != inShape.size()) {
            throw new IllegalArgumentException("input has " + x.length + " values, the certifier's shape " + inShape
                    + " needs " + inShape.size());
        }
    }

    private static double[] toDouble(float[] v) {
        if (v == null) {
            return null;
        }
        double[] d = new double[v.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
