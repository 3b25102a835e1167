package dev.opnorm.nn.bounds;

/**
 * How one layer maps bounds: {@link #over} propagates a box of inputs to a box of outputs (interval
 * arithmetic, rounded outward) and keeps what the derivative can be over that box (each ReLU's
 * derivative as {0}, {1} or [0,1], each max-pool window's possible choices); the returned step pulls
 * interval derivative rows back through the layer, and linear lower bounds ({@link BoundStep#pullLower}).
 * Given a {@link Backsub} of the layers before it, a rule whose bounds depend on its input's bounds (ReLU)
 * first tightens them by linear back-substitution to the network input (CROWN / DeepPoly style); the
 * tightened bounds are intersected with the interval ones, so they are never looser. A layer's rule
 * holds no state between calls.
 */
public interface BoundRule {
    /**
     * The step of this layer over every input in {@code in} (one example); {@code before} bounds what the
     * layers before it compute, for back-substitution.
     *
     * @throws IllegalArgumentException when the box's shape does not fit the layer (message names the layer)
     */
    BoundStep over(Box in, Backsub before);

    /** Plain interval propagation: {@link #over(Box, Backsub)} with {@link Backsub#NONE}. */
    default BoundStep over(Box in) {
        return over(in, Backsub.NONE);
    }
}
