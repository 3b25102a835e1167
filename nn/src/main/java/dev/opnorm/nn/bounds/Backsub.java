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

    /**
     * The box with the bounds of the listed values (indices units[0..count)) intersected with their
     * back-substituted ones: rows +e_j and -e_j, pulled back and minimized over the region, in batches
     * that bound the memory of the dense row matrices. {@link #NONE} returns the box itself.
     */
    default Box tighten(Box in, int[] units, int count) {
        if (this == NONE || count == 0) {
            return in;
        }
        int n = in.size(), batch = 64;
        double[] lo = in.lo().clone(), hi = in.hi().clone();
        for (int from = 0; from < count; from += batch) {
            int m = Math.min(batch, count - from);
            double[] rows = new double[2 * m * n];
            for (int t = 0; t < m; t++) {
                int j = units[from + t];
                rows[(2 * t) * n + j] = 1;      // target z_j
                rows[(2 * t + 1) * n + j] = -1; // target -z_j: minus its lower bound is an upper bound of z_j
            }
            double[] l = lower(new LinearRows(new IntervalRows(2 * m, n, rows, rows.clone()), new double[2 * m]));
            for (int t = 0; t < m; t++) {
                int j = units[from + t];
                lo[j] = Math.max(lo[j], l[2 * t]);
                hi[j] = Math.min(hi[j], -l[2 * t + 1]);
            }
        }
        return new Box(in.shape(), lo, hi);
    }

    /** This context after one more step: bounds at the step's output are pulled back through it first. */
    default Backsub after(BoundStep step) {
        if (this == NONE) {
            return NONE;
        }
        return f -> lower(step.pullLower(f));
    }
}
