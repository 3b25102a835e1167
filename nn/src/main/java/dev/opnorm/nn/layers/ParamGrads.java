package dev.opnorm.nn.layers;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Gradient buffers, one per parameter storage. {@code Linearization.vjpParams} ACCUMULATES (+=)
 * into these; {@link #zero()} resets them between steps. Not thread safe.
 *
 * <p>Buffers are keyed by the identity of the parameter's value array, not of the {@link Param}
 * object: containers hand out renamed views of their children's parameters
 * ({@link Param#renamed}), and a view must find the same gradient as the original.
 */
public final class ParamGrads implements Grads<float[]> {
    private final Map<float[], float[]> grads = new IdentityHashMap<>();

    /** The gradient buffer of p, created as zeros on first use. */
    @Override
    public float[] of(Param p) {
        return grads.computeIfAbsent(p.value, v -> new float[v.length]);
    }

    /** True when some linearization has written a gradient for p. */
    public boolean has(Param p) {
        return grads.containsKey(p.value);
    }

    /** Sets every buffer to zero (keeps the arrays). */
    public void zero() {
        for (float[] g : grads.values()) {
            java.util.Arrays.fill(g, 0f);
        }
    }
}
