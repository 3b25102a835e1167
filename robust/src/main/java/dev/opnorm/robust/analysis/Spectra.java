package dev.opnorm.robust.analysis;

import dev.opnorm.linalg.BatchLinearMap;
import dev.opnorm.linalg.Jacobians;
import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Layer;
import org.ejml.data.DMatrixRMaj;

/**
 * Fig. 2 of the paper: the full singular value spectrum of the features' Jacobian J_phi(x) at test points, and
 * the alignment |cos(delta, v_r)| of a perturbation delta (e.g. an adversarial x* - x) with the right singular
 * vectors v_r against the rank r.
 *
 * <p>Dense Jacobians are extracted in batched passes. {@link #jacobians} linearizes a batch of n points once
 * and pushes the k-th basis vector into every example at the same time: min(in, out) passes of batch n give
 * all n Jacobians (by rows through the VJP when out &lt;= in - the penultimate features of the 7-layer CNN are
 * 256 x 1024 at width 0.25 - else by columns through the JVP). {@link #jacobianSvd} is the single-point variant
 * that replicates one example {@code batch} times. SVDs are EJML's, in double. BatchNorm EVAL.
 */
public final class Spectra {
    private Spectra() {
    }

    /**
     * The per-example Jacobians of phi at the n points of x, each out x in (out = phi's features per example,
     * in = input values per example), in double.
     *
     * @param upTo child path of phi (dotted for nested Sequentials) or null for the whole model
     * @throws IllegalArgumentException for an unknown path
     */
    public static DMatrixRMaj[] jacobians(Layer model, String upTo, Tensor x) {
        return jacobians(Features.linearize(model, upTo, x).asBatchLinearMap());
    }

    /**
     * The dense matrices of the batch's blocks A_0 .. A_{b-1} (which may all differ), with min(in, out) batched
     * calls: call k pushes the k-th unit vector through every block at once.
     */
    static DMatrixRMaj[] jacobians(BatchLinearMap a) {
        int b = a.batch(), n = a.inDim(), m = a.outDim();
        DMatrixRMaj[] out = new DMatrixRMaj[b];
        for (int i = 0; i < b; i++) {
            out[i] = new DMatrixRMaj(m, n);
        }
        if (m <= n) {
            float[] basis = new float[b * m], rows = new float[b * n];
            for (int k = 0; k < m; k++) {
                for (int i = 0; i < b; i++) {
                    basis[i * m + k] = 1f;
                }
                a.applyTranspose(basis, rows);
                for (int i = 0; i < b; i++) {
                    basis[i * m + k] = 0f;
                    double[] d = out[i].data;
                    for (int j = 0; j < n; j++) {
                        d[k * n + j] = rows[i * n + j];
                    }
                }
            }
        } else {
            float[] basis = new float[b * n], cols = new float[b * m];
            for (int k = 0; k < n; k++) {
                for (int i = 0; i < b; i++) {
                    basis[i * n + k] = 1f;
                }
                a.apply(basis, cols);
                for (int i = 0; i < b; i++) {
                    basis[i * n + k] = 0f;
                    double[] d = out[i].data;
                    for (int r = 0; r < m; r++) {
                        d[r * n + k] = cols[i * m + r];
                    }
                }
            }
        }
        return out;
    }

    /**
     * Per example, the min(in, out) singular values of J_phi(x_i), descending (values only: several times
     * cheaper than {@link #svds}).
     */
    public static double[][] singularValues(Layer model, String upTo, Tensor x) {
        DMatrixRMaj[] j = jacobians(model, upTo, x);
        double[][] out = new double[j.length][];
        for (int i = 0; i < j.length; i++) {
            out[i] = Svd.values(j[i]);
        }
        return out;
    }

    /** Per example, the thin SVD (values and vectors) of J_phi(x_i). */
    public static Svd.Result[] svds(Layer model, String upTo, Tensor x) {
        DMatrixRMaj[] j = jacobians(model, upTo, x);
        Svd.Result[] out = new Svd.Result[j.length];
        for (int i = 0; i < j.length; i++) {
            out[i] = Svd.of(j[i]);
        }
        return out;
    }

    /**
     * Thin SVD of J_phi at example {@code example} of x, extracted with the example replicated {@code batch}
     * times (ceil(min(in, out) / batch) passes of batch {@code batch}).
     *
     * @param upTo  child path of phi or null for the whole model
     * @param batch basis vectors per pass (>= 1); memory grows with it
     * @throws IllegalArgumentException for a bad example index or batch
     */
    public static Svd.Result jacobianSvd(Layer model, String upTo, Tensor x, int example, int batch) {
        if (example < 0 || example >= x.shape.n()) {
            throw new IllegalArgumentException("example " + example + " outside the batch of " + x.shape.n());
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch = " + batch + " must be >= 1");
        }
        int per = x.shape.perExample();
        Tensor rep = new Tensor(x.shape.withBatch(batch));
        for (int b = 0; b < batch; b++) {
            System.arraycopy(x.data, example * per, rep.data, b * per, per);
        }
        DMatrixRMaj j = Jacobians.extract(Features.linearize(model, upTo, rep).asBatchLinearMap());
        return Svd.of(j);
    }

    /**
     * Singular values below this fraction of sigma_1 count as 0 in {@link #flushRoundOff}: the Jacobians come from
     * float passes (relative round-off ~1e-7), so smaller values are round-off, not spectrum (a dead ReLU's zero
     * row shows up as ~1e-20, not 0, in a double SVD).
     */
    public static final double NUMERICAL_ZERO = 1e-6;

    /** A copy of descending singular values with those below {@link #NUMERICAL_ZERO} * sigma_1 set to 0. */
    public static double[] flushRoundOff(double[] sigma) {
        double[] out = sigma.clone();
        for (int r = 0; r < out.length; r++) {
            if (out[r] < NUMERICAL_ZERO * sigma[0]) {
                out[r] = 0;
            }
        }
        return out;
    }

    /**
     * The top right singular vectors v_1 of the SVDs, example after example (a batch of start vectors for
     * {@link Linearity#sigmaMaxCurve(Layer, String, Tensor, Tensor, double[], dev.opnorm.linalg.PowerMethod.Options,
     * float[])}).
     */
    public static float[] topRightVectors(Svd.Result[] svds) {
        int in = svds[0].v().numRows;
        float[] out = new float[svds.length * in];
        for (int i = 0; i < svds.length; i++) {
            if (svds[i].v().numRows != in) {
                throw new IllegalArgumentException("SVD " + i + " has input dimension " + svds[i].v().numRows + ", SVD 0 "
                        + in);
            }
            for (int j = 0; j < in; j++) {
                out[i * in + j] = (float) svds[i].v().get(j, 0);
            }
        }
        return out;
    }

    /**
     * |cos(delta, v_r)| for every right singular vector v_r (columns of svd.v()), in rank order.
     *
     * @throws IllegalArgumentException when delta's length is not the Jacobian's input dimension, or delta = 0
     */
    public static double[] alignment(Svd.Result svd, float[] delta) {
        return alignment(svd, delta, 0, delta.length);
    }

    /**
     * Per example i, |cos(delta_i, v_r(i))| against the rank r, where v_r(i) are the right singular vectors of
     * svds[i] and delta_i is example i of delta (e.g. x* - x).
     *
     * @throws IllegalArgumentException when the counts or sizes differ, or some delta_i = 0 (named)
     */
    public static double[][] alignments(Svd.Result[] svds, Tensor delta) {
        if (svds.length != delta.shape.n()) {
            throw new IllegalArgumentException(svds.length + " SVDs for " + delta.shape.n() + " perturbations");
        }
        int per = delta.shape.perExample();
        double[][] out = new double[svds.length][];
        for (int i = 0; i < svds.length; i++) {
            try {
                out[i] = alignment(svds[i], delta.data, i * per, per);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("example " + i + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static double[] alignment(Svd.Result svd, float[] delta, int off, int len) {
        DMatrixRMaj v = svd.v();
        if (len != v.numRows) {
            throw new IllegalArgumentException("perturbation has " + len + " entries, the Jacobian's input has "
                    + v.numRows);
        }
        double norm = 0;
        for (int j = 0; j < len; j++) {
            norm += (double) delta[off + j] * delta[off + j];
        }
        norm = Math.sqrt(norm);
        if (norm == 0) {
            throw new IllegalArgumentException("zero perturbation has no direction");
        }
        int cols = v.numCols;
        double[] dot = new double[cols];
        // row-major V: walk it row by row (cache friendly), accumulating every column's dot product
        for (int j = 0; j < len; j++) {
            double d = delta[off + j];
            int row = j * cols;
            for (int r = 0; r < cols; r++) {
                dot[r] += v.data[row + r] * d;
            }
        }
        for (int r = 0; r < cols; r++) {
            dot[r] = Math.abs(dot[r]) / norm;
        }
        return dot;
    }
}
