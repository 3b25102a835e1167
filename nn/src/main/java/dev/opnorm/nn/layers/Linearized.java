package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * A layer linearized at an input batch x on a {@link Backend}: the output f(x) and the residuals (ReLU
 * outputs as masks, BatchNorm statistics, max-pool argmax, saved inputs) as backend buffers, and the
 * Jacobian as jvp / vjp on such buffers. Each built-in layer writes this once; the host
 * {@link Linearization} ({@link #host()}) and a {@link PlacedModel}'s device linearization are the same
 * code on different buffers.
 *
 * <p>Conventions as {@link Linearization}: jvp / vjp OVERWRITE their output, parameter gradients
 * ACCUMULATE (+=); inputs are not modified; an output must not be its input; buffers may be longer than
 * the shapes need. No argument checks here: the entry points ({@link Linearization}, {@link
 * PlacedLinearization}) check. The parameters are read when the kernels run. Not thread safe;
 * {@link #close()} gives the buffers back to the backend.
 *
 * @param <F> a buffer of floats
 */
public abstract class Linearized<F> {
    private final Layer layer;
    private final String owner;
    /** Where this linearization's buffers live and its kernels run. */
    protected final Backend<F, ?> backend;
    private final Shape in;
    private final Shape out;
    private final BnMode mode;
    private final List<F> owned = new ArrayList<>();
    private F output;
    private Linearization hostView;
    private boolean closed;

    protected Linearized(Layer layer, String owner, Backend<F, ?> backend, Shape in, Shape out, BnMode mode) {
        this.layer = layer;
        this.owner = owner;
        this.backend = backend;
        this.in = in;
        this.out = out;
        this.mode = mode;
    }

    /** For a built-in layer: the owner is its {@link AbstractLayer#describe()}. */
    protected Linearized(AbstractLayer layer, Backend<F, ?> backend, Shape in, Shape out, BnMode mode) {
        this(layer, layer.describe(), backend, in, out, mode);
    }

    /** The layer this linearizes. */
    public final Layer layer() {
        return layer;
    }

    /** Who this is the linearization of, e.g. "Conv2d 'features.0'". */
    public final String owner() {
        return owner;
    }

    public final Shape inShape() {
        return in;
    }

    public final Shape outShape() {
        return out;
    }

    public final BnMode mode() {
        return mode;
    }

    /** f(x) on the backend; do not modify it. */
    public final F output() {
        return output;
    }

    /** Sets the output buffer (once, at construction). */
    protected final void setOutput(F y) {
        this.output = y;
    }

    /** A buffer of this shape from the backend, given back by {@link #close()}. */
    protected final F tensor(Shape s) {
        F t = backend.tensor(s);
        owned.add(t);
        return t;
    }

    /** A buffer of {@code len} floats (per-channel coefficients), given back by {@link #close()}. */
    protected final F vector(int len) {
        return tensor(Shape.features(1, len));
    }

    /** dy = J dx, overwritten. */
    public abstract void jvp(F dx, F dy);

    /** gx = J^T gy (overwritten) unless gx is null; grads += the parameter gradients unless grads is null. */
    public abstract void vjp(F gy, F gx, Grads<F> grads);

    /**
     * Whether this part has a rule for the parameter gradient of its JVP ({@link #tangentRule}); see
     * {@link Linearization#tangentRule()} for which parts have one.
     */
    public boolean hasTangentRule() {
        return false;
    }

    /**
     * grads += d/d theta {@code <g, J(theta) t>}, summed over the batch, t the tangent entering this part
     * and g the cotangent at its output (see {@link TangentRule}).
     *
     * @throws IllegalStateException when {@link #hasTangentRule()} is false
     */
    public void tangentRule(F t, F g, Grads<F> grads) {
        throw new IllegalStateException(owner + " has no tangent rule");
    }

    /** The training side effects (BatchNorm running statistics in TRAIN mode); nothing by default. */
    public void commit() {
    }

    /** The direct parts of a composite, in forward order; empty for a leaf. */
    public List<Linearized<F>> parts() {
        return List.of();
    }

    /** This linearization as a chain of parts, nested chains expanded (see {@link Linearization#chain()}). */
    public List<Linearized<F>> chain() {
        return List.of(this);
    }

    /** Calls visitor on this and every part, forward order, depth first. */
    public final void visit(Consumer<Linearized<F>> visitor) {
        visitor.accept(this);
        for (Linearized<F> p : parts()) {
            p.visit(visitor);
        }
    }

    /** The prefix of a chain of named layers up to the sub-layer at {@code path} (see {@link Linearization#upTo}). */
    public Linearized<F> upTo(String path) {
        throw new IllegalArgumentException("linearization of " + owner + " is not the linearization of a chain of "
                + "named layers, cannot take its prefix up to '" + path + "'");
    }

    /** See {@link Linearization#activationSite()}; read from the backend (a download off the host). */
    public ActivationSite activationSite() {
        return null;
    }

    /** Gives this part's buffers back to the backend (composites: their parts' too). Idempotent. */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        owned.forEach(backend::give);
        owned.clear();
        for (Linearized<F> p : ownedParts()) {
            p.close();
        }
    }

    /** The parts {@link #close()} closes with this one: by default all of {@link #parts()}. */
    protected List<Linearized<F>> ownedParts() {
        return parts();
    }

    /**
     * This linearization as a host {@link Linearization} (F must be float[]: built on {@link Backend#host}).
     * The same object on every call.
     */
    public final Linearization host() {
        if (hostView == null) {
            if (!backend.isHost()) {
                throw new IllegalStateException(owner + ": a host view of a linearization on "
                        + backend.ops().name() + " buffers");
            }
            @SuppressWarnings("unchecked")
            Linearized<float[]> self = (Linearized<float[]>) this;
            hostView = hostView(self);
        }
        return hostView;
    }

    /** The host view; composites with more host API (a Sequential's) override. */
    Linearization hostView(Linearized<float[]> self) {
        return new HostLinearization(self);
    }

    @Override
    public String toString() {
        return "linearization of " + owner;
    }

    /** The chains of parts, concatenated: a helper for composites' {@link #chain()}. */
    static <F> List<Linearized<F>> chains(List<Linearized<F>> parts) {
        List<Linearized<F>> out = new ArrayList<>();
        for (Linearized<F> p : parts) {
            out.addAll(p.chain());
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * A layer's host-only {@link Linearization} as a part of a host composite (a layer type that
     * implements {@link AbstractLayer#linearizeImpl(dev.opnorm.nn.Tensor, BnMode, Shape)} only, or a
     * {@link Layer} that is no AbstractLayer).
     */
    static Linearized<float[]> wrap(Layer layer, Backend<float[], int[]> host, Linearization lin) {
        return new Wrapped(layer, host, lin);
    }

    private static final class Wrapped extends Linearized<float[]> {
        private final Linearization lin;

        Wrapped(Layer layer, Backend<float[], int[]> host, Linearization lin) {
            super(layer, lin instanceof AbstractLinearization a ? a.owner()
                            : layer.getClass().getSimpleName() + " '" + layer.qualifiedName() + "'",
                    host, lin.inShape(), lin.outShape(), lin.mode());
            this.lin = lin;
            setOutput(lin.output().data);
        }

        private static ParamGrads paramGrads(Grads<float[]> grads) {
            if (grads == null || grads instanceof ParamGrads) {
                return (ParamGrads) grads;
            }
            throw new IllegalArgumentException("a host-only layer takes its parameter gradients in a ParamGrads, got "
                    + grads.getClass().getSimpleName());
        }

        @Override
        public void jvp(float[] dx, float[] dy) {
            lin.jvp(dx, dy);
        }

        @Override
        public void vjp(float[] gy, float[] gx, Grads<float[]> grads) {
            lin.vjpAll(gy, gx, paramGrads(grads));
        }

        @Override
        public boolean hasTangentRule() {
            return lin.tangentRule() != null;
        }

        @Override
        public void tangentRule(float[] t, float[] g, Grads<float[]> grads) {
            TangentRule r = lin.tangentRule();
            if (r == null) {
                super.tangentRule(t, g, grads);
            }
            r.accumulate(t, g, paramGrads(grads));
        }

        @Override
        public void commit() {
            lin.commit();
        }

        @Override
        public ActivationSite activationSite() {
            return lin.activationSite();
        }

        @Override
        Linearization hostView(Linearized<float[]> self) {
            return lin;
        }
    }
}
