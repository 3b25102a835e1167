package dev.opnorm.nn.layers;

/**
 * Parameter-gradient buffers on one backend, one per parameter storage: what a linearization's backward
 * pass ACCUMULATES (+=) into. {@link ParamGrads} on the host, {@link Gradients} on any backend.
 *
 * @param <F> a buffer of floats
 */
public interface Grads<F> {
    /** The gradient buffer of p (p.size() floats), created as zeros on first use. */
    F of(Param p);
}
