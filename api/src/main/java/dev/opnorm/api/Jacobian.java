package dev.opnorm.api;

import dev.opnorm.nn.layers.BnMode;
import org.ejml.data.DMatrixRMaj;

/**
 * A network's Jacobian at one example as a dense matrix (from {@link Jacobians#of}), with its singular value
 * {@link Spectrum}. Row i is output i, column j is input j (inputs in c, h, w order, row-major as in
 * {@code Tensor}). The spectrum is computed on first use and cached; the class is not synchronized, so share
 * it between threads only after calling {@link #spectrum()} once. For the alignment of perturbations with the
 * singular vectors (Fig. 2) see {@code dev.opnorm.robust.analysis.Spectra}.
 */
public final class Jacobian {
    private final DMatrixRMaj matrix;
    private final int example;
    private final Target target;
    private final BnMode mode;
    private Spectrum spectrum;

    Jacobian(DMatrixRMaj matrix, int example, Target target, BnMode mode) {
        this.matrix = matrix;
        this.example = example;
        this.target = target;
        this.mode = mode;
    }

    /** A copy of the outDim x inDim matrix (double; EJML row-major). */
    public DMatrixRMaj matrix() {
        return matrix.copy();
    }

    /**
     * Entry (row, col) = d out_row / d in_col.
     *
     * @param row output index in [0, rows())
     * @param col input index in [0, cols())
     * @return the derivative
     * @throws IndexOutOfBoundsException outside the matrix
     */
    public double get(int row, int col) {
        return matrix.get(row, col);
    }

    /** Output dimension (rows). */
    public int rows() {
        return matrix.numRows;
    }

    /** Input dimension (columns). */
    public int cols() {
        return matrix.numCols;
    }

    /** The example of the batch this Jacobian is taken at. */
    public int example() {
        return example;
    }

    /** Whose Jacobian. */
    public Target target() {
        return target;
    }

    /** The BatchNorm mode it was taken in. */
    public BnMode bnMode() {
        return mode;
    }

    /**
     * The thin SVD J = U diag(s) V^T with singular vectors (EJML, double; several times slower than
     * {@link #spectrum()}): U is rows x r, V is cols x r, r = min(rows, cols). A new result on every call.
     *
     * @throws IllegalArgumentException when the matrix has a non-finite entry
     * @throws IllegalStateException    when EJML reports that the decomposition failed
     */
    public dev.opnorm.linalg.Svd.Result svd() {
        return dev.opnorm.linalg.Svd.of(matrix);
    }

    /**
     * The min(rows, cols) singular values, descending (EJML SVD in double).
     *
     * @throws IllegalArgumentException when the matrix has a non-finite entry
     */
    public Spectrum spectrum() {
        if (spectrum == null) {
            spectrum = new Spectrum(dev.opnorm.linalg.Svd.values(matrix));
        }
        return spectrum;
    }
}
