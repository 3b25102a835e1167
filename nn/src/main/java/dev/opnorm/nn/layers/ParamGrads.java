package dev.opnorm.nn.layers;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Gradient buffers keyed by {@link Param} identity. {@code Linearization.vjpParams} ACCUMULATES (+=)
 * into these; {@link #zero()} resets them between steps. Not thread safe.
 */
public final class ParamGrads {
    private final Map<Param, float[]> grads = new IdentityHashMap<>();

    /** The gradient buffer of p, created as zeros on first use. */
    public float[] of(Param p) {
        return grads.computeIfAbsent(p, q -> new float[q.size()]);
    }

    /** True when some linearization has written a gradient for p. */
    public boolean has(Param p) {
        return grads.containsKey(p);
    }

    /** Sets every buffer to zero (keeps the arrays). */
    public void zero() {
        for (float[] g : grads.values()) {
            java.util.Arrays.fill(g, 0f);
        }
    }
}
