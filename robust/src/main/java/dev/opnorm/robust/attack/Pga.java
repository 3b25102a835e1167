package dev.opnorm.robust.attack;

import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.Projections;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
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

    @Override
    public AttackResult attack(Layer model, Tensor x, int[] labels, int firstExample) {
        return run(model, x, labels, false, firstExample);
    }

    @Override
    public AttackResult attackTargeted(Layer model, Tensor x, int[] targets, int firstExample) {
        if (loss.isLogitLoss()) {
            throw new IllegalArgumentException("targeted attack needs the cross-entropy loss, not the " + loss
                    + " (it has no target class)");
        }
        return run(model, x, targets, true, firstExample);
    }

    @Override
    public AttackResult attackPredicted(Layer model, Tensor x, int firstExample) {
        return run(model, x, null, false, firstExample);
    }

    private AttackResult run(Layer model, Tensor x, int[] labelsOrNull, boolean targeted, int firstExample) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        AttackChecks.checkInput(x, domain);
        if (firstExample < 0) {
            throw new IllegalArgumentException("firstExample = " + firstExample + " must be >= 0");
        }
        Shape s = x.shape;
        int n = s.n(), per = s.perExample();
        if (start != null) {
            checkStart(n, per);
        }
        float[] clean = model.linearize(x, BnMode.EVAL).output().data.clone(); // f(x), n x classes
        int classes = clean.length / n;
        int[] cleanPred = argmax(clean, n, classes);
        int[] ref = labelsOrNull == null ? cleanPred.clone() : labelsOrNull.clone();
        AttackChecks.checkLabels(ref, n, classes, targeted ? "targets" : "labels");

        float[] bestX = new float[x.data.length];
        float[] bestLogits = new float[n * classes];
        double[] bestLoss = new double[n];
        boolean[] bestSuccess = new boolean[n];
        int[] bestRestart = new int[n];
        float[] xk = new float[x.data.length];
        float[] g = new float[x.data.length];     // (n, c, h, w) input gradient, then scratch
        float[] dir = new float[x.data.length];   // N_p(g) per example
        float[] gy = new float[n * classes];
        boolean infinite = alpha() == Double.POSITIVE_INFINITY;
        double step = alpha();
        Tensor xt = new Tensor(s, xk);
        for (int r = 0; r < restarts; r++) {
            initialize(r, x.data, xk, n, per, firstExample);
            if (listener != null) {
                listener.iterate(r, 0, xt);
            }
            for (int k = 1; k <= iterations; k++) {
                Linearization lin = model.linearize(xt, BnMode.EVAL);
                float[] logits = lin.output().data;
                for (int i = 0; i < n; i++) {
                    loss.gradient(logits, clean, i * classes, classes, ref[i], gy);
                    if (targeted) {
                        for (int j = i * classes; j < (i + 1) * classes; j++) {
                            gy[j] = -gy[j];
                        }
                    }
                }
                lin.vjp(gy, g);
                for (int i = 0; i < n; i++) {
                    int o = i * per;
                    if (p == 1) {
                        maskSaturated(g, xk, o, per);
                    }
                    DualMaps.steepestAscent(g, o, per, p, dir, o);
                    if (infinite) {
                        for (int j = o; j < o + per; j++) {
                            xk[j] = (float) (x.data[j] + eps * dir[j]);
                        }
                    } else {
                        for (int j = o; j < o + per; j++) {
                            g[j] = (float) ((double) xk[j] - x.data[j] + step * dir[j]); // the offset before projection
                        }
                        Projections.ontoBall(g, o, per, p, eps, g, o);
                        for (int j = o; j < o + per; j++) {
                            xk[j] = x.data[j] + g[j];
                        }
                    }
                    clamp(xk, o, per);
                }
                if (listener != null) {
                    listener.iterate(r, k, xt);
                }
            }
            float[] logits = model.linearize(xt, BnMode.EVAL).output().data;
            int[] pred = argmax(logits, n, classes);
            for (int i = 0; i < n; i++) {
                double l = loss.value(logits, clean, i * classes, classes, ref[i]);
                boolean ok = targeted ? pred[i] == ref[i] : pred[i] != ref[i];
                boolean better = r == 0 || (ok && !bestSuccess[i])
                        || (ok == bestSuccess[i] && (targeted ? l < bestLoss[i] : l > bestLoss[i]));
                if (better) {
                    System.arraycopy(xk, i * per, bestX, i * per, per);
                    System.arraycopy(logits, i * classes, bestLogits, i * classes, classes);
                    bestLoss[i] = l;
                    bestSuccess[i] = ok;
                    bestRestart[i] = r;
                }
            }
        }
        double[] norms = new double[n];
        double[] d = new double[per];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < per; j++) {
                d[j] = (double) bestX[i * per + j] - x.data[i * per + j];
            }
            norms[i] = Norms.lp(d, p);
        }
        return new AttackResult(describe(), BnMode.EVAL, targeted, new Tensor(s, bestX), classes, bestLogits,
                argmax(bestLogits, n, classes), cleanPred, ref, bestSuccess, bestLoss, norms, bestRestart);
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

    /** xk = the start of run r, clamped to the domain. */
    private void initialize(int r, float[] x, float[] xk, int n, int per, int firstExample) {
        float[] off = startOffsets(r, n, per, firstExample);
        if (off == null) {
            System.arraycopy(x, 0, xk, 0, xk.length);
        } else {
            for (int j = 0; j < xk.length; j++) {
                xk[j] = x[j] + off[j];
            }
        }
        clamp(xk, 0, xk.length);
    }

    /**
     * The offsets x_0 - x of run {@code restart} before clamping, for a batch of n examples of per values
     * whose first one is example {@code firstExample} of the data set: the given start (run 0), else a
     * uniform point of the ball per example ({@link BallSampling} with the example's own {@link Rng}
     * stream), else null (start at x). A new array of n * per values; the attack starts from
     * clamp_domain(x + offsets). Other engines (the OpenCL attack) call it to start exactly where this
     * attack starts.
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

    /**
     * l1 only: N_1 puts the whole step on one coordinate; if that coordinate already sits on the domain boundary
     * and the gradient pushes it outward, clamping undoes the step and the attack stalls for good. Such
     * coordinates are dropped from the choice (their gradient entry zeroed), so the step goes to the steepest
     * coordinate that can move. p = 2 and inf spread the step over all coordinates and keep the plain N_p.
     */
    private void maskSaturated(float[] g, float[] xk, int off, int len) {
        float lo = domain.low(), hi = domain.high();
        for (int j = off; j < off + len; j++) {
            if ((g[j] > 0 && xk[j] >= hi) || (g[j] < 0 && xk[j] <= lo)) {
                g[j] = 0;
            }
        }
    }

    private void clamp(float[] a, int off, int len) {
        float lo = domain.low(), hi = domain.high();
        for (int j = off; j < off + len; j++) {
            a[j] = Math.max(lo, Math.min(hi, a[j]));
        }
    }

    /** Index of the largest logit per example (first on ties). */
    static int[] argmax(float[] logits, int n, int classes) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 1; j < classes; j++) {
                if (logits[i * classes + j] > logits[i * classes + best]) {
                    best = j;
                }
            }
            out[i] = best;
        }
        return out;
    }
}
