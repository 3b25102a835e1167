package dev.opnorm.nn.bounds;

/** One layer's bounds over a box of inputs: the box of outputs, and the pullback of derivative rows. */
public interface BoundStep {
    /** Bounds on the layer's output over the input box. */
    Box output();

    /**
     * Given rows g bounding d(outputs of interest)/d(this layer's output) (g.cols() = output size), rows
     * bounding d(outputs of interest)/d(this layer's input) = g J for every Jacobian J the layer can have
     * over the input box (g.cols() = input size). Rounded outward.
     */
    IntervalRows pullback(IntervalRows g);
}
