package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.Ops;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A host {@link Layer} network placed on a backend ({@link Ops}, e.g. an OpenCL device): a copy of every
 * parameter and buffer (BatchNorm running statistics) there, uploaded once at construction, and a
 * {@link BufferPool} that linearizations take their activation and residual buffers from and give them
 * back to. The layers run their own generic linearizations ({@link Layer#linearizeOn}) on it.
 *
 * <p>The backend copy is the truth for everything run through this object: after changing the host
 * parameters (an optimizer step on the host, a checkpoint load) call {@link #uploadParameters()}; after
 * training on the backend call {@link #downloadParameters()} to bring the values back into the host
 * {@link Param} arrays. On the host backend the copies are the Param arrays themselves.
 *
 * <p>{@link #host} places a network on the host so that the algorithms written over a placed model run there
 * as on a device: its layers run their own host linearizations (each with its own {@link Kernels}, so the
 * network computes exactly the bits of {@link Layer#linearize}, and a layer with only a host linearization
 * takes part), the algorithms' row operations use the network's kernels.
 *
 * <p>Not thread safe. {@link #close()} frees everything.
 *
 * @param <F> a buffer of floats
 * @param <I> a buffer of ints
 */
public final class PlacedModel<F, I> implements AutoCloseable {
    private final Ops<F, I> ops;
    private final Layer model;
    private final Map<float[], F> values = new IdentityHashMap<>(); // by host storage
    private final List<Param> params;
    private final BufferPool<F, I> pool;
    private final Backend<F, I> backend;
    private final Map<Object, AutoCloseable> attached = new LinkedHashMap<>();
    private boolean closed;

    /**
     * Places {@code model} on {@code ops} (uploads every parameter and buffer once).
     *
     * @throws IllegalArgumentException naming the layer when the network contains a layer that has no
     *                                  linearization on this backend
     */
    public PlacedModel(Ops<F, I> ops, Layer model) {
        this(ops, model, false);
    }

    @SuppressWarnings("unchecked")
    private PlacedModel(Ops<F, I> ops, Layer model, boolean host) {
        if (ops == null || model == null) {
            throw new IllegalArgumentException("a placed model needs a backend and a model");
        }
        this.ops = ops;
        this.model = model;
        this.pool = new BufferPool<>(ops);
        // host: F, I are float[], int[] (ops is the Kernels given to the host factory)
        this.backend = host ? (Backend<F, I>) Backend.host((Kernels) ops) : Backend.of(ops, this::value, pool);
        Layer bad = unsupported(model);
        if (bad != null) { // checked before anything is allocated on the backend
            throw new IllegalArgumentException("layer '" + bad.qualifiedName() + "' (" + bad.getClass().getSimpleName()
                    + ") has no linearization on " + ops.name() + " buffers");
        }
        this.params = model.params();
        List<Param> all = new ArrayList<>(params);
        all.addAll(model.buffers());
        try {
            for (Param p : all) {
                values.put(p.value, ops.upload(p.value, Shape.features(1, p.size())));
            }
        } catch (RuntimeException e) {
            values.values().forEach(ops::release);
            throw e;
        }
    }

    /**
     * {@code net} on the host: the parameters are the Param arrays themselves (nothing is copied, so
     * {@link #uploadParameters} and {@link #downloadParameters} move nothing), each layer linearizes with its
     * own kernels, and {@link #ops()} is {@link #hostKernels(Layer) the network's kernels}.
     *
     * @throws IllegalArgumentException for a null network
     */
    public static PlacedModel<float[], int[]> host(Layer net) {
        if (net == null) {
            throw new IllegalArgumentException("a placed model needs a model");
        }
        return new PlacedModel<>(hostKernels(net), net, true);
    }

    /**
     * The kernels a host network computes with: its own ({@link AbstractLayer#kernels()}), else the default
     * ({@link Engine#kernels()}). The row operations of the algorithms are the same loops on every host
     * {@link Kernels}; only the layers' own kernels differ between implementations and vector widths.
     */
    public static Kernels hostKernels(Layer net) {
        return net instanceof AbstractLayer a ? a.kernels() : Engine.kernels();
    }

    /**
     * A host linearization of this host model's network (e.g. a training step's TRAIN one) as a placed one
     * at input x (its {@link PlacedLinearization#input()}; the array lin was computed at, or null when not
     * known); closing the result leaves {@code lin} as it is.
     *
     * @throws IllegalArgumentException for a model not made by {@link #host}, a null lin, a lin of another
     *                                  network's structure, or an x of another size
     */
    public PlacedLinearization<F> view(Linearization lin, float[] x) {
        checkOpen();
        if (!backend.isHost()) {
            throw new IllegalArgumentException("only a host placed model views host linearizations");
        }
        if (lin == null || (x != null && x.length != lin.inShape().size())) {
            throw new IllegalArgumentException("view: a linearization of " + model.qualifiedName() + " at x is needed");
        }
        List<Layer> layers = model.chain();
        List<Linearization> parts = lin.chain();
        for (int i = 0; i < parts.size(); i++) {
            Linearization p = parts.get(i);
            if (layers.size() != parts.size() || !layers.get(i).outputShape(p.inShape()).equals(p.outShape())) {
                throw new IllegalArgumentException(lin + " is not a linearization of '" + model.qualifiedName()
                        + "': " + parts.size() + " parts for " + layers.size() + " layers, part " + i + " maps "
                        + p.inShape() + " to " + p.outShape());
            }
        }
        Linearized<float[]> root = lin instanceof HostLinearization h ? h.step
                : Linearized.wrap(model, (Backend<float[], int[]>) (Backend<?, ?>) backend, lin);
        @SuppressWarnings("unchecked")
        PlacedLinearization<F> p = new PlacedLinearization<>(this, (Linearized<F>) (Linearized<?>) root, (F) x,
                false);
        return p;
    }

    /** The first layer (depth first) that cannot run on this backend, or null. */
    private Layer unsupported(Layer l) {
        if (l.runsOn(backend)) {
            return null;
        }
        for (Layer c : l.children()) {
            Layer bad = unsupported(c);
            if (bad != null) {
                return bad;
            }
        }
        return l;
    }

    /** The backend's operations. */
    public Ops<F, I> ops() {
        return ops;
    }

    /** The host network this places. */
    public Layer model() {
        return model;
    }

    /** The host network's parameters, in its order (the optimizer order). */
    public List<Param> params() {
        return params;
    }

    /** The backend copy of a parameter or buffer of the model. */
    public F value(Param p) {
        checkOpen();
        F t = values.get(p.value);
        if (t == null) {
            throw new IllegalArgumentException("parameter " + p.name() + " does not belong to " + model.qualifiedName());
        }
        return t;
    }

    /** Copies every host parameter and buffer to the backend (one upload each): after host-side changes. */
    public void uploadParameters() {
        checkOpen();
        for (Map.Entry<float[], F> e : values.entrySet()) {
            ops.upload(e.getValue(), e.getKey(), e.getKey().length);
        }
    }

    /** Copies every backend parameter and buffer back into the host Param arrays (one download each). */
    public void downloadParameters() {
        checkOpen();
        for (Map.Entry<float[], F> e : values.entrySet()) {
            ops.download(e.getValue(), e.getKey(), e.getKey().length);
        }
    }

    /** The output shape for an input of shape {@code in} (the host model's check and message). */
    public Shape outputShape(Shape in) {
        return model.outputShape(in);
    }

    /**
     * Forward pass on the backend at {@code x} of shape {@code shape} (referenced, not copied: leave it
     * unchanged while the linearization is used) in the given BatchNorm mode, keeping every residual there.
     *
     * @throws IllegalArgumentException when x does not fit the network (the host layers' messages)
     */
    public PlacedLinearization<F> linearize(F x, Shape shape, BnMode mode) {
        checkOpen();
        if (x == null || shape == null || mode == null) {
            throw new IllegalArgumentException("linearize needs an input, its shape and a BatchNorm mode");
        }
        model.outputShape(shape); // throws with the failing layer's name
        if (ops.length(x) < shape.size()) {
            throw new IllegalArgumentException("linearize: the input holds " + ops.length(x) + " floats, shape "
                    + shape + " needs " + shape.size());
        }
        return new PlacedLinearization<>(this, model.linearizeOn(backend, x, shape, mode), x, false);
    }

    /** Uploads {@code x} and linearizes there; the linearization owns (and frees) the uploaded copy. */
    public PlacedLinearization<F> linearize(Tensor x, BnMode mode) {
        checkOpen();
        if (mode == null) {
            throw new IllegalArgumentException("linearize needs a BatchNorm mode");
        }
        model.outputShape(x.shape);
        F dx = ops.upload(x.data, x.shape);
        try {
            return new PlacedLinearization<>(this, model.linearizeOn(backend, dx, x.shape, mode), dx, true);
        } catch (RuntimeException e) {
            ops.release(dx);
            throw e;
        }
    }

    /** The backend the layers linearize on (this model's parameter copies and pool). */
    public Backend<F, I> backend() {
        return backend;
    }

    /**
     * The buffers reused between this model's linearizations; work that runs beside them (iterations,
     * attacks) takes its buffers here too and gives them back with {@link BufferPool#give}.
     */
    public BufferPool<F, I> pool() {
        return pool; // after close, buffers given back are freed

    }

    /**
     * Frees the activation and residual buffers that closed linearizations left for reuse (they are
     * otherwise kept until {@link #close()}, so that repeated steps allocate nothing).
     */
    public void releaseBuffers() {
        pool.clear();
    }

    /**
     * The object kept under {@code key} for this model's lifetime, made by {@code make} on first request and
     * closed with the model (per-model helpers of a backend, e.g. its vector operations).
     */
    public <T extends AutoCloseable> T attached(Object key, Supplier<T> make) {
        checkOpen();
        AutoCloseable t = attached.get(key);
        if (t == null) {
            t = make.get();
            attached.put(key, t);
        }
        @SuppressWarnings("unchecked")
        T typed = (T) t;
        return typed;
    }

    public boolean isOpen() {
        return !closed;
    }

    /** @throws IllegalStateException when the model is closed */
    public void checkOpen() {
        if (closed) {
            throw new IllegalStateException("placed model of " + model.qualifiedName() + " is closed");
        }
    }

    /** Frees the backend copies of parameters and buffers, the pool, and what is {@link #attached}. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            for (AutoCloseable a : attached.values()) {
                try {
                    a.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing a helper of the placed model of " + model.qualifiedName(), e);
                }
            }
            values.values().forEach(ops::release);
            pool.close();
        }
    }
}
