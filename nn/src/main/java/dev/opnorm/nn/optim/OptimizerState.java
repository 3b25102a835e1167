package dev.opnorm.nn.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The complete mutable state of an optimizer, for checkpoints: float buffers and integer counters keyed
 * {@code "<param name>.<state name>"}, e.g. {@code "features.0.weight.momentum_buffer"},
 * {@code "fc.bias.exp_avg_sq"}, {@code "fc.bias.step"}. The state names are PyTorch's
 * ({@code torch.optim} state_dict entries). A parameter that has not received a gradient yet has no entries,
 * as in PyTorch. Deep copies in and out: an exported state never aliases the optimizer's arrays.
 *
 * @param kind     the optimizer that produced it ("sgd", "adam", "adamw", "rmsprop"); import checks it
 * @param buffers  per-parameter float state, each as long as its parameter
 * @param counters per-parameter integer state (Adam's step count)
 */
public record OptimizerState(String kind, Map<String, float[]> buffers, Map<String, Long> counters) {
    public OptimizerState {
        if (kind == null || kind.isEmpty()) {
            throw new IllegalArgumentException("optimizer state needs a kind");
        }
        Map<String, float[]> b = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : buffers.entrySet()) {
            b.put(e.getKey(), e.getValue().clone());
        }
        buffers = Collections.unmodifiableMap(b);
        counters = Collections.unmodifiableMap(new LinkedHashMap<>(counters));
    }

    /** A copy of buffer {@code key}, or null. */
    public float[] buffer(String key) {
        float[] b = buffers.get(key);
        return b == null ? null : b.clone();
    }
}
