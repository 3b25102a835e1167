package dev.opnorm.linalg;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The (p,q) operator norm iteration ||A||_{p,q} = max_{||v||_p = 1} ||A v||_q (Eq. 9-12 of the paper):
 *
 * <pre>
 *   u_k = D_q(A v_{k-1})                                  (dual map of the q-norm, {@link DualMaps#dual})
 *   v_k = N_p(A^T u_k)                                    alpha = inf: the power-method limit, Eq. 12
 *   v_k = Proj_{||.||_p = 1}(v_{k-1} + alpha A^T u_k)     finite alpha: projected gradient ascent, Eq. 11
 *   value = ||A v||_q / ||v||_p
 * </pre>
 *
 * <p>For p = q = 2 this is the power method. For p, q in {1, 2, inf} and any p, q >= 1.
 *
 * <p><b>The result is a lower bound</b>: the value is attained by the returned v, so it never exceeds
 * ||A||_{p,q} (up to the round-off of one product), but the iteration is a local ascent method and
 * can stop at a local maximum; for the NP-hard cells of Table 1 no efficient method can promise the
 * maximum. Restarts from several random starting vectors (keeping the best) make a global maximum
 * more likely. Even on the tractable cells with p = 1 or q = inf a single run often stops at a
 * local maximum (a column or row that beats the ones the iteration compares it with): on 3..14
 * dimensional Gaussian matrices about half of single runs do, and 20-30 restarts were needed to reach
 * the closed form every time; prefer {@link ClosedForms} where it applies. (2,2) has no such local
 * maxima. Each run keeps the best iterate it has seen, so a non-monotone run (finite alpha,
 * general p) cannot lose ground. A run stops when the value changes by at most relTol relative
 * between iterations (converged), when A v = 0 (value 0, converged), or at maxIterations.
 *
 * <p>Batched: {@link #estimate(BatchLinearMap, double, double, Options)} makes one {@code apply} and
 * one {@code applyTranspose} call per iteration for the whole batch; each example has its own vectors
 * and convergence. Example i of restart r starts from the Gaussian vector of seed
 * {@link StartVectors#restartSeed}({@link StartVectors#exampleSeed}(seed, i), r), so its result is
 * bit-identical to a single-map run on that example with seed exampleSeed(seed, i).
 */
public final class OperatorNorm {
    private OperatorNorm() {}

    /**
     * Settings of the (p,q) iteration.
     *
     * @param maxIterations products with A per run and example (>= 1)
     * @param relTol        relative change of the value that counts as converged (>= 0)
     * @param alpha         step of Eq. 11 (> 0), or {@link Double#POSITIVE_INFINITY} for Eq. 12
     * @param restarts      runs from different starting vectors, best kept (>= 1)
     * @param seed          seed of the starting vectors
     */
    public record Options(int maxIterations, double relTol, double alpha, int restarts, long seed) {
        public Options {
            if (maxIterations < 1) throw new IllegalArgumentException("maxIterations must be >= 1, got " + maxIterations);
            if (!(relTol >= 0)) throw new IllegalArgumentException("relTol must be >= 0, got " + relTol);
            if (!(alpha > 0)) throw new IllegalArgumentException("alpha must be > 0 (or inf), got " + alpha);
            if (restarts < 1) throw new IllegalArgumentException("restarts must be >= 1, got " + restarts);
        }

        /** 500 iterations, relTol 1e-7, alpha = inf (Eq. 12), 1 run, seed 0. */
        public static Options defaults() { return new Options(500, 1e-7, Double.POSITIVE_INFINITY, 1, 0); }

        public Options withMaxIterations(int n) { return new Options(n, relTol, alpha, restarts, seed); }
        public Options withRelTol(double t) { return new Options(maxIterations, t, alpha, restarts, seed); }
        public Options withAlpha(double a) { return new Options(maxIterations, relTol, a, restarts, seed); }
        public Options withRestarts(int r) { return new Options(maxIterations, relTol, alpha, r, seed); }
        public Options withSeed(long s) { return new Options(maxIterations, relTol, alpha, restarts, s); }
    }

    /**
     * The best run's outcome.
     *
     * @param value      ||A v||_q / ||v||_p, a lower bound of ||A||_{p,q}
     * @param v          the maximizer found, ||v||_p = 1 up to float rounding, length inDim
     * @param iterations products with A made by the best run
     * @param converged  whether the best run met the stopping test before the cap
     * @param restart    index of the best run (0 = first)
     */
    public record Result(double value, float[] v, int iterations, boolean converged, int restart) {}

    /** ||A||_{p,q} lower bound with {@link Options#defaults()}. */
    public static Result estimate(LinearMap a, double p, double q) {
        return estimate(a, p, q, Options.defaults());
    }

    /** ||A||_{p,q} lower bound of a single map. */
    public static Result estimate(LinearMap a, double p, double q, Options o) {
        return run(BatchLinearMaps.single(a), p, q, o, null).get(0);
    }

    /** As {@link #estimate(LinearMap, double, double, Options)}, the first run starting from {@code start} (not modified). */
    public static Result estimate(LinearMap a, double p, double q, Options o, float[] start) {
        if (start.length != a.inDim()) throw new IllegalArgumentException("start vector length " + start.length + ", expected inDim " + a.inDim());
        return run(BatchLinearMaps.single(a), p, q, o, start).get(0);
    }

    /** Per-example ||A_i||_{p,q} lower bounds of a batch; one apply/applyTranspose pair per iteration. */
    public static List<Result> estimate(BatchLinearMap a, double p, double q, Options o) {
        return run(a, p, q, o, null);
    }

    /** As {@link #estimate(BatchLinearMap, double, double, Options)}, the first run starting from {@code start} (batch*inDim). */
    public static List<Result> estimate(BatchLinearMap a, double p, double q, Options o, float[] start) {
        if (start.length != a.batch() * a.inDim()) {
            throw new IllegalArgumentException("start vectors length " + start.length + ", expected batch*inDim " + a.batch() * a.inDim());
        }
        return run(a, p, q, o, start);
    }

    private static List<Result> run(BatchLinearMap a, double p, double q, Options o, float[] start) {
        Norms.checkP(p, "p");
        Norms.checkP(q, "q");
        int b = a.batch(), n = a.inDim();
        PowerMethod.checkDims(b, n, a.outDim());
        Result[] best = new Result[b];
        float[] v = new float[b * n];
        for (int r = 0; r < o.restarts(); r++) {
            if (r == 0 && start != null) {
                System.arraycopy(start, 0, v, 0, v.length);
            } else {
                for (int i = 0; i < b; i++) {
                    long seed = StartVectors.restartSeed(StartVectors.exampleSeed(o.seed(), i), r);
                    StartVectors.gaussian(seed, v, i * n, n);
                }
            }
            Result[] got = oneRun(a, p, q, o, v, r);
            for (int i = 0; i < b; i++) {
                if (best[i] == null || got[i].value() > best[i].value()) best[i] = got[i];
            }
        }
        return new ArrayList<>(Arrays.asList(best));
    }

    /** One run per example from the vectors in v (overwritten: the iterates). */
    private static Result[] oneRun(BatchLinearMap a, double p, double q, Options o, float[] v, int restart) {
        int b = a.batch(), n = a.inDim(), m = a.outDim();
        boolean limit = o.alpha() == Double.POSITIVE_INFINITY;
        float[] w = new float[b * m], u = new float[b * m], z = new float[b * n];
        double[] value = new double[b], bestValue = new double[b];
        float[][] bestV = new float[b][];
        int[] iters = new int[b];
        boolean[] active = new boolean[b], converged = new boolean[b];
        for (int i = 0; i < b; i++) {
            double np = Norms.lp(v, i * n, n, p);
            if (np == 0 || !Double.isFinite(np)) throw new IllegalArgumentException("start vector of example " + i + " has l_p norm " + np);
            for (int j = i * n; j < (i + 1) * n; j++) v[j] = (float) (v[j] / np);
            value[i] = Double.NaN;
            bestValue[i] = -1;
            active[i] = true;
        }
        int remaining = b;
        for (int k = 1; k <= o.maxIterations() && remaining > 0; k++) {
            a.apply(v, w);
            for (int i = 0; i < b; i++) {
                if (!active[i]) continue;
                iters[i] = k;
                double val = Norms.lp(w, i * m, m, q) / Norms.lp(v, i * n, n, p);
                double prev = value[i];
                value[i] = val;
                if (val > bestValue[i]) {
                    bestValue[i] = val;
                    bestV[i] = Arrays.copyOfRange(v, i * n, (i + 1) * n);
                }
                converged[i] = val == 0 || Math.abs(val - prev) <= o.relTol() * val;
                if (converged[i] || k == o.maxIterations()) {
                    active[i] = false;
                    remaining--;
                } else {
                    DualMaps.dual(w, i * m, m, q, u, i * m);
                }
            }
            if (remaining == 0) break;
            a.applyTranspose(u, z);
            for (int i = 0; i < b; i++) {
                if (!active[i]) continue;
                if (Norms.lp(z, i * n, n, Double.POSITIVE_INFINITY) == 0) {
                    // <A^T u, v> = ||A v||_q > 0 rules this out in exact arithmetic; after underflow, stop here
                    converged[i] = true;
                    active[i] = false;
                    remaining--;
                    continue;
                }
                if (limit) {
                    DualMaps.steepestAscent(z, i * n, n, p, v, i * n);
                } else {
                    for (int j = i * n; j < (i + 1) * n; j++) z[j] = (float) (v[j] + o.alpha() * z[j]);
                    Projections.ontoSphere(z, i * n, n, p, 1, v, i * n);
                }
            }
        }
        Result[] out = new Result[b];
        for (int i = 0; i < b; i++) {
            // converged refers to the run; the best iterate is the one reported
            out[i] = new Result(bestValue[i], bestV[i], iters[i], converged[i], restart);
        }
        return out;
    }
}
