package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Ops;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Parameter gradients as buffers of a backend: one buffer per parameter storage, keyed by the identity
 * of the host value array (so a container's renamed views find the same buffer). Backward passes
 * ACCUMULATE (+=) into them; {@link #zero()} resets them on the backend (no transfer). Not thread safe;
 * {@link #close()} frees them.
 *
 * @param <F> a buffer of floats
 */
public final class Gradients<F> implements Grads<F>, AutoCloseable {
    private final Ops<F, ?> ops;
    private final Map<float[], F> grads = new IdentityHashMap<>();

    public Gradients(Ops<F, ?> ops) {
        if (ops == null) {
            throw new IllegalArgumentException("Gradients need the backend's ops");
        }
        this.ops = ops;
    }

    /** The gradient buffer of p, created as zeros (on the backend) on first use. */
    @Override
    public F of(Param p) {
        F g = grads.get(p.value);
        if (g == null) {
            g = ops.allocate(Shape.features(1, p.size()));
            ops.fill(g, 0f, p.size());
            grads.put(p.value, g);
        }
        return g;
    }

    /** True when a gradient buffer exists for p. */
    public boolean has(Param p) {
        return grads.containsKey(p.value);
    }

    /** Sets every buffer to zero on the backend (no transfer). */
    public void zero() {
        for (F g : grads.values()) {
            ops.fill(g, 0f, ops.length(g));
        }
    }

    /** A host copy of p's gradient (one download); zeros when p has no buffer. */
    public float[] download(Param p) {
        F g = grads.get(p.value);
        float[] out = new float[p.size()];
        if (g != null) {
            ops.download(g, out, p.size());
        }
        return out;
    }

    @Override
    public void close() {
        grads.values().forEach(ops::release);
        grads.clear();
    }
}
