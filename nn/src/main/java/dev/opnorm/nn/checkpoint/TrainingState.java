package dev.opnorm.nn.checkpoint;

import dev.opnorm.nn.util.Rng;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a training run is: the epoch and global step to continue from, and the states of its random
 * generators ({@code dev.opnorm.nn.util.Rng#state()}, four longs each) by purpose, e.g. "shuffle",
 * "augment", "attack". Arrays are copied in and out.
 *
 * @param epoch the next epoch to run (>= 0)
 * @param step  optimizer steps taken so far (>= 0)
 * @param rng   generator states by name (non-empty names)
 */
public record TrainingState(long epoch, long step, Map<String, long[]> rng) {
    public TrainingState {
        if (epoch < 0 || step < 0) {
            throw new IllegalArgumentException("training state: epoch " + epoch + " and step " + step
                    + " must be >= 0");
        }
        Map<String, long[]> copy = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : rng.entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty() || e.getValue() == null) {
                throw new IllegalArgumentException("training state: RNG states need a non-empty name and a value");
            }
            copy.put(e.getKey(), e.getValue().clone());
        }
        rng = Collections.unmodifiableMap(copy);
    }

    /** The state with the current states of {@code generators} (copied; the generators are not touched). */
    public static TrainingState of(long epoch, long step, Map<String, Rng> generators) {
        Map<String, long[]> states = new LinkedHashMap<>();
        for (Map.Entry<String, Rng> e : generators.entrySet()) {
            states.put(e.getKey(), e.getValue().state());
        }
        return new TrainingState(epoch, step, states);
    }

    /**
     * A generator continuing from saved state {@code name}.
     *
     * @throws IllegalArgumentException when there is no such state or it is not a valid {@link Rng} state
     */
    public Rng restoreRng(String name) {
        long[] s = rng.get(name);
        if (s == null) {
            throw new IllegalArgumentException("training state has no RNG '" + name + "' (has " + rng.keySet() + ")");
        }
        return Rng.fromState(s);
    }

    /** A copy of generator state {@code name}, or null. */
    public long[] rngState(String name) {
        long[] s = rng.get(name);
        return s == null ? null : s.clone();
    }
}
