package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Conv2dDims;

/**
 * The linear map x -> A(W) x that a layer applies to ONE example through its weight W, bias excluded
 * (for a conv: the convolution on the example's input shape), with the derivative of the bilinear form
 * {@code <y, A(W) x>} in W. This is what a weight regularizer needs to take the operator norm of a
 * layer and its gradient; the layer computes it with its own kernels. Arrays may be longer than the
 * shapes need; outputs are overwritten, inputs are not modified and must not alias outputs.
 */
public interface WeightOperator {
    /** One example's input shape (batch 1). */
    Shape inShape();

    /** One example's output shape (batch 1). */
    Shape outShape();

    /** y = A(W) x, overwritten. */
    void apply(float[] x, float[] y);

    /** x = A(W)^T y, overwritten. */
    void applyTranspose(float[] y, float[] x);

    /** gW += d/dW {@code <y, A(W) x>} (A is linear in W: the layer's weight VJP with cotangent y at input x). */
    void accumulateWeightGradient(float[] gW, float[] y, float[] x);

    /**
     * The convolution geometry when this operator is a 2-D convolution, so that a backend mirroring
     * the layer can run the same map with its own conv kernels; null otherwise.
     */
    default Conv2dDims convDims() {
        return null;
    }
}
