package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.util.List;

/**
 * A differentiable layer. Layers hold parameters and running statistics but no per-call state: two
 * linearizations of the same layer at different inputs can coexist (batched attacks, evaluation during
 * training, several threads).
 */
public interface Layer {
    /** A short name, unique among siblings in a container (used for parameter names and lookups). */
    String name();

    /** The output shape for an input of shape {@code in}; throws IllegalArgumentException naming the layer and shapes when {@code in} does not fit. */
    Shape outputShape(Shape in);

    /** Inference: f(x) with BatchNorm in EVAL mode, no residuals saved. */
    Tensor forward(Tensor x);

    /** Forward pass at x in the given BatchNorm mode, keeping what jvp/vjp/vjpParams need. */
    Linearization linearize(Tensor x, BnMode mode);

    /** Trainable parameters, with names qualified by the path inside this layer. */
    default List<Param> params() {
        return List.of();
    }

    /** Non-trainable state saved in checkpoints (BN running mean/var), with qualified names. */
    default List<Param> buffers() {
        return List.of();
    }
}
