package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;

/**
 * Common plumbing of the built-in layers: the name and the link to the enclosing container (for
 * qualified names in error messages), the {@link Kernels} the layer computes with, and the input
 * checks every {@code forward}/{@code linearize} runs before the layer's own code (shape through
 * {@link #outputShape}, NaN/Inf when {@link FiniteChecks} is on).
 *
 * <p>The parent link is set once, when a container is constructed around the layer; a layer
 * belongs to at most one container. It is configuration, not per-call state.
 */
public abstract class AbstractLayer implements Layer {
    private final String name;
    /** The kernels every heavy operation of this layer goes through. */
    protected final Kernels kernels;
    private AbstractLayer parent; // the built-in containers are AbstractLayers
    private Backend<float[], int[]> host; // this layer's kernels as a backend, made on first use

    protected AbstractLayer(String name, Kernels kernels) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("layer name must be non-empty and contain no '.', got '" + name + "'");
        }
        if (kernels == null) {
            throw new IllegalArgumentException("layer " + name + ": kernels must not be null");
        }
        this.name = name;
        this.kernels = kernels;
    }

    /** A layer that uses {@link Engine#kernels()}. */
    protected AbstractLayer(String name) {
        this(name, Engine.kernels());
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String qualifiedName() {
        // the root's own name is not part of the path, as in PyTorch's named_modules()
        if (parent == null || parent.parent == null) {
            return name;
        }
        return parent.qualifiedName() + "." + name;
    }

    /** The kernels this layer computes with. */
    public final Kernels kernels() {
        return kernels;
    }

    /** Called once by the container this layer is placed in. */
    final void attachTo(AbstractLayer container) {
        if (parent != null) {
            throw new IllegalArgumentException("layer '" + qualifiedName() + "' already belongs to a container; "
                    + "a layer instance can be placed in one container only");
        }
        parent = container;
    }

    /** "Conv2d 'features.0'": the layer kind and its qualified name, for messages. */
    public final String describe() {
        return getClass().getSimpleName() + " '" + qualifiedName() + "'";
    }

    /** An IllegalArgumentException whose message starts with {@link #describe()}. */
    protected final IllegalArgumentException error(String message) {
        return new IllegalArgumentException(describe() + ": " + message);
    }

    @Override
    public final Tensor forward(Tensor x) {
        Shape out = checkInput(x);
        return forwardImpl(x, out);
    }

    @Override
    public final Linearization linearize(Tensor x, BnMode mode) {
        if (mode == null) {
            throw error("BnMode must not be null");
        }
        Shape out = checkInput(x);
        return linearizeImpl(x, mode, out);
    }

    /** forward after the checks; {@code out} is outputShape(x.shape). */
    protected abstract Tensor forwardImpl(Tensor x, Shape out);

    /**
     * linearize after the checks; {@code out} is outputShape(x.shape). By default the generic
     * linearization ({@link #linearizeImpl(Backend, Object, Shape, BnMode, Shape)}) on host arrays with
     * this layer's kernels, seen as a host {@link Linearization}. A layer type that has only a host
     * linearization overrides this one instead of the generic one (a subclass must override one of them).
     */
    protected Linearization linearizeImpl(Tensor x, BnMode mode, Shape out) {
        return linearizeImpl(hostBackend(), x.data, x.shape, mode, out).host();
    }

    /**
     * The linearization at x on any backend: checks the mode and the input shape (and, on the host with
     * {@link FiniteChecks} on, the values), then runs the layer's generic linearization.
     *
     * @throws IllegalArgumentException as {@link #linearize}, or when the layer has no implementation on
     *                                  the backend (the message names the layer)
     */
    @Override
    public final <F, I> Linearized<F> linearizeOn(Backend<F, I> backend, F x, Shape in, BnMode mode) {
        if (mode == null) {
            throw error("BnMode must not be null");
        }
        if (x == null) {
            throw error("input tensor must not be null");
        }
        if (backend.isHost()) {
            Tensor t = new Tensor(in, (float[]) x);
            Shape out = checkInput(t);
            @SuppressWarnings("unchecked")
            Linearized<F> lin = (Linearized<F>) linearizeImpl(hostBackend(), t.data, in, mode, out);
            return lin;
        }
        return linearizeImpl(backend, x, in, mode, outputShape(in));
    }

    /**
     * The layer's linearization at x (input shape {@code in}, output shape {@code out}, both checked) on
     * {@code backend}: what a built-in layer implements once for every backend. On the host,
     * {@code backend} computes with this layer's kernels. By default: the host-only
     * {@link #linearizeImpl(Tensor, BnMode, Shape)} on the host, an error elsewhere.
     */
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> backend, F x, Shape in, BnMode mode, Shape out) {
        if (backend.isHost()) {
            @SuppressWarnings("unchecked")
            Linearized<F> lin = (Linearized<F>) Linearized.wrap(this, hostBackend(),
                    linearizeImpl(new Tensor(in, (float[]) x), mode, out));
            return lin;
        }
        throw unsupported(backend);
    }

    /**
     * Whether this layer can be linearized on {@code backend}: always on the host; elsewhere only layers
     * with a generic linearization (the built-in ones override this), containers when all their parts can.
     */
    @Override
    public boolean runsOn(Backend<?, ?> backend) {
        return backend.isHost();
    }

    /** The error for a backend this layer has no linearization on. */
    protected final IllegalArgumentException unsupported(Backend<?, ?> backend) {
        return error("has no linearization on " + backend.ops().name() + " buffers (only on the host)");
    }

    /** This layer's kernels as a host backend. */
    protected final Backend<float[], int[]> hostBackend() {
        if (host == null) {
            host = Backend.host(kernels);
        }
        return host;
    }

    /**
     * Whether this layer checks its input for NaN/Inf (when {@link FiniteChecks} is on). Containers
     * return false: their first leaf checks, and names itself.
     */
    protected boolean checksFiniteInput() {
        return true;
    }

    private Shape checkInput(Tensor x) {
        if (x == null) {
            throw error("input tensor must not be null");
        }
        Shape out = outputShape(x.shape);
        if (FiniteChecks.enabled() && checksFiniteInput()) {
            int i = x.firstNonFinite();
            if (i >= 0) {
                Shape s = x.shape;
                int per = s.perExample(), hw = s.h() * s.w();
                int b = i / per, c = (i % per) / hw, y = (i % hw) / s.w(), col = i % s.w();
                throw error("input element " + i + " (example " + b + ", channel " + c + ", row " + y
                        + ", column " + col + ") is " + x.data[i] + "; input shape " + s);
            }
        }
        return out;
    }
}
