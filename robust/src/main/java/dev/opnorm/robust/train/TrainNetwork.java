package dev.opnorm.robust.train;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;

/**
 * A network as a training step drives it on one backend's buffers {@code V} (a host {@code float[]}, a device
 * buffer), with parameter gradients accumulated into {@code G} (a host {@code ParamGrads}, device gradient
 * buffers): the forward pass in a BatchNorm mode, the parameter VJP of the loss and the BatchNorm statistics
 * commit. The backend supplies it ({@link TrainEngine}).
 *
 * @param <V> the backend's buffer type
 * @param <G> the backend's parameter gradients
 */
public interface TrainNetwork<V, G> {
    /**
     * The linearization at x (shape {@code shape}, referenced: leave x unchanged while it is used).
     *
     * @throws IllegalArgumentException when x does not fit the network
     */
    Pass<V, G> linearize(V x, Shape shape, BnMode mode);

    /** f and its parameter VJP at one batch; closing it gives its buffers back (statistics uncommitted). */
    interface Pass<V, G> extends AutoCloseable {
        /** f(x); valid until {@link #close}, not to be modified. */
        V output();

        /** The shape of f(x). */
        Shape outputShape();

        /** grads += J_theta^T gy (gy: the output's shape, not modified). */
        void vjpParams(V gy, G grads);

        /** Folds a TRAIN pass's batch statistics into the BatchNorm running statistics (once per step). */
        void commit();

        @Override
        void close();
    }
}
