package dev.opnorm.linalg.io;

import java.util.Arrays;
import org.ejml.data.DMatrixRMaj;

/**
 * An array read from a NumPy .npy file: its shape and its values in C (row-major) order, widened to
 * double (float32 values are represented exactly).
 *
 * @param shape        the dimensions, outermost first; empty for a 0-d (scalar) array
 * @param data         the product(shape) values in C order, whatever the file's order was
 * @param descr        the file's dtype descriptor, e.g. "&lt;f4" or "&gt;f8"
 * @param fortranOrder whether the file stored the values in Fortran (column-major) order
 */
public record NpyArray(int[] shape, double[] data, String descr, boolean fortranOrder) {

    /** Number of dimensions. */
    public int ndim() { return shape.length; }

    /** The values as floats (rounded if the file held float64), C order. */
    public float[] toFloats() {
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        return f;
    }

    /**
     * The array as an EJML matrix; needs a 2-D array.
     *
     * @throws IllegalArgumentException naming the shape if the array is not 2-D or has an empty dimension
     */
    public DMatrixRMaj toMatrix() {
        if (shape.length != 2) {
            throw new IllegalArgumentException("expected a 2-D array (a matrix), got shape " + Arrays.toString(shape) + " (" + shape.length + "-D)");
        }
        if (shape[0] == 0 || shape[1] == 0) throw new IllegalArgumentException("empty matrix of shape " + Arrays.toString(shape));
        DMatrixRMaj m = new DMatrixRMaj(shape[0], shape[1]);
        System.arraycopy(data, 0, m.data, 0, data.length);
        return m;
    }

    @Override
    public String toString() {
        return "NpyArray[shape=" + Arrays.toString(shape) + ", descr=" + descr + ", fortranOrder=" + fortranOrder + "]";
    }
}
