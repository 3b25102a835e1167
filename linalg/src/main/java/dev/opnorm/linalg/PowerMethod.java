package dev.opnorm.linalg;

import java.util.ArrayList;
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
        return run(BatchLinearMaps.single(a), options, start.clone()).get(0);
    }

    /** Per-example sigma_max of a batch, one apply/applyTranspose pair per iteration for all examples. */
    public static List<Result> sigmaMax(BatchLinearMap a, Options options) {
        int n = a.inDim(), b = a.batch();
        float[] v = new float[b * n];
        for (int i = 0; i < b; i++) StartVectors.gaussian(StartVectors.exampleSeed(options.seed(), i), v, i * n, n);
        return run(a, options, v);
    }

    /**
     * Per-example sigma_max of a batch from given starting vectors (example after example, length
     * batch*inDim; not modified).
     */
    public static List<Result> sigmaMax(BatchLinearMap a, Options options, float[] start) {
        if (start.length != a.batch() * a.inDim()) {
            throw new IllegalArgumentException("start vectors length " + start.length + ", expected batch*inDim " + a.batch() * a.inDim());
        }
        return run(a, options, start.clone());
    }

    private static List<Result> run(BatchLinearMap a, Options o, float[] v) {
        int b = a.batch(), n = a.inDim(), m = a.outDim();
        checkDims(b, n, m);
        float[] w = new float[b * m], u = new float[b * m], z = new float[b * n];
        double[] sigma = new double[b];
        int[] iters = new int[b];
        boolean[] active = new boolean[b], converged = new boolean[b];
        for (int i = 0; i < b; i++) {
            double nv = Norms.lp(v, i * n, n, 2);
            if (nv == 0 || !Double.isFinite(nv)) throw new IllegalArgumentException("start vector of example " + i + " has norm " + nv);
            scale(v, i * n, n, 1 / nv);
            sigma[i] = Double.NaN;
            active[i] = true;
        }
        int remaining = b;
        for (int k = 1; k <= o.maxIterations() && remaining > 0; k++) {
            a.apply(v, w);
            for (int i = 0; i < b; i++) {
                if (!active[i]) continue;
                iters[i] = k;
                double s = Norms.lp(w, i * m, m, 2);
                double prev = sigma[i];
                sigma[i] = s;
                if (s == 0) {
                    java.util.Arrays.fill(u, i * m, (i + 1) * m, 0f);
                    converged[i] = true;
                } else {
                    for (int j = 0; j < m; j++) u[i * m + j] = (float) (w[i * m + j] / s);
                    converged[i] = Math.abs(s - prev) <= o.relTol() * s;
                }
                if (converged[i] || k == o.maxIterations()) {
                    active[i] = false;
                    remaining--;
                }
            }
            if (remaining == 0) break;
            a.applyTranspose(u, z);
            for (int i = 0; i < b; i++) {
                if (!active[i]) continue;
                double nz = Norms.lp(z, i * n, n, 2);
                // u = A v/||A v|| != 0 implies <A^T u, v> = ||A v|| > 0, so nz > 0 up to underflow
                if (nz > 0) {
                    for (int j = 0; j < n; j++) v[i * n + j] = (float) (z[i * n + j] / nz);
                }
            }
        }
        List<Result> out = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            out.add(new Result(sigma[i], java.util.Arrays.copyOfRange(u, i * m, (i + 1) * m),
                    java.util.Arrays.copyOfRange(v, i * n, (i + 1) * n), iters[i], converged[i]));
        }
        return out;
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
