package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

/**
 * A layer (or network) linearized at a fixed input batch x: the output f(x), computed once, and the
 * Jacobian J = df/dx at x as a linear map on whole batches, with the residuals (ReLU masks, BN
 * statistics, saved inputs) captured at construction. {@code jvp} and {@code vjp} are pure functions
 * of that saved state: they can be called any number of times (power iteration, PGA steps) and give
 * the same answer each time.
 *
 * <p>Conventions: {@code jvp} and {@code vjp} OVERWRITE their output; {@link #vjpParams} ACCUMULATES
 * (+=) into the gradient buffers. Inputs are never modified; outputs must not alias inputs.
 * A linearization is not thread safe (it owns scratch buffers); create one per thread.
 */
public interface Linearization {
    /** Shape of the input batch x. */
    Shape inShape();

    /** Shape of the output batch f(x). */
    Shape outShape();

    /** f(x). The returned tensor must not be modified. */
    Tensor output();

    /** dy = J dx (forward mode). dx has inShape().size() elements, dy outShape().size(); dy overwritten. */
    void jvp(float[] dx, float[] dy);

    /** gx = J^T gy (reverse mode). gx overwritten. */
    void vjp(float[] gy, float[] gx);

    /**
     * grads[p] += (d f/d p)^T gy for every parameter p of the layer: the parameter part of the VJP.
     * Default: the layer has no parameters.
     */
    default void vjpParams(float[] gy, ParamGrads grads) {
    }

    /**
     * Both parts of the VJP at once: gx = J^T gy (overwritten) and the parameter gradients
     * (accumulated). Composite layers override this to run one backward sweep instead of two;
     * {@code gx} may be null when only parameter gradients are wanted.
     */
    default void vjpAll(float[] gy, float[] gx, ParamGrads grads) {
        if (gx != null) {
            vjp(gy, gx);
        }
        vjpParams(gy, grads);
    }

    /**
     * Applies side effects a training step wants from this linearization: for BatchNorm in TRAIN mode,
     * folds the batch statistics into the running statistics (momentum). Does nothing otherwise.
     * Call at most once per linearization.
     */
    default void commit() {
    }
}
