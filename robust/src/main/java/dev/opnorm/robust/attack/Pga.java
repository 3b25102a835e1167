package dev.opnorm.robust.attack;

import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.kernels.AttackRows;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.util.Rng;


/**
 * l_p projected gradient ascent (PGA, Eq. 15/17 of the paper) for p in {1, 2, inf}:
 *
 * <pre>
 *   x_0 ~ U(B_eps^p(x))                                   (uniform random start; or x, or a given start)
 *   x_k = clamp_domain( Proj_{B_eps^p(x)}( x_{k-1} + alpha N_p(grad_x l_adv(x_{k-1})) ) ),  k = 1..iterations
 * </pre>
 *
 * N_p is the steepest-ascent map of Lemma 1 ({@link DualMaps#steepestAscent}: p = 2 normalizes, p = inf
 * takes signs, p = 1 is one-hot on the largest |g_i|, ties shared). Clamping after the projection keeps
 * the point in the ball: the centre x is inside the domain, so clamping only shortens every coordinate of
 * x* - x. The default step is alpha = 2 eps / iterations (the paper's setting); {@code alpha(inf)} takes
 * the limit alpha -&gt; inf, used by Theorem 1:
 *
 * <pre>
 *   x_k = clamp_domain( x + eps N_p(g) )
 * </pre>
 *
 * For p = 2 this is the exact limit of the projection (the rescaled x_{k-1} - x + alpha N_2(g) tends to
 * eps N_2(g)). For p = inf it is the limit on every coordinate with g_i != 0; where g_i = 0 the literal
 * limit would keep the previous offset, while we set it to 0 (sign(0) = 0), as the (p,q) iteration does.
 * For p = 1 with a unique largest |g_i| it is the exact limit (the l1 projection keeps only that
 * coordinate, at +-eps); on ties the literal limit depends on x_{k-1}, and we use N_1's equal sharing
 * (eps/|I| on each tied coordinate), again matching the (p,q) iteration's v_k = N_p(J^T u_k).
 * For p = 1, coordinates on the domain boundary whose gradient points out of the domain are left out of
 * N_1's choice (see {@code maskSaturated}); away from the boundary (the setting of Theorem 1) nothing changes.
 *
 * <p>Losses ({@link AdversarialLoss}): cross-entropy with the true or predicted label (untargeted: ascend),
 * with a target class (targeted: descend), or the l_q logit loss ||f(x*) - f(x)||_q. Each run reports its
 * final iterate; with several restarts each example keeps its worst case: a successful point before an
 * unsuccessful one, then the higher loss (targeted: the lower target loss). Restart 0 draws the same start
 * as a single run, so restarts never do worse than one run.
 *
 * <p><b>BatchNorm runs in EVAL mode</b> (running statistics): each example is attacked on its own
 * function, independent of the rest of the batch. Batched: one forward (linearize) and one VJP per
 * iteration for the whole batch. Deterministic: example i's random start of restart r comes from a
 * {@link Rng} (xoshiro256**) seeded with {@code StartVectors.restartSeed(StartVectors.exampleSeed(seed,
 * firstExample + i), r)}, and everything else is per-example sequential arithmetic on the network's
 * deterministic outputs, so one seed gives bit-identical results on any thread count and batch split.
 *
 * <p>Backends: the attack is written once ({@link #run}) on a {@link PgaNetwork} and {@link PgaOps}, so it
 * runs unchanged on host arrays ({@link PgaBackend#host()}, the {@link Attack} methods here) or on another
 * engine's buffers ({@link #on}, {@link #outcome}; gpu-kernels supplies the OpenCL backend), with the same
 * random starts drawn on the host and uploaded once per restart, and nothing moved per iteration.
 *
 * <p>Instances are immutable; the fluent setters return modified copies:
 * {@code Pga.l2(0.5).iterations(10).restarts(2).seed(7).attack(model, x, labels)}.
 */
public final class Pga implements Attack {
    /** Receives every iterate (k = 0 is the start); for tests and analyses. */
    @FunctionalInterface
    public interface IterateListener {
        /**
         * @param restart 0-based run
         * @param k       iteration, 0 = the (random) start after clamping
         * @param xk      (n, c, h, w) the iterate; valid only during the call, do not modify (copy to keep it)
         */
        void iterate(int restart, int k, Tensor xk);
    }

    private final double p;
    private final double eps;
    private final int iterations;
    private final double alpha;          // NaN = the default 2 eps / iterations
    private final int restarts;
    private final long seed;
    private final boolean randomStart;
    private final AdversarialLoss loss;
    private final Domain domain;
    private final float[] start;         // n*c*h*w initial offsets for restart 0, or null
    private final IterateListener listener;
    private final String name;           // "PGA" or "FGM" in descriptions

    private Pga(double p, double eps, int iterations, double alpha, int restarts, long seed, boolean randomStart,
                AdversarialLoss loss, Domain domain, float[] start, IterateListener listener, String name) {
        this.p = p;
        this.eps = eps;
        this.iterations = iterations;
        this.alpha = alpha;
        this.restarts = restarts;
        this.seed = seed;
        this.randomStart = randomStart;
        this.loss = loss;
        this.domain = domain;
        this.start = start;
        this.listener = listener;
        this.name = name;
    }

    /**
     * PGA in the l_p ball of radius eps with the defaults: 10 iterations, alpha = 2 eps / iterations, 1 run,
     * seed 0, uniform random start, cross-entropy, domain [-1, 1].
     *
     * @throws IllegalArgumentException for p not in {1, 2, inf} or eps not positive and finite
     */
    public static Pga lp(double p, double eps) {
        AttackChecks.checkP(p);
        AttackChecks.checkEps(eps);
        return new Pga(p, eps, 10, Double.NaN, 1, 0, true, AdversarialLoss.crossEntropy(), Domain.SYMMETRIC,
                null, null, "PGA");
    }

    /** {@link #lp}(1, eps). */
    public static Pga l1(double eps) {
        return lp(1, eps);
    }

    /** {@link #lp}(2, eps). */
    public static Pga l2(double eps) {
        return lp(2, eps);
    }

    /** {@link #lp}(inf, eps). */
    public static Pga linf(double eps) {
        return lp(Double.POSITIVE_INFINITY, eps);
    }

    /** Copy with a new number of ascent steps (>= 1). */
    public Pga iterations(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("PGA iterations = " + n + " must be >= 1");
        }
        return new Pga(p, eps, n, alpha, restarts, seed, randomStart, loss, domain, start, listener, name);
    }

    /** Copy with step size alpha > 0, or {@link Double#POSITIVE_INFINITY} for the limit x + eps N_p(g) (see class comment). */
    public Pga alpha(double a) {
        if (!(a > 0)) {
            throw new IllegalArgumentException("PGA step alpha = " + a + " must be > 0 (or inf)");
        }
        return new Pga(p, eps, iterations, a, restarts, seed, randomStart, loss, domain, start, listener, name);
    }

    /** Copy with a number of runs (>= 1), the worst case kept per example. */
    public Pga restarts(int r) {
        if (r < 1) {
            throw new IllegalArgumentException("PGA restarts = " + r + " must be >= 1");
        }
        return new Pga(p, eps, iterations, alpha, r, seed, randomStart, loss, domain, start, listener, name);
    }

    /** Copy with the seed of the random starts. */
    public Pga seed(long s) {
        return new Pga(p, eps, iterations, alpha, restarts, s, randomStart, loss, domain, start, listener, name);
    }

    /** Copy that starts from a uniform point of the ball (true, default) or from x itself (false). */
    public Pga randomStart(boolean on) {
        return new Pga(p, eps, iterations, alpha, restarts, seed, on, loss, domain, start, listener, name);
    }

    /** Copy with another adversarial loss. */
    public Pga loss(AdversarialLoss l) {
        if (l == null) {
            throw new IllegalArgumentException("adversarial loss must not be null");
        }
        return new Pga(p, eps, iterations, alpha, restarts, seed, randomStart, l, domain, start, listener, name);
    }

    /** Copy with another input domain (inputs must lie in it; iterates are clamped to it). */
    public Pga domain(Domain d) {
        if (d == null) {
            throw new IllegalArgumentException("input domain must not be null");
        }
        return new Pga(p, eps, iterations, alpha, restarts, seed, randomStart, loss, d, start, listener, name);
    }

    /**
     * Copy whose first run starts from x + delta instead of a random point (later restarts stay random).
     * delta (n*c*h*w, example-major, copied) must satisfy ||delta_i||_p &lt;= eps per example (checked at
     * attack time, with a relative slack of 1e-5 for float rounding); x + delta is clamped to the domain.
     * Used by Theorem 1, where PGA must start from the power method's start vector: delta = eps v_0.
     */
    public Pga startFrom(float[] delta) {
        if (delta == null) {
            throw new IllegalArgumentException("start offsets must not be null");
        }
        return new Pga(p, eps, iterations, alpha, restarts, seed, randomStart, loss, domain, delta.clone(), listener,
                name);
    }

    /** Copy that reports every iterate to {@code l} (null: none). */
    public Pga onIterate(IterateListener l) {
        return new Pga(p, eps, iterations, alpha, restarts, seed, randomStart, loss, domain, start, l, name);
    }

    Pga named(String n) {
        return new Pga(p, eps, iterations, alpha, restarts, seed, randomStart, loss, domain, start, listener, n);
    }

    @Override
    public double p() {
        return p;
    }

    @Override
    public double eps() {
        return eps;
    }

    @Override
    public Domain domain() {
        return domain;
    }

    public int iterations() {
        return iterations;
    }

    /** The step in use: the one set, or 2 eps / iterations. */
    public double alpha() {
        return Double.isNaN(alpha) ? 2 * eps / iterations : alpha;
    }

    public int restarts() {
        return restarts;
    }

    public long seed() {
        return seed;
    }

    public AdversarialLoss loss() {
        return loss;
    }

    @Override
    public String describe() {
        return name + " l_" + Norms.format(p) + " eps=" + eps + " iterations=" + iterations + " alpha="
                + (alpha() == Double.POSITIVE_INFINITY ? "inf" : Double.toString(alpha())) + " restarts=" + restarts
                + " randomStart=" + randomStart + (start != null ? " (given start)" : "") + " seed=" + seed
                + " loss=" + loss + " domain=" + domain + " bn=EVAL";
    }

    @Override
    public String toString() {
        return describe();
    }

    /** What an attack's reference labels mean. */
    public enum Target {
        /** Untargeted against the given (true) labels: ascend their loss. */
        LABELS,
        /** Targeted: descend the loss of the given target classes. */
        TARGETS,
        /** Untargeted against the model's clean predictions (computed by the attack). */
        PREDICTED
    }

    /**
     * Per-example outcome of an attack, read back in one transfer ({@link PgaOps#read}).
     *
     * @param cleanPredictions argmax f(x)
     * @param labels           the reference labels (true labels, targets, or the clean predictions)
     * @param predictions      argmax f(x*) at the kept point
     * @param success          untargeted: prediction != label; targeted: prediction == target
     * @param loss             the attack objective at x* (the host keeps the double, a device its float)
     * @param perturbationNorm ||x* - x||_p (computed in double; a device rounds it to float)
     * @param restart          the restart that produced the kept point
     */
    public record Outcome(int[] cleanPredictions, int[] labels, int[] predictions, boolean[] success, double[] loss,
                          double[] perturbationNorm, int[] restart) {
        /** Number of examples. */
        public int size() {
            return success.length;
        }
    }

    @Override
    public AttackResult attack(Layer model, Tensor x, int[] labels, int firstExample) {
        return result(PgaBackend.host(), model, x, labels, Target.LABELS, firstExample);
    }

    @Override
    public AttackResult attackTargeted(Layer model, Tensor x, int[] targets, int firstExample) {
        return result(PgaBackend.host(), model, x, targets, Target.TARGETS, firstExample);
    }

    @Override
    public AttackResult attackPredicted(Layer model, Tensor x, int firstExample) {
        return result(PgaBackend.host(), model, x, null, Target.PREDICTED, firstExample);
    }

    /**
     * This attack on another engine: the same algorithm and settings, the network and vectors on the
     * backend's buffers. Each call uploads x, the labels and each restart's start offsets, and downloads
     * the statistics, x* and f(x*).
     */
    public Attack on(PgaBackend backend) {
        if (backend == null) {
            throw new IllegalArgumentException("PGA backend must not be null");
        }
        Pga pga = this;
        return new Attack() {
            @Override
            public double p() {
                return p;
            }

            @Override
            public double eps() {
                return eps;
            }

            @Override
            public Domain domain() {
                return domain;
            }

            @Override
            public String describe() {
                return pga.describe();
            }

            @Override
            public AttackResult attack(Layer model, Tensor x, int[] labels, int firstExample) {
                return result(backend, model, x, labels, Target.LABELS, firstExample);
            }

            @Override
            public AttackResult attackTargeted(Layer model, Tensor x, int[] targets, int firstExample) {
                return result(backend, model, x, targets, Target.TARGETS, firstExample);
            }

            @Override
            public AttackResult attackPredicted(Layer model, Tensor x, int firstExample) {
                return result(backend, model, x, null, Target.PREDICTED, firstExample);
            }

            @Override
            public String toString() {
                return describe();
            }
        };
    }

    /**
     * The per-example outcome of the attack on a host batch, run on {@code backend}: x and the labels (none
     * for {@link Target#PREDICTED}) go up, each restart's start offsets go up, the statistics come back; x*
     * is not downloaded.
     *
     * @param labels n reference classes (true labels or targets); ignored (may be null) for PREDICTED
     * @throws IllegalArgumentException for NaN inputs or inputs outside the domain, bad labels, or as {@link #run}
     */
    public Outcome outcome(PgaBackend backend, Layer model, Tensor x, int[] labels, Target target, int firstExample) {
        return hostRun(engineOf(backend, model), x, labels, target, firstExample, null);
    }

    private AttackResult result(PgaBackend backend, Layer model, Tensor x, int[] labels, Target target,
                                int firstExample) {
        float[][] adv = new float[2][];
        Outcome o = hostRun(engineOf(backend, model), x, labels, target, firstExample, adv);
        int n = x.shape.n(), classes = adv[1].length / n;
        return new AttackResult(describe(), BnMode.EVAL, target == Target.TARGETS, new Tensor(x.shape, adv[0]),
                classes, adv[1], o.predictions(), o.cleanPredictions(), o.labels(), o.success(), o.loss(),
                o.perturbationNorm(), o.restart());
    }

    private static PgaBackend.Engine<?, ?, ?> engineOf(PgaBackend backend, Layer model) {
        if (backend == null) {
            throw new IllegalArgumentException("PGA backend must not be null");
        }
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        return backend.engine(model);
    }

    /** Uploads x and the labels, runs; with adv != null downloads x* into adv[0] and f(x*) into adv[1]. */
    private <V, L, S> Outcome hostRun(PgaBackend.Engine<V, L, S> engine, Tensor x, int[] labels, Target target,
                                      int firstExample, float[][] adv) {
        if (target == null) {
            throw new IllegalArgumentException("the attack needs a target kind");
        }
        checkTarget(target);
        AttackChecks.checkInput(x, domain);
        checkFirstExample(firstExample);
        Shape s = x.shape;
        int n = s.n();
        if (start != null) {
            checkStart(n, s.perExample());
        }
        Shape outShape = engine.network().outputShape(s);
        if (target != Target.PREDICTED) {
            AttackChecks.checkLabels(labels, n, outShape.perExample(), target == Target.TARGETS ? "targets" : "labels");
        }
        PgaOps<V, L, S> ops = engine.ops();
        V dx = null, xAdv = null, logits = null;
        L ref = null;
        try {
            dx = ops.allocate(s);
            ref = ops.labels(n);
            if (adv != null) {
                xAdv = ops.allocate(s);
                logits = ops.allocate(outShape);
            }
            ops.upload(x.data, dx, s.size());
            if (target != Target.PREDICTED) {
                ops.uploadLabels(labels, ref, n);
            }
            Outcome o = run(engine, dx, s, ref, target, firstExample, xAdv, logits);
            if (adv != null) {
                adv[0] = ops.download(xAdv, s.size());
                adv[1] = ops.download(logits, outShape.size());
            }
            return o;
        } finally {
            ops.release(dx);
            ops.releaseLabels(ref);
            ops.release(xAdv);
            ops.release(logits);
        }
    }

    /**
     * The attack on backend-resident data, the one implementation of the PGA for every engine: x (shape s)
     * inside the domain, ref (n) the reference classes in [0, classes) (ignored and OVERWRITTEN with the
     * clean predictions for {@link Target#PREDICTED}). Writes x* into {@code xAdv} and f(x*) into
     * {@code logits} when they are not null (overwritten). x is not modified; it is NOT checked for NaN or
     * the domain, nor ref for its range (that needs their host copies: the host entry points check them).
     *
     * <p>Transfers: each restart uploads its start offsets ({@link #startOffsets}, drawn on the host; none
     * for a start at x), the statistics come back once at the end ({@link PgaOps#read}); an iteration moves
     * nothing, except the iterate a listener asks for ({@link PgaOps#view}). One iteration is one
     * linearization (forward), the loss gradient, one VJP and one {@link PgaOps#step}.
     *
     * @param firstExample index of x's first example in the data set (fixes each example's random starts)
     * @throws IllegalArgumentException for firstExample &lt; 0, a given start of another size, xAdv aliasing
     *                                  x, or a targeted attack with the logit loss
     */
    public <V, L, S> Outcome run(PgaBackend.Engine<V, L, S> engine, V x, Shape s, L ref, Target target,
                                 int firstExample, V xAdv, V logits) {
        if (engine == null || x == null || s == null || ref == null || target == null) {
            throw new IllegalArgumentException("run needs an engine, an input and its shape, a label buffer and a target kind");
        }
        checkFirstExample(firstExample);
        checkTarget(target);
        boolean targeted = target == Target.TARGETS;
        if (xAdv != null && xAdv == x) {
            throw new IllegalArgumentException("xAdv must be a buffer other than x");
        }
        int n = s.n(), per = s.perExample();
        if (start != null) {
            checkStart(n, per);
        }
        PgaNetwork<V> net = engine.network();
        PgaOps<V, L, S> ops = engine.ops();
        Shape outShape = net.outputShape(s);
        int classes = outShape.perExample();
        double step = alpha();
        S stats = null;
        V clean = null, gy = null, xk = null, g = null, off = null, best = null;
        try {
            stats = ops.stats(n);
            clean = ops.allocate(outShape);
            gy = ops.allocate(outShape);
            xk = ops.allocate(s);
            g = ops.allocate(s);
            best = xAdv != null ? xAdv : ops.allocate(s);
            try (PgaNetwork.Linearized<V> lin = net.linearize(x, s)) {
                ops.copy(clean, lin.output(), outShape.size());
            }
            ops.initStats(stats, ref, clean, target == Target.PREDICTED, n, classes);
            for (int r = 0; r < restarts; r++) {
                float[] offsets = startOffsets(r, n, per, firstExample);
                if (offsets != null) {
                    if (off == null) {
                        off = ops.allocate(s);
                    }
                    ops.upload(offsets, off, s.size()); // the restart's only transfer
                }
                ops.start(xk, x, offsets == null ? null : off, domain, s.size());
                if (listener != null) {
                    listener.iterate(r, 0, ops.view(xk, s));
                }
                for (int k = 1; k <= iterations; k++) {
                    try (PgaNetwork.Linearized<V> lin = net.linearize(xk, s)) {
                        ops.lossGrad(gy, lin.output(), clean, ref, loss, targeted, n, classes);
                        lin.vjp(gy, g);
                    }
                    ops.step(xk, g, x, p, step, eps, domain, n, per);
                    if (listener != null) {
                        listener.iterate(r, k, ops.view(xk, s));
                    }
                }
                try (PgaNetwork.Linearized<V> lin = net.linearize(xk, s)) {
                    ops.keepBest(stats, lin.output(), clean, ref, loss, targeted, r, n, classes);
                    ops.copyRowsWhereBetter(best, xk, stats, n, per);
                    if (logits != null) {
                        ops.copyRowsWhereBetter(logits, lin.output(), stats, n, classes);
                    }
                }
            }
            ops.norms(stats, best, x, p, n, per);
            return ops.read(stats, n); // the attack's one download
        } finally {
            ops.releaseStats(stats);
            ops.release(clean);
            ops.release(gy);
            ops.release(xk);
            ops.release(g);
            ops.release(off);
            if (xAdv == null) {
                ops.release(best);
            }
        }
    }

    private void checkTarget(Target target) {
        if (target == Target.TARGETS && loss.isLogitLoss()) {
            throw new IllegalArgumentException("targeted attack needs the cross-entropy loss, not the " + loss
                    + " (it has no target class)");
        }
    }

    private static void checkFirstExample(int firstExample) {
        if (firstExample < 0) {
            throw new IllegalArgumentException("firstExample = " + firstExample + " must be >= 0");
        }
    }

    private void checkStart(int n, int per) {
        if (start.length != n * per) {
            throw new IllegalArgumentException("start offsets have " + start.length + " values, the batch needs "
                    + n + " x " + per + " = " + n * per);
        }
        for (int i = 0; i < n; i++) {
            double norm = Norms.lp(start, i * per, per, p);
            if (!(norm <= eps * (1 + 1e-5))) {
                throw new IllegalArgumentException("start offset of example " + i + " has l_" + Norms.format(p)
                        + " norm " + norm + " > eps = " + eps);
            }
        }
    }

    /**
     * The offsets x_0 - x of run {@code restart} before clamping, for a batch of n examples of per values
     * whose first one is example {@code firstExample} of the data set: the given start (run 0), else a
     * uniform point of the ball per example ({@link BallSampling} with the example's own {@link Rng}
     * stream), else null (start at x). A new array of n * per values; the attack starts from
     * clamp_domain(x + offsets); {@link #run} uploads them, so every engine starts where the host does.
     *
     * @throws IllegalArgumentException for restart, n or per out of range, or a given start of another size
     */
    public float[] startOffsets(int restart, int n, int per, int firstExample) {
        if (restart < 0 || restart >= restarts || n < 1 || per < 1 || firstExample < 0) {
            throw new IllegalArgumentException("start offsets of restart " + restart + " (of " + restarts
                    + ") for " + n + " examples of " + per + " values from example " + firstExample);
        }
        if (restart == 0 && start != null) {
            checkStart(n, per);
            return start.clone();
        }
        if (!randomStart) {
            return null;
        }
        float[] off = new float[n * per];
        for (int i = 0; i < n; i++) {
            long exSeed = StartVectors.restartSeed(StartVectors.exampleSeed(seed, firstExample + i), restart);
            BallSampling.uniform(p, eps, per, new Rng(exSeed), off, i * per);
        }
        return off;
    }

    /** Whether runs without a given start begin at a uniform random point of the ball (else at x). */
    public boolean randomStart() {
        return randomStart;
    }

    /** Whether an iterate listener is set ({@link #onIterate}); engines that cannot report iterates refuse it. */
    public boolean hasListener() {
        return listener != null;
    }

    /** Index of the largest logit per example (first on ties). */
    static int[] argmax(float[] logits, int n, int classes) {
        return AttackRows.argmax(logits, n, classes);
    }
}
