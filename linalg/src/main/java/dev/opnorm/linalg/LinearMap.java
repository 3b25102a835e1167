package dev.opnorm.linalg;

/**
 * A linear map A : R^inDim -> R^outDim given only by its action and the action of its transpose.
 *
 * <p>Everything in {@code linalg} (power method, (p,q) operator norm iteration, Jacobian extraction)
 * works on this interface, so it is tested on plain matrices with known SVDs and then applies unchanged
 * to the linearization of a network at a data point, where {@code apply} is a Jacobian-vector product
 * (forward mode) and {@code applyTranspose} a vector-Jacobian product (reverse mode).
 *
 * <p>Conventions: both methods overwrite their output, must not modify their input, and the input and
 * output arrays must not alias. Implementations are not required to be thread safe.
 */
public interface LinearMap {
    /** Dimension of the domain (length of {@code v} in {@link #apply}). */
    int inDim();

    /** Dimension of the co-domain (length of {@code u} in {@link #applyTranspose}). */
    int outDim();

    /**
     * out = A v.
     *
     * @param v   input, length {@link #inDim()}, not modified
     * @param out output, length {@link #outDim()}, overwritten
     */
    void apply(float[] v, float[] out);

    /**
     * out = A^T u.
     *
     * @param u   input, length {@link #outDim()}, not modified
     * @param out output, length {@link #inDim()}, overwritten
     */
    void applyTranspose(float[] u, float[] out);
}
