package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;

import java.util.Arrays;

/**
 * The batched (p,q) operator-norm iteration of {@code linalg.OperatorNorm} (Eq. 12, the power-method
 * limit alpha = inf, and Eq. 11, finite alpha, for p = 1, 2, inf) run on the device for an EVAL
 * {@link DeviceLinearization}: per example i,
 * <pre>
 *   w = J v                 value_i = ||w_i||_q / ||v_i||_p      (per-example norms on the device)
 *   u = D_q(w)              z = J^T u                            v = N_p(z) = D_{p*}(z)   (alpha = inf)
 *                                                                v = Proj_{||.||_p = 1}(v + alpha z)
 * </pre>
 * with {@code OperatorNorm}'s semantics: the same start vectors (example i of restart r from
 * {@link StartVectors#restartSeed}({@link StartVectors#exampleSeed}(seed, i), r), the first restart
 * optionally from given vectors), normalized on the host as OperatorNorm does; an example stops when its
 * value changes by at most relTol relative, when it is 0, when J^T u = 0, or at maxIterations; each run
 * keeps its best iterate, restarts keep the best run. The result is a LOWER bound of ||J_i||_{p,q}.
 *
 * <p>What stays on the device: every vector. The best maximizer v of each example is copied into a
 * result tensor on the device (only rows that improved, chosen by a per-example flag), and on request
 * u = D_q(J v) for it. Transfers per iteration: ONE download of 2 or 3 floats per example (||J v||_q,
 * ||v||_p and the previous ||J^T u||_inf), and an upload of one int per example only when the set of
 * improving examples changes; setup uploads the start vectors once per restart. The norms are float
 * results of double sums on the device, so values agree with the host's to float rounding, not bitwise.
 *
 * <p>Finite alpha (Eq. 11): v = Proj_{||.||_p = 1}(v + alpha J^T u) by {@link OpenClOps#sphereStep}, the
 * projection of {@code linalg.Projections.ontoSphere} for p = 1, 2, inf (another p with finite alpha is an
 * IllegalArgumentException naming it: its projection from outside the ball is a nested bisection /
 * Newton solve that the device does not implement). The step moves nothing to the host: the
 * transfers per iteration are the same as for alpha = inf.
 */
public final class DeviceOperatorNorm {
    private DeviceOperatorNorm() {
    }

    /**
     * Per-example results; the device tensors belong to the caller, who must {@link #close()} the result
     * (the buffers go back to the model's pool, or are freed when the model is already closed).
     */
    public static final class Result implements AutoCloseable {
        private final DeviceModel model;
        private final double[] value;
        private final int[] iterations;
        private final boolean[] converged;
        private final int[] restart;
        private final DeviceTensor v;
        private final DeviceTensor u;
        private boolean closed;

        Result(DeviceModel model, double[] value, int[] iterations, boolean[] converged, int[] restart,
               DeviceTensor v, DeviceTensor u) {
            this.model = model;
            this.value = value;
            this.iterations = iterations;
            this.converged = converged;
            this.restart = restart;
            this.v = v;
            this.u = u;
        }

        /**
         * ||J_i v_i||_q / ||v_i||_p of each example's best iterate, a lower bound of ||J_i||_{p,q}; -1 where
         * no iterate had a value (all NaN), as OperatorNorm.
         */
        public double[] value() {
            return value;
        }

        /** Products with J made by each example's best run. */
        public int[] iterations() {
            return iterations;
        }

        /** Whether each example's best run met the stopping test before the cap. */
        public boolean[] converged() {
            return converged;
        }

        /** Index of each example's best run (0 = the first). */
        public int[] restart() {
            return restart;
        }

        /** The maximizers v (B, input shape), ||v_i||_p = 1 up to rounding; zero rows where no value was finite. */
        public DeviceTensor v() {
            checkOpen();
            return v;
        }

        /**
         * u_i = D_q(J_i v_i) (B, output shape) for the maximizers.
         *
         * @throws IllegalStateException when the run was not asked for it
         */
        public DeviceTensor u() {
            checkOpen();
            if (u == null) {
                throw new IllegalStateException("u was not computed: ask for the left vectors when estimating");
            }
            return u;
        }

        /** A host copy of v (one download). */
        public float[] downloadV() {
            return v().download();
        }

        /** A host copy of u (one download). */
        public float[] downloadU() {
            return u().download();
        }

        private void checkOpen() {
            if (closed) {
                throw new IllegalStateException("DeviceOperatorNorm.Result is closed");
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            for (DeviceTensor t : new DeviceTensor[]{v, u}) {
                if (t == null) {
                    continue;
                }
                if (model.isOpen()) {
                    model.pool().give(t);
                } else {
                    t.close();
                }
            }
        }
    }

    /** As {@link #estimate(DeviceLinearization, double, double, OperatorNorm.Options, float[], boolean)}, Gaussian starts, no u. */
    public static Result estimate(DeviceLinearization lin, double p, double q, OperatorNorm.Options o) {
        return estimate(lin, p, q, o, null, false);
    }

    /**
     * Runs the (p,q) iteration on {@code lin} (EVAL mode).
     *
     * @param start     the first run's start vectors (batch * perExample, example after example; not
     *                  modified), or null for OperatorNorm's Gaussian starts
     * @param leftVectors also compute u = D_q(J v) for the maximizers (one more JVP)
     * @throws IllegalArgumentException in TRAIN mode, for p or q &lt; 1, finite alpha with p not 1, 2 or inf, a start of the wrong
     *                                  length, or a start vector of zero or non-finite l_p norm
     */
    public static Result estimate(DeviceLinearization lin, double p, double q, OperatorNorm.Options o, float[] start,
                                  boolean leftVectors) {
        if (lin.mode() != BnMode.EVAL) {
            throw new IllegalArgumentException("the per-example (p,q) iteration needs an EVAL linearization");
        }
        Norms.checkP(p, "p");
        Norms.checkP(q, "q");
        if (o.alpha() != Double.POSITIVE_INFINITY && !(p == 1 || p == 2 || p == Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("the device (p,q) iteration with finite alpha (" + o.alpha()
                    + ") projects onto the l_p sphere for p = 1, 2, inf only, got p = " + Norms.format(p)
                    + " (use alpha = inf, or the CPU backend)");
        }
        Shape in = lin.inShape(), out = lin.outShape();
        int b = in.n(), n = in.perExample();
        if (start != null && start.length != b * n) {
            throw new IllegalArgumentException("start vectors length " + start.length + ", expected batch*inDim " + b * n);
        }
        DeviceModel model = lin.model();
        DevicePool pool = model.pool();
        Run run = new Run(lin, p, q, o);
        DeviceTensor bestV = pool.tensor(in), runV = o.restarts() > 1 ? pool.tensor(in) : null, u = null;
        DeviceInts pick = o.restarts() > 1 ? pool.ints(b) : null;
        try {
            double[] value = new double[b];
            int[] iters = new int[b], restart = new int[b];
            boolean[] converged = new boolean[b];
            float[] v = new float[b * n];
            int[] flags = new int[b];
            for (int r = 0; r < o.restarts(); r++) {
                if (r == 0 && start != null) {
                    System.arraycopy(start, 0, v, 0, v.length);
                } else {
                    for (int i = 0; i < b; i++) {
                        StartVectors.gaussian(StartVectors.restartSeed(StartVectors.exampleSeed(o.seed(), i), r), v, i * n, n);
                    }
                }
                run.once(v, r == 0 ? bestV : runV);
                for (int i = 0; i < b; i++) {
                    boolean better = r == 0 || run.bestValue[i] > value[i];
                    flags[i] = better ? 1 : 0;
                    if (better) {
                        value[i] = run.bestValue[i];
                        iters[i] = run.iters[i];
                        converged[i] = run.converged[i];
                        restart[i] = r;
                    }
                }
                if (r > 0) {
                    pick.upload(flags);
                    model.ops().copyRowsWhere(bestV, runV, pick, b, n);
                }
            }
            if (leftVectors) {
                u = pool.tensor(out);
                lin.jvp(bestV, run.w);
                model.ops().dualRows(u, run.w, b, out.perExample(), q);
            }
            Result res = new Result(model, value, iters, converged, restart, bestV, u);
            bestV = null;
            u = null;
            return res;
        } finally {
            run.release();
            for (DeviceTensor t : new DeviceTensor[]{bestV, runV, u}) {
                if (t != null) {
                    pool.give(t);
                }
            }
            if (pick != null) {
                pool.give(pick);
            }
        }
    }

    /** The state of one run: device vectors and the host's per-example bookkeeping. */
    private static final class Run {
        final DeviceLinearization lin;
        final OpenClOps ops;
        final double p, q, pStar;
        final OperatorNorm.Options o;
        final int b, n, m;
        final DevicePool pool;
        final DeviceTensor v, w, z, norms;
        final DeviceInts flags;
        final double[] bestValue;
        final int[] iters;
        final boolean[] converged;

        Run(DeviceLinearization lin, double p, double q, OperatorNorm.Options o) {
            this.lin = lin;
            this.ops = lin.model().ops();
            this.p = p;
            this.q = q;
            this.pStar = Norms.conjugate(p);
            this.o = o;
            Shape in = lin.inShape(), out = lin.outShape();
            this.b = in.n();
            this.n = in.perExample();
            this.m = out.perExample();
            this.pool = lin.model().pool();
            this.v = pool.tensor(in);
            this.w = pool.tensor(out);
            this.z = pool.tensor(in);
            this.norms = pool.tensor(Shape.features(1, 3 * b));
            this.flags = pool.ints(b);
            this.bestValue = new double[b];
            this.iters = new int[b];
            this.converged = new boolean[b];
        }

        /**
         * One run from the host vectors {@code start} (normalized here, as OperatorNorm does; overwritten),
         * its best iterates copied into rows of {@code best} (a row that never improves is zero).
         */
        void once(float[] start, DeviceTensor best) {
            double[] value = new double[b];
            boolean[] active = new boolean[b];
            for (int i = 0; i < b; i++) {
                double np = Norms.lp(start, i * n, n, p);
                if (np == 0 || !Double.isFinite(np)) {
                    throw new IllegalArgumentException("start vector of example " + i + " has l_p norm " + np);
                }
                for (int j = i * n; j < (i + 1) * n; j++) {
                    start[j] = (float) (start[j] / np);
                }
                value[i] = Double.NaN;
                bestValue[i] = -1;
                active[i] = true;
                iters[i] = 0;
                converged[i] = false;
            }
            v.upload(start, 0, 0, b * n);
            ops.fill(best, 0f, b * n);
            float[] host = new float[3 * b];
            int[] improved = new int[b];
            int[] uploaded = null;
            int remaining = b;
            for (int k = 1; k <= o.maxIterations() && remaining > 0; k++) {
                lin.jvp(v, w);
                ops.rowNorms(norms, 0, w, b, m, q);
                ops.rowNorms(norms, b, v, b, n, p);
                // the iteration's one download: ||J v||_q, ||v||_p and (after a transpose) ||J^T u||_inf
                norms.download(host, 0, 0, k == 1 ? 2 * b : 3 * b);
                boolean any = false;
                for (int i = 0; i < b; i++) {
                    improved[i] = 0;
                    if (!active[i]) {
                        continue;
                    }
                    if (k > 1 && host[2 * b + i] == 0) {
                        // OperatorNorm stops here right after the transpose: <J^T u, v> = ||J v||_q > 0
                        // rules this out in exact arithmetic, so it is underflow
                        converged[i] = true;
                        active[i] = false;
                        remaining--;
                        continue;
                    }
                    iters[i] = k;
                    double val = (double) host[i] / host[b + i];
                    double prev = value[i];
                    value[i] = val;
                    if (val > bestValue[i]) {
                        bestValue[i] = val;
                        improved[i] = 1;
                        any = true;
                    }
                    converged[i] = val == 0 || Math.abs(val - prev) <= o.relTol() * val;
                    if (converged[i] || k == o.maxIterations()) {
                        active[i] = false;
                        remaining--;
                    }
                }
                if (any) {
                    if (uploaded == null || !Arrays.equals(uploaded, improved)) {
                        flags.upload(improved);
                        uploaded = improved.clone();
                    }
                    ops.copyRowsWhere(best, v, flags, b, n);
                }
                if (remaining == 0) {
                    break;
                }
                ops.dualRows(w, w, b, m, q);            // u = D_q(J v), in place
                lin.vjp(w, z);                          // z = J^T u
                ops.rowNorms(norms, 2 * b, z, b, n, Double.POSITIVE_INFINITY);
                if (o.alpha() == Double.POSITIVE_INFINITY) {
                    ops.dualRows(v, z, b, n, pStar);    // v = N_p(z)
                } else {
                    ops.sphereStep(v, z, o.alpha(), b, n, p);   // v = Proj_{||.||_p = 1}(v + alpha z)
                }
            }
        }

        void release() {
            for (DeviceTensor t : new DeviceTensor[]{v, w, z, norms}) {
                pool.give(t);
            }
            pool.give(flags);
        }
    }
}
