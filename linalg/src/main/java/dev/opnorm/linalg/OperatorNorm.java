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
 *
 * <p>Backends: the batched iteration is written once, on {@link BatchMap} and {@link BatchOps}
 * ({@link #estimate(BatchMap, BatchOps, double, double, Options, float[], boolean)}); the host methods
 * here run it on {@link HostBatchOps}, a device backend on its buffers with the same starts and rules.
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
        return estimate(BatchLinearMaps.single(a), HostBatchOps.INSTANCE, p, q, o, null).get(0);
    }

    /** As {@link #estimate(LinearMap, double, double, Options)}, the first run starting from {@code start} (not modified). */
    public static Result estimate(LinearMap a, double p, double q, Options o, float[] start) {
        if (start.length != a.inDim()) throw new IllegalArgumentException("start vector length " + start.length + ", expected inDim " + a.inDim());
        return estimate(BatchLinearMaps.single(a), HostBatchOps.INSTANCE, p, q, o, start).get(0);
    }

    /** Per-example ||A_i||_{p,q} lower bounds of a batch; one apply/applyTranspose pair per iteration. */
    public static List<Result> estimate(BatchLinearMap a, double p, double q, Options o) {
        return estimate(a, HostBatchOps.INSTANCE, p, q, o, null);
    }

    /** As {@link #estimate(BatchLinearMap, double, double, Options)}, the first run starting from {@code start} (batch*inDim). */
    public static List<Result> estimate(BatchLinearMap a, double p, double q, Options o, float[] start) {
        return estimate(a, HostBatchOps.INSTANCE, p, q, o, start); // checks the start's length
    }

    /**
     * Per-example ||A_i||_{p,q} lower bounds of a batch of host arrays with the row operations {@code ops}
     * (e.g. a network's host backend's), the first run from the given start vectors (batch*inDim, not
     * modified) or Gaussian ones (null).
     */
    public static <S> List<Result> estimate(BatchLinearMap a, BatchOps<float[], S> ops, double p, double q, Options o,
                                            float[] start) {
        if (start != null && start.length != a.batch() * a.inDim()) {
            throw new IllegalArgumentException("start vectors length " + start.length + ", expected batch*inDim " + a.batch() * a.inDim());
        }
        int b = a.batch(), n = a.inDim();
        try (BatchResult<float[]> r = estimate(a, ops, p, q, o, start, false)) {
            List<Result> out = new ArrayList<>(b);
            for (int i = 0; i < b; i++) {
                // value -1: no iterate of any run had a value (all NaN), so there is no maximizer
                float[] v = r.value()[i] == -1 ? null : Arrays.copyOfRange(r.v(), i * n, (i + 1) * n);
                out.add(new Result(r.value()[i], v, r.iterations()[i], r.converged()[i], r.restart()[i]));
            }
            return out;
        }
    }

    /**
     * Per-example ||A_i||_{p,q} lower bounds of a batch on any backend: the one implementation of the
     * batched (p,q) iteration ({@link #estimate(BatchLinearMap, double, double, Options)} is this on
     * {@link HostBatchOps}). Start vectors are drawn and normalized on the host and uploaded once per
     * run; the iterates and each example's best iterate stay in the backend's buffers. Each iteration
     * reads back 2 or 3 scalars per example (||A v||_q, ||v||_p and, from the second iteration on,
     * ||A^T u||_inf of the previous one: an example whose A^T u was 0 stops there, with the iteration
     * count of the iteration that produced it, as if it had stopped right after the transpose).
     * Stopped examples keep being iterated with the others (their rows are ignored).
     *
     * @param start       the first run's start vectors (batch*inDim; not modified), or null for the
     *                    Gaussian starts
     * @param leftVectors also compute u_i = D_q(A_i v_i) for the maximizers (one more apply)
     * @throws IllegalArgumentException for p or q &lt; 1, a finite alpha whose sphere step the backend
     *                                  lacks for p, a start of the wrong length, or a start vector of zero
     *                                  or non-finite l_p norm
     */
    public static <V, S> BatchResult<V> estimate(BatchMap<V> a, BatchOps<V, S> ops, double p, double q, Options o,
                                                 float[] start, boolean leftVectors) {
        Norms.checkP(p, "p");
        Norms.checkP(q, "q");
        int b = a.batch(), n = a.inDim(), m = a.outDim();
        PowerMethod.checkDims(b, n, m);
        if (o.alpha() != Double.POSITIVE_INFINITY) ops.checkSphereStep(p);
        float[] first = StartVectors.batch(b, n, o.seed(), start);
        double[] value = new double[b];
        int[] iters = new int[b], restart = new int[b];
        boolean[] converged = new boolean[b], better = new boolean[b];
        Run<V, S> run = new Run<>(a, ops, p, q, o);
        V best = null, runBest = null, u = null;
        boolean done = false;
        try {
            best = ops.allocate(b, n);
            if (o.restarts() > 1) runBest = ops.allocate(b, n);
            for (int r = 0; r < o.restarts(); r++) {
                run.once(r == 0 ? first : StartVectors.batch(b, n, o.seed(), r), r == 0 ? best : runBest);
                for (int i = 0; i < b; i++) {
                    better[i] = r == 0 || run.bestValue[i] > value[i];
                    if (better[i]) {
                        value[i] = run.bestValue[i];
                        iters[i] = run.iters[i];
                        converged[i] = run.converged[i];
                        restart[i] = r;
                    }
                }
                if (r > 0) ops.copyRowsWhere(best, runBest, better, n);
            }
            if (leftVectors) {
                u = ops.allocate(b, m);
                a.apply(best, run.w);
                ops.dualRows(u, run.w, b, m, q);
            }
            BatchResult<V> res = new BatchResult<>(ops, value, iters, converged, restart, best, u);
            done = true;
            return res;
        } finally {
            run.release();
            if (runBest != null) ops.release(runBest);
            if (!done) {
                if (best != null) ops.release(best);
                if (u != null) ops.release(u);
            }
        }
    }

    /**
     * The outcome of {@link #estimate(BatchMap, BatchOps, double, double, Options, float[], boolean)}:
     * per-example scalars on the host, the maximizers (and on request u) in the backend's buffers, which
     * {@link #close()} gives back.
     */
    public static final class BatchResult<V> implements AutoCloseable {
        private final BatchOps<V, ?> ops;
        private final double[] value;
        private final int[] iterations;
        private final boolean[] converged;
        private final int[] restart;
        private final V v;
        private final V u;
        private boolean closed;

        BatchResult(BatchOps<V, ?> ops, double[] value, int[] iterations, boolean[] converged, int[] restart, V v, V u) {
            this.ops = ops;
            this.value = value;
            this.iterations = iterations;
            this.converged = converged;
            this.restart = restart;
            this.v = v;
            this.u = u;
        }

        /** ||A_i v_i||_q / ||v_i||_p of each example's best iterate (a lower bound); -1 where no iterate had a value. */
        public double[] value() { return value; }

        /** Products with A made by each example's best run. */
        public int[] iterations() { return iterations; }

        /** Whether each example's best run met the stopping test before the cap. */
        public boolean[] converged() { return converged; }

        /** Index of each example's best run (0 = the first). */
        public int[] restart() { return restart; }

        /** The maximizers (batch x inDim), ||v_i||_p = 1 up to rounding; zero rows where the value is -1. */
        public V v() {
            checkOpen();
            return v;
        }

        /**
         * u_i = D_q(A_i v_i) for the maximizers (batch x outDim).
         *
         * @throws IllegalStateException when the run was not asked for it
         */
        public V u() {
            checkOpen();
            if (u == null) throw new IllegalStateException("u was not computed: ask for the left vectors when estimating");
            return u;
        }

        private void checkOpen() {
            if (closed) throw new IllegalStateException("the (p,q) iteration's result is closed");
        }

        /** Gives the vectors back to the backend. */
        @Override
        public void close() {
            if (closed) return;
            closed = true;
            ops.release(v);
            if (u != null) ops.release(u);
        }
    }

    /** One run's buffers and per-example bookkeeping, reused by the restarts. */
    private static final class Run<V, S> {
        final BatchMap<V> a;
        final BatchOps<V, S> ops;
        final double p, q, pStar;
        final Options o;
        final int b, n, m;
        final V v, w, z;
        final S norms; // [0, b): ||A v||_q, [b, 2b): ||v||_p, [2b, 3b): ||A^T u||_inf
        final double[] bestValue;
        final int[] iters;
        final boolean[] converged, active, improved;

        Run(BatchMap<V> a, BatchOps<V, S> ops, double p, double q, Options o) {
            this.a = a;
            this.ops = ops;
            this.p = p;
            this.q = q;
            this.pStar = Norms.conjugate(p);
            this.o = o;
            this.b = a.batch();
            this.n = a.inDim();
            this.m = a.outDim();
            this.v = ops.allocate(b, n);
            this.w = ops.allocate(b, m);
            this.z = ops.allocate(b, n);
            this.norms = ops.scalars(3 * b);
            this.bestValue = new double[b];
            this.iters = new int[b];
            this.converged = new boolean[b];
            this.active = new boolean[b];
            this.improved = new boolean[b];
        }

        /**
         * One run per example from the host vectors start (normalized here; overwritten), each example's
         * best iterate copied into its row of {@code best} (rows that never improve are untouched).
         */
        void once(float[] start, V best) {
            double[] value = new double[b];
            for (int i = 0; i < b; i++) {
                double np = Norms.lp(start, i * n, n, p);
                if (np == 0 || !Double.isFinite(np)) throw new IllegalArgumentException("start vector of example " + i + " has l_p norm " + np);
                for (int j = i * n; j < (i + 1) * n; j++) start[j] = (float) (start[j] / np);
                value[i] = Double.NaN;
                bestValue[i] = -1;
                iters[i] = 0;
                converged[i] = false;
                active[i] = true;
            }
            ops.upload(start, v, b, n);
            boolean limit = o.alpha() == Double.POSITIVE_INFINITY;
            int remaining = b;
            for (int k = 1; k <= o.maxIterations() && remaining > 0; k++) {
                a.apply(v, w);
                ops.rowNorms(norms, 0, w, b, m, q);
                ops.rowNorms(norms, b, v, b, n, p);
                double[] s = ops.read(norms, k == 1 ? 2 * b : 3 * b); // the iteration's one transfer
                boolean any = false;
                for (int i = 0; i < b; i++) {
                    improved[i] = false;
                    if (!active[i]) continue;
                    if (k > 1 && s[2 * b + i] == 0) {
                        // <A^T u, v> = ||A v||_q > 0 rules this out in exact arithmetic; after underflow, stop
                        // as of the previous iteration
                        converged[i] = true;
                        active[i] = false;
                        remaining--;
                        continue;
                    }
                    iters[i] = k;
                    double val = s[i] / s[b + i];
                    double prev = value[i];
                    value[i] = val;
                    if (val > bestValue[i]) {
                        bestValue[i] = val;
                        improved[i] = true;
                        any = true;
                    }
                    converged[i] = val == 0 || Math.abs(val - prev) <= o.relTol() * val;
                    if (converged[i] || k == o.maxIterations()) {
                        active[i] = false;
                        remaining--;
                    }
                }
                if (any) ops.copyRowsWhere(best, v, improved, n);
                if (remaining == 0) break;
                ops.dualRows(w, w, b, m, q);           // u = D_q(A v), in place
                a.applyTranspose(w, z);                // z = A^T u
                ops.rowNorms(norms, 2 * b, z, b, n, Double.POSITIVE_INFINITY);
                if (limit) {
                    ops.dualRows(v, z, b, n, pStar);   // v = N_p(z)
                } else {
                    ops.sphereStep(v, z, o.alpha(), b, n, p); // v = Proj_{||.||_p = 1}(v + alpha z)
                }
            }
        }

        void release() {
            ops.release(v);
            ops.release(w);
            ops.release(z);
            ops.releaseScalars(norms);
        }
    }
}
