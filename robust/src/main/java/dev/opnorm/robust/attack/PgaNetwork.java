package dev.opnorm.robust.attack;

import dev.opnorm.nn.Shape;

/**
 * A classifier as the PGA drives it on one backend's buffers {@code V} (a host {@code float[]}, a device
 * buffer): the forward pass and the vector-Jacobian product at a batch, BatchNorm in EVAL mode (each
 * example attacked on its own function). {@link Pga#run} needs one linearization per iteration; the
 * backend supplies it (host: nn's {@code Layer.linearize}; the OpenCL engine: its device model).
 *
 * @param <V> the backend's buffer type
 */
public interface PgaNetwork<V> {
    /**
     * The output shape for an input of shape {@code in}.
     *
     * @throws IllegalArgumentException when in does not fit the network (the layers' messages)
     */
    Shape outputShape(Shape in);

    /**
     * The EVAL linearization at x (shape {@code shape}, referenced: leave x unchanged while it is used).
     *
     * @throws IllegalArgumentException when x does not fit the network
     */
    Linearized<V> linearize(V x, Shape shape);

    /** f and its VJP at one batch; closing it gives its buffers back. */
    interface Linearized<V> extends AutoCloseable {
        /** f(x), {@link #outputShape()} values; valid until {@link #close}, not to be modified. */
        V output();

        /** The shape of f(x). */
        Shape outputShape();

        /** gx = J^T gy (gy: the output's shape, gx: the input's; gx overwritten). */
        void vjp(V gy, V gx);

        @Override
        void close();
    }
}
