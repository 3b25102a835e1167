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

    /**
     * Given linear lower bounds on targets in terms of this layer's output, linear lower bounds in terms
     * of its input, valid for every input in the step's box: exact for affine layers (their offset added
     * with downward rounding), a sound linear relaxation over the input box for nonlinear ones.
     */
    LinearRows pullLower(LinearRows f);

    /**
     * {@link #pullLower} for one row held on a spatial window of this layer's output: the pulled-back row
     * on the window of the input it reaches, or null when this layer has no windowed form (the caller
     * then goes on with the dense rows). Sound in the same sense as {@link #pullLower}; the work is
     * proportional to the window, not to the layer.
     */
    default RowWindow pullLowerWindow(RowWindow f) {
        return null;
    }

    /**
     * {@link #pullLowerWindow} for a batch of rows on one window, each row's result the same bit for bit
     * as its own window's; null when this layer has no batched form (the caller goes on row by row).
     */
    default RowBatch pullLowerBatch(RowBatch f) {
        return null;
    }

    /**
     * ReLU layers inside this step (1 for a ReLU, the sum along the deepest path for a chain or block):
     * what {@link Backsub#tightenLayers()} counts.
     */
    default int reluLayers() {
        return 0;
    }

    /**
     * The zonotope of this step's output given {@code z}, that of its input (null: none known), computed with
     * what the step decided over its box (a ReLU's tightened bounds, a pool's candidates); null when the layer
     * has no zonotope form, which ends the zonotope there (sound: the boxes then go on alone). The step may
     * reuse z's arrays. A step that tracked the zonotope through its own parts while its box was computed (a
     * chain) returns that one.
     */
    default Zonotope forward(Zonotope z) {
        return null;
    }
}
