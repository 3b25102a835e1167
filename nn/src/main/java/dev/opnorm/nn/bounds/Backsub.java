package dev.opnorm.nn.bounds;

/**
 * Everything before one point of the network, as seen by back-substitution: given linear lower bounds
 * on targets in terms of the values at that point, a lower bound on each target over the region of
 * network inputs (pulled back through the earlier layers, then minimized over the input region).
 * {@link #NONE} knows nothing: rules then keep their plain interval bounds.
 */
@FunctionalInterface
public interface Backsub {
    /** No back-substitution: plain interval propagation. */
    Backsub NONE = f -> {
        double[] l = new double[f.rows()];
        java.util.Arrays.fill(l, Double.NEGATIVE_INFINITY);
        return l;
    };

    /** A lower bound on each row's target over the region (-infinity where nothing is known). */
    double[] lower(LinearRows f);

    /** This context after one more step: bounds at the step's output are pulled back through it first. */
    default Backsub after(BoundStep step) {
        if (this == NONE) {
            return NONE;
        }
        return f -> lower(step.pullLower(f));
    }
}
