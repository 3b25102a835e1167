package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A first-order optimizer over a fixed list of {@link Param}s, updating the parameter values IN PLACE from
 * their gradients. Semantics follow {@code torch.optim}'s single-tensor (for-loop) implementations:
 * per-parameter state is created lazily (zeros) at a parameter's first gradient, and parameters without a
 * gradient are skipped, like PyTorch skips {@code grad is None}.
 *
 * <p>Written once for every backend: a subclass is an algorithm - its state names, its per-step scalars
 * and which {@link UpdateOps} update it calls - and this class keeps the state, creates it, counts steps,
 * validates, imports and exports it. The state lives on one backend at a time: the host
 * ({@link KernelUpdateOps#HOST}) from construction, or wherever {@link #moveTo} put it (e.g. an OpenCL device
 * beside the model's parameters); {@link #step(UpdateOps, Function, Function)} then updates that backend's
 * buffers with no transfer. State crosses between backends only through {@link #moveTo},
 * {@link #exportState()} (one download per buffer) and {@link #importState} (one upload per buffer), which
 * checkpoints use, so a checkpoint is the same file whichever backend trained.
 *
 * <p>Arithmetic: the host {@code Kernels}' element-wise float updates, with the step's scalar factors (bias
 * corrections, step sizes) computed here in double with {@link StrictMath}, then cast to float. Checked
 * against libtorch 2.10's C++ optimizers (SGD with momentum/dampening/Nesterov/weight decay, Adam, Adam with
 * L2, AdamW, RMSprop, RMSprop centered with momentum; through JavaCPP, x86-64 AVX-512, 257 elements x 20
 * steps): every value bit-identical. Python's {@code torch.optim.Adam} and the centered RMSprop update
 * their running means with {@code lerp_}, which can differ in the last bit. {@code Math.fma} is a single
 * instruction on CPUs with FMA (x86-64 since 2013, all 64-bit ARM) and exact but slow in software elsewhere.
 *
 * <p>Updates are element-wise (no reductions), so results do not depend on threads, and a run resumed from
 * {@link #exportState()} / {@link #importState} is bit-identical to an uninterrupted one.
 *
 * <p>The learning rate is a plain field: a trainer sets it from an {@link LrSchedule} before each step.
 * Not thread safe.
 */
public abstract class Optimizer {
    /** The name of the per-parameter step counter in exported state, where {@link #countsSteps()}. */
    static final String STEP = "step";

    protected final List<Param> params;
    private final Map<String, Integer> index = new LinkedHashMap<>();
    private double lr;
    private Placement<?> state;

    /** The state on one backend: per parameter its buffers in {@link #bufferNames()} order (null: none yet). */
    private static final class Placement<B> {
        final UpdateOps<B> ops;
        final List<List<B>> buffers;
        final long[] steps;

        Placement(UpdateOps<B> ops, int n) {
            this.ops = ops;
            this.buffers = new ArrayList<>(Collections.nCopies(n, null));
            this.steps = new long[n];
        }

        void clear(int i) {
            List<B> b = buffers.get(i);
            if (b != null) {
                b.forEach(ops::release);
                buffers.set(i, null);
            }
            steps[i] = 0;
        }
    }

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
        this.state = new Placement<>(KernelUpdateOps.HOST, this.params.size());
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

    /** The state names this optimizer's configuration keeps per parameter, e.g. ["exp_avg", "exp_avg_sq"]. */
    protected abstract List<String> bufferNames();

    /** Whether the state includes the parameter's step count (exported as {@code "step"}); false by default. */
    protected boolean countsSteps() {
        return false;
    }

    /**
     * Enqueues or runs one update of one parameter on {@code ops}: {@code value} overwritten in place from
     * {@code grad} (read only), {@code state} its buffers in {@link #bufferNames()} order (zeros when
     * {@code first}: its first step since it had no state), {@code step} its step count including this one
     * (where {@link #countsSteps()}).
     */
    protected abstract <B> void update(UpdateOps<B> ops, B value, B grad, List<B> state, boolean first, long step,
                                       int length);

    /** Where the state lives: {@link KernelUpdateOps#HOST} or the backend of the last {@link #moveTo}. */
    public final UpdateOps<?> backend() {
        return state.ops;
    }

    /**
     * One update of every parameter that has a gradient in {@code grads}, on the host (the state must be
     * there); values change in place, the gradients are read only.
     *
     * @throws IllegalStateException when the state was moved to another backend
     */
    public final void step(ParamGrads grads) {
        step(KernelUpdateOps.HOST, p -> p.value, p -> grads.has(p) ? grads.of(p) : null);
    }

    /**
     * One update of every parameter whose {@code grads} buffer is not null, on the backend that holds the
     * state: {@code values.apply(p)} is changed in place (e.g. a device model's copy of p), the gradients
     * are read only. No data crosses the backend boundary.
     *
     * @throws IllegalStateException when the state is on another backend than {@code ops}
     */
    public final <B> void step(UpdateOps<B> ops, Function<Param, B> values, Function<Param, B> grads) {
        Placement<B> at = placedOn(ops);
        List<String> names = bufferNames();
        boolean keeps = keepsState();
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            B g = grads.apply(p);
            if (g == null) {
                continue;
            }
            boolean first = at.buffers.get(i) == null;
            if (first && keeps) {
                List<B> s = new ArrayList<>(names.size());
                for (int k = 0; k < names.size(); k++) {
                    s.add(ops.zeros(p.size()));
                }
                at.buffers.set(i, s);
            }
            long t = keeps ? ++at.steps[i] : 0;
            update(ops, values.apply(p), g, keeps ? at.buffers.get(i) : List.of(), first, t, p.size());
        }
    }

    /**
     * Moves the state to {@code ops}' backend (one download and one upload per state buffer; nothing when
     * it is there already), where {@link #step(UpdateOps, Function, Function)} then updates it. Moving it
     * back to {@link KernelUpdateOps#HOST} frees the backend's buffers. On failure the state stays where
     * it was.
     */
    public final <B> void moveTo(UpdateOps<B> ops) {
        if (ops == null) {
            throw new IllegalArgumentException(kind() + ": moveTo needs a backend");
        }
        if (!state.ops.equals(ops)) {
            state = moved(state, ops);
        }
    }

    private <A, B> Placement<B> moved(Placement<A> from, UpdateOps<B> ops) {
        Placement<B> to = new Placement<>(ops, params.size());
        try {
            for (int i = 0; i < params.size(); i++) {
                List<A> s = from.buffers.get(i);
                if (s != null) {
                    List<B> t = new ArrayList<>(s.size());
                    to.buffers.set(i, t);
                    for (A a : s) {
                        t.add(ops.upload(from.ops.download(a, params.get(i).size())));
                    }
                }
                to.steps[i] = from.steps[i];
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < params.size(); i++) {
                to.clear(i);
            }
            throw e;
        }
        for (int i = 0; i < params.size(); i++) {
            from.clear(i);
        }
        return to;
    }

    @SuppressWarnings("unchecked")
    private <B> Placement<B> placedOn(UpdateOps<B> ops) {
        if (!state.ops.equals(ops)) {
            throw new IllegalStateException(describe() + ": the optimizer state is on " + state.ops + ", not on " + ops
                    + " (moveTo the backend that holds the parameters first)");
        }
        return (Placement<B>) state;
    }

    private boolean keepsState() {
        return !bufferNames().isEmpty() || countsSteps();
    }

    /** A deep copy of the state (one download per buffer from its backend); see {@link OptimizerState}. */
    public final OptimizerState exportState() {
        return export(state);
    }

    private <B> OptimizerState export(Placement<B> at) {
        Map<String, float[]> b = new LinkedHashMap<>();
        Map<String, Long> c = new LinkedHashMap<>();
        List<String> names = bufferNames();
        for (int i = 0; i < params.size(); i++) {
            List<B> s = at.buffers.get(i);
            if (s == null) {
                continue;
            }
            Param p = params.get(i);
            for (int k = 0; k < names.size(); k++) {
                b.put(p.name() + "." + names.get(k), at.ops.download(s.get(k), p.size()));
            }
            if (countsSteps()) {
                c.put(p.name() + "." + STEP, at.steps[i]);
            }
        }
        return new OptimizerState(kind(), b, c);
    }

    /**
     * Replaces the whole state with {@code s} (copied; one upload per buffer to the state's backend).
     * Parameters without entries in {@code s} get no state.
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
        List<String> counterNames = countsSteps() ? List.of(STEP) : List.of();
        Set<String> used = new HashSet<>();
        List<List<float[]>> bufs = new ArrayList<>();
        long[] steps = new long[params.size()];
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            List<float[]> pb = new ArrayList<>();
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
                pb.add(v);
            }
            for (String n : counterNames) {
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
                steps[i] = v;
            }
            int expected = bufferNames().size() + counterNames.size();
            if (!missing.isEmpty() && missing.size() < expected) {
                problems.add(p.name() + ": incomplete state, missing " + missing);
            }
            bufs.add(missing.isEmpty() && expected > 0 ? pb : null);
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
        install(state, bufs, steps);
    }

    private <B> void install(Placement<B> at, List<List<float[]>> bufs, long[] steps) {
        for (int i = 0; i < params.size(); i++) {
            at.clear(i);
            List<float[]> pb = bufs.get(i);
            if (pb != null) {
                List<B> t = new ArrayList<>(pb.size());
                at.buffers.set(i, t);
                for (float[] v : pb) {
                    t.add(at.ops.upload(v));
                }
                at.steps[i] = steps[i];
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
