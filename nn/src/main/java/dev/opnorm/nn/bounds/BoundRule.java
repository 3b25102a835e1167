package dev.opnorm.nn.bounds;

/**
 * How one layer maps bounds: {@link #over} propagates a box of inputs to a box of outputs (interval
 * arithmetic, rounded outward) and keeps what the derivative can be over that box (each ReLU's
 * derivative as {0}, {1} or [0,1], each max-pool window's possible choices); the returned step pulls
 * interval derivative rows back through the layer. A layer's rule holds no state between calls.
 */
public interface BoundRule {
    /**
     * The step of this layer over every input in {@code in} (one example).
     *
     * @throws IllegalArgumentException when the box's shape does not fit the layer (message names the layer)
     */
    BoundStep over(Box in);
}
