package dev.opnorm.linalg;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/**
 * The power method for the largest singular value sigma_max(A) = ||A||_{2,2} (Eq. 6 of the paper):
 *
 * <pre>
 *   u_k = A v_{k-1} / ||A v_{k-1}||_2        (forward: JVP for a network)
 *   v_k = A^T u_k / ||A^T u_k||_2             (backward: VJP)
 *   sigma = u^T A v = ||A v||_2
 * </pre>
 *
 * and its block version (subspace iteration with Rayleigh-Ritz) for the top-k singular values.
 *
 * <p>Stopping: the iteration stops when |sigma_k - sigma_{k-1}| &lt;= relTol * sigma_k (converged) or
 * after maxIterations products with A (not converged). The reported sigma is ||A v||_2 for the
 * reported unit vector v, so it is always attained, i.e. a lower bound of sigma_max up to the
 * round-off of one product; u = A v / sigma. The gap to sigma_max after k iterations shrinks like
 * (sigma_2/sigma_1)^(2k), so a loose relTol with a small spectral gap stops early; tighten it (or cap
 * the iterations) accordingly. A zero map gives sigma = 0, u = 0, converged.
 *
 * <p>Batched: {@link #sigmaMax(BatchLinearMap, Options)} runs one power method per example with one
 * {@code apply} and one {@code applyTranspose} call per iteration for the whole batch. Each example
 * has its own vectors and stops on its own (its state is frozen; the batch keeps going while any
 * example is active). Example i starts from the Gaussian vector of {@link StartVectors#exampleSeed}(seed, i)
 * and its result is bit-identical to {@link #sigmaMax(LinearMap, Options)} on that example with the
 * derived seed (the single-map method is the batched one on a batch of one).
 *
 * <p>Backends: the batched method is written once, on {@link BatchMap} and {@link BatchOps}
 * ({@link #sigmaMax(BatchMap, BatchOps, Options, float[], boolean)}); the host methods here run it on
 * {@link HostBatchOps}, a device backend runs it on its buffers with the same start vectors and rules.
 */
public final class PowerMethod {
    private PowerMethod() {}

    /**
     * Settings of the power method.
     *
     * @param maxIterations the most products with A per example (>= 1)
     * @param relTol        relative change of sigma between iterations that counts as converged (>= 0)
     * @param seed          seed of the Gaussian starting vector(s)
     */
    public record Options(int maxIterations, double relTol, long seed) {
        public Options {
            if (maxIterations < 1) throw new IllegalArgumentException("maxIterations must be >= 1, got " + maxIterations);
            if (!(relTol >= 0)) throw new IllegalArgumentException("relTol must be >= 0, got " + relTol);
        }

        /** 1000 iterations, relTol 1e-7, seed 0. */
        public static Options defaults() { return new Options(1000, 1e-7, 0); }

        public Options withMaxIterations(int n) { return new Options(n, relTol, seed); }
        public Options withRelTol(double t) { return new Options(maxIterations, t, seed); }
        public Options withSeed(long s) { return new Options(maxIterations, relTol, s); }
    }

    /**
     * Result of one power method run. The arrays are owned by the caller after return.
     *
     * @param sigma      ||A v||_2, the estimate of sigma_max
     * @param u          left vector A v / sigma, length outDim (zero if sigma = 0)
     * @param v          right unit vector, length inDim
     * @param iterations products with A used
     * @param converged  whether the relative-change test passed before the cap
     */
    public record Result(double sigma, float[] u, float[] v, int iterations, boolean converged) {}

    /**
     * Top-k singular triplets, largest first.
     *
     * @param sigmas     k singular values, descending
     * @param u          k left singular vectors, each of length outDim
     * @param v          k right singular vectors, each of length inDim
     * @param iterations block iterations used
     * @param converged  whether every one of the k values changed by at most relTol * sigma_1 in the last block iteration
     */
    public record Spectrum(double[] sigmas, float[][] u, float[][] v, int iterations, boolean converged) {}

    /** sigma_max of a map from a Gaussian start drawn from {@code options.seed()}. */
    public static Result sigmaMax(LinearMap a, Options options) {
        return sigmaMax(BatchLinearMaps.single(a), options).get(0);
    }

    /**
     * sigma_max of a map from a given starting vector (not modified; normalized here).
     *
     * @throws IllegalArgumentException if start has the wrong length or is zero
     */
    public static Result sigmaMax(LinearMap a, Options options, float[] start) {
        if (start.length != a.inDim()) throw new IllegalArgumentException("start vector length " + start.length + ", expected inDim " + a.inDim());
        return sigmaMax(BatchLinearMaps.single(a), HostBatchOps.INSTANCE, options, start).get(0);
    }

    /** Per-example sigma_max of a batch, one apply/applyTranspose pair per iteration for all examples. */
    public static List<Result> sigmaMax(BatchLinearMap a, Options options) {
        return sigmaMax(a, HostBatchOps.INSTANCE, options, null);
    }

    /**
     * Per-example sigma_max of a batch from given starting vectors (example after example, length
     * batch*inDim; not modified).
     */
    public static List<Result> sigmaMax(BatchLinearMap a, Options options, float[] start) {
        return sigmaMax(a, HostBatchOps.INSTANCE, options, start); // checks the start's length
    }

    /**
     * Per-example sigma_max of a batch of host arrays with the row operations {@code ops} (e.g. a network's
     * host backend's), from the given start vectors (batch*inDim, not modified) or Gaussian ones (null).
     */
    public static <S> List<Result> sigmaMax(BatchLinearMap a, BatchOps<float[], S> ops, Options o, float[] start) {
        if (start != null && start.length != a.batch() * a.inDim()) {
            throw new IllegalArgumentException("start vectors length " + start.length + ", expected batch*inDim " + a.batch() * a.inDim());
        }
        int b = a.batch(), n = a.inDim(), m = a.outDim();
        try (BatchResult<float[]> r = sigmaMax(a, ops, o, start, true)) {
            List<Result> out = new ArrayList<>(b);
            for (int i = 0; i < b; i++) {
                out.add(new Result(r.sigma()[i], Arrays.copyOfRange(r.u(), i * m, (i + 1) * m),
                        Arrays.copyOfRange(r.v(), i * n, (i + 1) * n), r.iterations()[i], r.converged()[i]));
            }
            return out;
        }
    }

    /**
     * Per-example sigma_max of a batch on any backend: the one implementation of the batched power
     * method ({@link #sigmaMax(BatchLinearMap, Options)} is this on {@link HostBatchOps}). The start
     * vectors are drawn and normalized on the host and uploaded once; the iterates stay in the backend's
     * buffers, and each iteration reads back one scalar per example (||A_i v_i||_2), from which the
     * host decides convergence. Examples that have stopped keep being iterated with the others (their
     * rows are ignored); their vectors are copied aside in the iteration they stop.
     *
     * @param start   start vectors (batch*inDim, example after example; not modified), or null for the
     *                Gaussian starts of {@link StartVectors#exampleSeed}(seed, i)
     * @param vectors whether to keep u and v in the result (two buffers the caller closes with it)
     * @throws IllegalArgumentException for bad dimensions, a start of the wrong length, or a start vector
     *                                  of zero or non-finite norm
     */
    public static <V, S> BatchResult<V> sigmaMax(BatchMap<V> a, BatchOps<V, S> ops, Options o, float[] start,
                                                 boolean vectors) {
        int b = a.batch(), n = a.inDim(), m = a.outDim();
        checkDims(b, n, m);
        float[] v0 = StartVectors.batch(b, n, o.seed(), start);
        for (int i = 0; i < b; i++) {
            double nv = Norms.lp(v0, i * n, n, 2);
            if (nv == 0 || !Double.isFinite(nv)) throw new IllegalArgumentException("start vector of example " + i + " has norm " + nv);
            scale(v0, i * n, n, 1 / nv);
        }
        double[] sigma = new double[b];
        int[] iters = new int[b];
        boolean[] active = new boolean[b], converged = new boolean[b], stopped = new boolean[b];
        Arrays.fill(sigma, Double.NaN);
        Arrays.fill(active, true);
        V v = ops.allocate(b, n), w = ops.allocate(b, m), z = ops.allocate(b, n);
        V keepV = vectors ? ops.allocate(b, n) : null, keepU = vectors ? ops.allocate(b, m) : null;
        S norms = ops.scalars(2 * b); // [0, b): ||A v||, [b, 2b): ||A^T u||
        boolean done = false;
        try {
            ops.upload(v0, v, b, n);
            int remaining = b;
            for (int k = 1; k <= o.maxIterations() && remaining > 0; k++) {
                a.apply(v, w);
                ops.rowNorms(norms, 0, w, b, m, 2);
                double[] s = ops.read(norms, b); // the iteration's one transfer
                boolean anyStopped = false;
                for (int i = 0; i < b; i++) {
                    stopped[i] = false;
                    if (!active[i]) continue;
                    iters[i] = k;
                    double prev = sigma[i];
                    sigma[i] = s[i];
                    converged[i] = s[i] == 0 || Math.abs(s[i] - prev) <= o.relTol() * s[i];
                    if (converged[i] || k == o.maxIterations()) {
                        active[i] = false;
                        stopped[i] = true;
                        anyStopped = true;
                        remaining--;
                    }
                }
                ops.divideRows(w, w, norms, 0, b, m); // u = A v / ||A v|| in place (a zero row stays zero)
                if (vectors && anyStopped) {
                    ops.copyRowsWhere(keepV, v, stopped, n);
                    ops.copyRowsWhere(keepU, w, stopped, m);
                }
                if (remaining == 0) break;
                a.applyTranspose(w, z);
                ops.rowNorms(norms, b, z, b, n, 2);
                // u = A v/||A v|| != 0 implies <A^T u, v> = ||A v|| > 0, so ||z|| > 0 up to underflow; else v stays
                ops.divideRows(v, z, norms, b, b, n);
            }
            BatchResult<V> r = new BatchResult<>(ops, sigma, iters, converged, keepU, keepV);
            done = true;
            return r;
        } finally {
            ops.release(v);
            ops.release(w);
            ops.release(z);
            ops.releaseScalars(norms);
            if (!done && vectors) {
                ops.release(keepV);
                ops.release(keepU);
            }
        }
    }

    /**
     * The outcome of {@link #sigmaMax(BatchMap, BatchOps, Options, float[], boolean)}: per-example
     * scalars on the host and, when asked for, the vectors in the backend's buffers, which
     * {@link #close()} gives back.
     */
    public static final class BatchResult<V> implements AutoCloseable {
        private final BatchOps<V, ?> ops;
        private final double[] sigma;
        private final int[] iterations;
        private final boolean[] converged;
        private final V u;
        private final V v;
        private boolean closed;

        BatchResult(BatchOps<V, ?> ops, double[] sigma, int[] iterations, boolean[] converged, V u, V v) {
            this.ops = ops;
            this.sigma = sigma;
            this.iterations = iterations;
            this.converged = converged;
            this.u = u;
            this.v = v;
        }

        /** ||A_i v_i||_2 of each example, the estimate of its sigma_max. */
        public double[] sigma() { return sigma; }

        /** Products with A used by each example. */
        public int[] iterations() { return iterations; }

        /** Whether each example passed the relative-change test before the cap. */
        public boolean[] converged() { return converged; }

        /** Left vectors u_i = A_i v_i / sigma_i (batch x outDim; zero rows where sigma = 0). */
        public V u() { return vector(u); }

        /** Right unit vectors v_i (batch x inDim). */
        public V v() { return vector(v); }

        private V vector(V x) {
            if (closed) throw new IllegalStateException("the power method's result is closed");
            if (x == null) throw new IllegalStateException("the vectors were not kept: ask for them when running");
            return x;
        }

        /** Gives the vectors back to the backend. */
        @Override
        public void close() {
            if (closed) return;
            closed = true;
            if (u != null) {
                ops.release(u);
                ops.release(v);
            }
        }
    }

    /**
     * The k largest singular values and vectors by subspace iteration on A^T A with Rayleigh-Ritz
     * (block size k plus up to 8 extra vectors, which speeds convergence of the k-th value). Each block
     * iteration costs (k + extra) products with A and with A^T; the Ritz step is an SVD of the
     * outDim x (k + extra) matrix A V in double. Stops when every one of the k values changes by at
     * most relTol * sigma_1 between block iterations, or after maxIterations block iterations.
     *
     * @throws IllegalArgumentException if k &lt; 1 or k > min(inDim, outDim)
     */
    public static Spectrum topK(LinearMap a, int k, Options o) {
        int n = a.inDim(), m = a.outDim(), r = Math.min(m, n);
        checkDims(1, n, m);
        if (k < 1 || k > r) throw new IllegalArgumentException("k = " + k + " must be in [1, min(inDim, outDim) = " + r + "]");
        int kk = Math.min(r, k + Math.min(k, 8));
        DMatrixRMaj basis = new DMatrixRMaj(n, kk); // columns: orthonormal basis of the current subspace
        java.util.SplittableRandom rng = new java.util.SplittableRandom(o.seed());
        for (int i = 0; i < basis.data.length; i++) basis.data[i] = rng.nextGaussian();
        orthonormalize(basis);
        float[] vin = new float[n], vout = new float[m], back = new float[n];
        DMatrixRMaj av = new DMatrixRMaj(m, kk);
        double[] prev = new double[k];
        java.util.Arrays.fill(prev, Double.NaN);
        Svd.Result ritz = null;
        boolean converged = false;
        int it = 0;
        while (it < o.maxIterations()) {
            it++;
            for (int j = 0; j < kk; j++) {
                for (int i = 0; i < n; i++) vin[i] = (float) basis.get(i, j);
                a.apply(vin, vout);
                for (int i = 0; i < m; i++) av.set(i, j, vout[i]);
            }
            ritz = Svd.of(av);
            converged = true;
            // products in float carry absolute errors ~1e-7 sigma_1 for every value, so the test is relative to sigma_1
            double top = Math.max(ritz.singularValues()[0], Double.MIN_NORMAL);
            for (int j = 0; j < k; j++) {
                double s = ritz.singularValues()[j];
                if (!(Math.abs(s - prev[j]) <= o.relTol() * top)) converged = false;
                prev[j] = s;
            }
            if (converged || it == o.maxIterations() || kk == n) break;
            // next basis: orth(A^T A V)
            for (int j = 0; j < kk; j++) {
                for (int i = 0; i < m; i++) vout[i] = (float) av.get(i, j);
                a.applyTranspose(vout, back);
                for (int i = 0; i < n; i++) basis.set(i, j, back[i]);
            }
            orthonormalize(basis);
        }
        // basis spans R^n (kk == n): one Ritz step is exact, no iteration needed
        if (kk == n) converged = true;
        double[] sig = java.util.Arrays.copyOf(ritz.singularValues(), k);
        float[][] uu = new float[k][m], vv = new float[k][n];
        DMatrixRMaj rightSmall = ritz.v(); // kk x kk
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < m; i++) uu[j][i] = (float) ritz.u().get(i, j);
            double norm = 0;
            double[] col = new double[n];
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int t = 0; t < kk; t++) s += basis.get(i, t) * rightSmall.get(t, j);
                col[i] = s;
                norm += s * s;
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < n; i++) vv[j][i] = (float) (col[i] / norm);
        }
        return new Spectrum(sig, uu, vv, it, converged);
    }

    /** Replaces the columns of q by an orthonormal basis of their span (thin Householder QR). */
    private static void orthonormalize(DMatrixRMaj q) {
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(q.numRows, q.numCols);
        DMatrixRMaj copy = q.copy();
        if (!qr.decompose(copy)) throw new IllegalStateException("QR decomposition failed (non-finite values in the subspace)");
        DMatrixRMaj thin = qr.getQ(null, true);
        q.setTo(thin);
    }

    private static void scale(float[] x, int off, int len, double s) {
        for (int i = off; i < off + len; i++) x[i] = (float) (x[i] * s);
    }

    static void checkDims(int b, int n, int m) {
        if (b < 1 || n < 1 || m < 1) throw new IllegalArgumentException("map dimensions must be positive: batch " + b + ", inDim " + n + ", outDim " + m);
    }
}
