package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A differentiable layer. Layers hold parameters and running statistics but no per-call state: two
 * linearizations of the same layer at different inputs can coexist (batched attacks, evaluation during
 * training, several threads).
 *
 * <p>Names: {@link #name()} is the short name a container knows the layer by ("0", "conv1");
 * {@link #qualifiedName()} is the path from the root of the model ("features.0"), as in PyTorch's
 * {@code named_modules}, and is what error messages use. Parameter names are PyTorch state_dict keys
 * relative to the layer ("weight" for a conv, "features.0.weight" for a model).
 */
public interface Layer {
    /** A short name, unique among siblings in a container (used for parameter names and lookups). */
    String name();

    /**
     * The dotted path of this layer from the root of the model it belongs to ("features.3"); the
     * plain {@link #name()} for a layer that is not inside a container (or is the root).
     */
    default String qualifiedName() {
        return name();
    }

    /** The output shape for an input of shape {@code in}; throws IllegalArgumentException naming the layer and shapes when {@code in} does not fit. */
    Shape outputShape(Shape in);

    /**
     * Inference: f(x) with BatchNorm in EVAL mode, no residuals saved. Returns a new tensor; x is not
     * modified.
     *
     * @throws IllegalArgumentException when x does not fit the layer (message names the layer and the
     *                                  shapes), or, with {@link FiniteChecks} on, when x has a NaN/Inf
     */
    Tensor forward(Tensor x);

    /**
     * Forward pass at x in the given BatchNorm mode, keeping what jvp/vjp/vjpParams need. x is
     * referenced, not copied: do not modify it while the linearization is in use. The parameters are
     * referenced too: an optimizer step makes older linearizations stale.
     *
     * @throws IllegalArgumentException as {@link #forward}
     */
    Linearization linearize(Tensor x, BnMode mode);

    /**
     * The linearization at x (input shape {@code in}) on a {@link Backend}, residuals kept there. x is
     * referenced, not copied. By default: the host {@link #linearize} on the host; no other backend.
     *
     * @throws IllegalArgumentException as {@link #linearize}, or when the layer cannot run on the backend
     */
    default <F, I> Linearized<F> linearizeOn(Backend<F, I> backend, F x, Shape in, BnMode mode) {
        if (!backend.isHost()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " '" + qualifiedName()
                    + "' has no linearization on " + backend.ops().name() + " buffers (only on the host)");
        }
        @SuppressWarnings("unchecked")
        Linearized<F> lin = (Linearized<F>) Linearized.wrap(this, (Backend<float[], int[]>) backend,
                linearize(new Tensor(in, (float[]) x), mode));
        return lin;
    }

    /** Whether {@link #linearizeOn} works on {@code backend} (every layer runs on the host). */
    default boolean runsOn(Backend<?, ?> backend) {
        return backend.isHost();
    }

    /**
     * Trainable parameters, with names qualified by the path inside this layer. The list and its Param
     * objects are the same on every call (optimizers may key state by them); a container's entries
     * are renamed views sharing the child's value arrays.
     */
    default List<Param> params() {
        return List.of();
    }

    /** Non-trainable state saved in checkpoints (BN running mean/var), with qualified names; stable like {@link #params()}. */
    default List<Param> buffers() {
        return List.of();
    }

    /**
     * The layers this one is made of, in its own order (a Sequential's children, a residual block's
     * sub-layers); empty for a leaf. Names and parameters of a container are built from these.
     */
    default List<Layer> children() {
        return List.of();
    }

    /**
     * This layer as a chain of layers applied one after the other, nested chains expanded: the
     * leaves of a Sequential in execution order, each one's output the next one's input, so that
     * f = f_k o ... o f_1 and J = J_k ... J_1. A layer that is not a plain chain - a leaf, or a
     * residual block, whose Jacobian is a sum of paths - is the one-element chain of itself. A
     * linearization of this layer has a {@link Linearization#chain()} of the same length and order.
     */
    default List<Layer> chain() {
        return List.of(this);
    }

    /**
     * Runs x through this layer up to and including the sub-layer at the dotted {@code path}
     * ("features" or "features.12") of a chain of named layers.
     *
     * @throws IllegalArgumentException when this layer is not a chain of named layers or has no such
     *                                  sub-layer (the message names the layer and the path)
     */
    default Tensor forwardUpTo(Tensor x, String path) {
        throw new IllegalArgumentException(getClass().getSimpleName() + " '" + qualifiedName()
                + "' is not a chain of named layers, cannot run it up to '" + path + "'");
    }

    /**
     * The weights this layer itself applies linearly to its input (a conv kernel, a linear layer's
     * matrix), as weight regularizers see them; empty for a layer without such a weight. A container
     * reports none of its own: walk {@link #chain()} (or {@link #children()}) for its leaves'.
     */
    default List<LinearWeight> linearWeights() {
        return List.of();
    }

    /**
     * Re-initializes the parameters with PyTorch's default initialization, drawing from {@code rnd}
     * in a fixed order (containers: children in order; a layer: weight before bias), so that one seed
     * gives the same weights on every machine. Buffers are reset to their initial values
     * (running mean 0, running variance 1). Default: nothing to initialize.
     */
    default void initParameters(SplittableRandom rnd) {
    }

    /**
     * This layer's interval rule for certification (BatchNorm in EVAL mode): boxes of inputs to boxes of
     * outputs, and interval derivative rows pulled back (see {@link dev.opnorm.nn.bounds}).
     *
     * @throws UnsupportedOperationException for a layer without one (the message names the layer)
     */
    default dev.opnorm.nn.bounds.BoundRule bounds() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " '" + qualifiedName()
                + "' has no interval bound rule, so networks containing it cannot be certified");
    }
}
