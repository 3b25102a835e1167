package dev.opnorm.robust.reg;

import dev.opnorm.linalg.BatchMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;

/**
 * A network as the data-dependent regularizers drive it on one backend's buffers {@code V} (a host
 * {@code float[]}, a device buffer), with parameter gradients accumulated into {@code G} (a host
 * {@code ParamGrads}, device gradient buffers): forward passes in a BatchNorm mode, the per-example Jacobians
 * for the power method and (p,q) iteration (also the plain JVP and VJP in EVAL mode), parameter VJPs and
 * the parameter gradient of a JVP. The backend supplies it ({@link RegEngine}).
 *
 * @param <V> the backend's buffer type
 * @param <G> the backend's parameter gradients
 */
public interface RegNetwork<V, G> {
    /**
     * The linearization at x (shape {@code shape}, referenced: leave x unchanged while it is used).
     *
     * @throws IllegalArgumentException when x does not fit the network
     */
    Linearized<V, G> linearize(V x, Shape shape, BnMode mode);

    /** f, its per-example Jacobians and its parameter VJP at one batch; closing it gives its buffers back. */
    interface Linearized<V, G> extends AutoCloseable {
        /** The BatchNorm mode of the forward pass. */
        BnMode mode();

        /** f(x); valid until {@link #close}, not to be modified. */
        V output();

        /** The shape of f(x). */
        Shape outputShape();

        /**
         * The block-diagonal batch of per-example Jacobians on this backend's buffers.
         *
         * @throws IllegalArgumentException in TRAIN mode (the batch statistics couple the examples)
         */
        BatchMap<V> asBatchMap();

        /** grads += J_theta^T gy (gy: the output's shape, not modified). */
        void vjpParams(V gy, G grads);

        /**
         * grads += d/d theta {@code <cotangent, J(theta) tangent>} ({@link TangentGradient} on the host).
         *
         * @throws IllegalArgumentException in TRAIN mode, or for a layer with parameters but no rule
         */
        void tangentGradient(V tangent, V cotangent, G grads);

        /** Gives the buffers back; a linearization handed in by the caller is closed by the caller only. */
        @Override
        void close();
    }
}
