package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A first-order optimizer over a fixed list of {@link Param}s, updating {@code Param.value} IN PLACE from the
 * gradients in a {@link ParamGrads}. Semantics follow {@code torch.optim}'s single-tensor (for-loop)
 * implementations: per-parameter state is created lazily at a parameter's first gradient, and parameters
 * with no gradient buffer ({@code !grads.has(p)}) are skipped, like PyTorch skips {@code grad is None}.
 *
 * <p>Arithmetic: state and element-wise math in float, in the order of libtorch's tensor operations, with
 * {@link Math#fma} exactly where libtorch's vectorized CPU kernels fuse ({@code add(x, alpha)},
 * {@code addcmul}); scalar factors (bias corrections, step sizes) in double with {@link StrictMath}, then cast
 * to float. Checked against libtorch 2.10's C++ optimizers (SGD with momentum/dampening/Nesterov/weight
 * decay, Adam, Adam with L2, AdamW, RMSprop, RMSprop centered with momentum; through JavaCPP, x86-64
 * AVX-512, 257 elements x 20 steps): every value bit-identical. Python's {@code torch.optim.Adam} and the
 * centered RMSprop update their running means with {@code lerp_}, which can differ in the last bit.
 * {@code Math.fma} is a single instruction on CPUs with FMA (x86-64 since 2013, all 64-bit ARM) and exact
 * but slow in software elsewhere.
 *
 * <p>Updates are element-wise (no reductions), so results do not depend on threads, and a run resumed from
 * {@link #exportState()} / {@link #importState} is bit-identical to an uninterrupted one.
 *
 * <p>The learning rate is a plain field: a trainer sets it from an {@link LrSchedule} before each step.
 */
public abstract class Optimizer {
    protected final List<Param> params;
    private final Map<String, Integer> index = new LinkedHashMap<>();
    private double lr;

    protected Optimizer(List<Param> params, double lr) {
        if (params == null) {
            throw new IllegalArgumentException("optimizer: params must not be null");
        }
        this.params = List.copyOf(params);
        for (int i = 0; i < this.params.size(); i++) {
            String n = this.params.get(i).name();
            if (index.put(n, i) != null) {
                throw new IllegalArgumentException("optimizer: parameter name '" + n + "' appears twice");
            }
        }
        setLearningRate(lr);
    }

    /** "sgd", "adam", "adamw" or "rmsprop": the kind recorded in exported state. */
    public abstract String kind();

    /** The learning rate of the next step. */
    public double learningRate() {
        return lr;
    }

    /** Sets the learning rate of the following steps (>= 0, finite). */
    public void setLearningRate(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(kind() + ": learning rate must be finite and >= 0, got " + lr);
        }
        this.lr = lr;
    }

    /** The parameters, in order. */
    public List<Param> params() {
        return params;
    }

    /**
     * One update of every parameter that has a gradient in {@code grads}; values change in place, the
     * gradients are read only.
     */
    public final void step(ParamGrads grads) {
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            if (grads.has(p)) {
                update(i, p.value, grads.of(p));
            }
        }
    }

    /** Updates parameter {@code i}: {@code value} overwritten in place from {@code grad} (read only). */
    protected abstract void update(int i, float[] value, float[] grad);

    /** The state names this optimizer's configuration keeps per parameter, e.g. ["exp_avg", "exp_avg_sq"]. */
    protected abstract List<String> bufferNames();

    /** The integer state names per parameter, e.g. ["step"]; empty by default. */
    protected List<String> counterNames() {
        return List.of();
    }

    /** True once parameter {@code i} has state (after its first gradient or an import). */
    protected abstract boolean hasState(int i);

    /** Parameter {@code i}'s buffer {@code name} (the optimizer's own array; only called when it has state). */
    protected abstract float[] buffer(int i, String name);

    /** Parameter {@code i}'s counter {@code name} (only called when the buffers exist). */
    protected long counter(int i, String name) {
        throw new IllegalStateException("no counter " + name);
    }

    /** Installs imported state for parameter {@code i} (arrays are fresh copies owned by the optimizer). */
    protected abstract void install(int i, Map<String, float[]> buffers, Map<String, Long> counters);

    /** Drops parameter {@code i}'s state (back to "no gradient seen yet"). */
    protected abstract void clear(int i);

    /** A deep copy of the state; see {@link OptimizerState} for the names. */
    public final OptimizerState exportState() {
        Map<String, float[]> b = new LinkedHashMap<>();
        Map<String, Long> c = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            String pn = params.get(i).name();
            if (!hasState(i)) {
                continue;
            }
            for (String n : bufferNames()) {
                b.put(pn + "." + n, buffer(i, n));
            }
            for (String n : counterNames()) {
                c.put(pn + "." + n, counter(i, n));
            }
        }
        return new OptimizerState(kind(), b, c);
    }

    /**
     * Replaces the whole state with {@code s} (copied). Parameters without entries in {@code s} get no state.
     *
     * @throws IllegalArgumentException listing every problem at once: another optimizer kind, keys of
     *                                  unknown parameters or unknown state names (e.g. a momentum buffer for
     *                                  SGD without momentum), wrong buffer lengths, negative counters, or a
     *                                  parameter with only part of its state
     */
    public final void importState(OptimizerState s) {
        List<String> problems = new ArrayList<>();
        if (!kind().equals(s.kind())) {
            problems.add("state is for optimizer '" + s.kind() + "', this is '" + kind() + "'");
        }
        Set<String> used = new HashSet<>();
        List<Map<String, float[]>> bufs = new ArrayList<>();
        List<Map<String, Long>> cnts = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            Map<String, float[]> pb = new LinkedHashMap<>();
            Map<String, Long> pc = new LinkedHashMap<>();
            List<String> missing = new ArrayList<>();
            for (String n : bufferNames()) {
                String key = p.name() + "." + n;
                float[] v = s.buffers().get(key);
                if (v == null) {
                    missing.add(n);
                    continue;
                }
                used.add(key);
                if (v.length != p.size()) {
                    problems.add(key + ": " + v.length + " values for a parameter of " + p.size());
                }
                pb.put(n, v.clone());
            }
            for (String n : counterNames()) {
                String key = p.name() + "." + n;
                Long v = s.counters().get(key);
                if (v == null) {
                    missing.add(n);
                    continue;
                }
                used.add(key);
                if (v < 0) {
                    problems.add(key + ": negative counter " + v);
                }
                pc.put(n, v);
            }
            int expected = bufferNames().size() + counterNames().size();
            if (!missing.isEmpty() && missing.size() < expected) {
                problems.add(p.name() + ": incomplete state, missing " + missing);
            }
            bufs.add(missing.isEmpty() ? pb : null);
            cnts.add(pc);
        }
        for (String k : s.buffers().keySet()) {
            if (!used.contains(k)) {
                problems.add(k + ": unexpected buffer (unknown parameter or not kept by this " + describe() + ")");
            }
        }
        for (String k : s.counters().keySet()) {
            if (!used.contains(k)) {
                problems.add(k + ": unexpected counter (unknown parameter or not kept by this " + describe() + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("cannot import optimizer state: " + problems.size() + " problem(s):\n  "
                    + String.join("\n  ", problems));
        }
        for (int i = 0; i < params.size(); i++) {
            if (bufs.get(i) == null) {
                clear(i);
            } else {
                install(i, bufs.get(i), cnts.get(i));
            }
        }
    }

    /** The configuration, e.g. "sgd(lr=0.1, momentum=0.9, ...)". */
    public abstract String describe();

    @Override
    public String toString() {
        return describe();
    }

    static void requireRange(String what, double v, double lo, boolean loInclusive, double hi, boolean hiInclusive,
            String kind) {
        boolean ok = (loInclusive ? v >= lo : v > lo) && (hiInclusive ? v <= hi : v < hi);
        if (!ok) {
            throw new IllegalArgumentException(kind + ": " + what + " must be in " + (loInclusive ? "[" : "(") + lo + ", "
                    + hi + (hiInclusive ? "]" : ")") + ", got " + v);
        }
    }
}
