package dev.opnorm.robust.analysis;

import dev.opnorm.linalg.Jacobians;
import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Layer;
import org.ejml.data.DMatrixRMaj;

/**
 * Fig. 2 of the paper: the full singular value spectrum of the features' Jacobian J_phi(x) at one example, and
 * the alignment |cos(delta, v_r)| of a perturbation delta (e.g. an adversarial x* - x) with the right singular
 * vectors v_r. The dense Jacobian is extracted by batched passes: the example is replicated {@code batch} times
 * and each pass pushes that many basis vectors (min(in, out) / batch passes), then decomposed by EJML in double.
 * BatchNorm EVAL.
 */
public final class Spectra {
    private Spectra() {
    }

    /**
     * Thin SVD of J_phi at example {@code example} of x.
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
     * |cos(delta, v_r)| for every right singular vector v_r (columns of svd.v()), in rank order.
     *
     * @throws IllegalArgumentException when delta's length is not the Jacobian's input dimension, or delta = 0
     */
    public static double[] alignment(Svd.Result svd, float[] delta) {
        DMatrixRMaj v = svd.v();
        if (delta.length != v.numRows) {
            throw new IllegalArgumentException("perturbation has " + delta.length + " entries, the Jacobian's input has "
                    + v.numRows);
        }
        double norm = 0;
        for (float d : delta) {
            norm += (double) d * d;
        }
        norm = Math.sqrt(norm);
        if (norm == 0) {
            throw new IllegalArgumentException("zero perturbation has no direction");
        }
        double[] out = new double[v.numCols];
        for (int r = 0; r < v.numCols; r++) {
            double dot = 0;
            for (int j = 0; j < v.numRows; j++) {
                dot += v.get(j, r) * delta[j];
            }
            out[r] = Math.abs(dot) / norm;
        }
        return out;
    }
}
