package dev.opnorm.nn.bounds;

/**
 * A rows x cols interval matrix, row-major: entry (i, j) is [lo, hi]. Row i holds bounds on the
 * derivatives of one scalar output (a logit, a logit difference) with respect to the cols values of a
 * layer's input or output, valid over a region of network inputs; pulling it back through the layers
 * ({@link BoundStep#pullback}) turns it into bounds on rows of the network's Jacobian.
 */
public record IntervalRows(int rows, int cols, double[] lo, double[] hi) {
    public IntervalRows {
        if (rows <= 0 || cols <= 0 || lo.length != (long) rows * cols || hi.length != lo.length) {
            throw new IllegalArgumentException("interval matrix " + rows + " x " + cols + " with arrays of length "
                    + lo.length + " and " + hi.length);
        }
    }

    /** A zero rows x cols matrix. */
    public static IntervalRows zeros(int rows, int cols) {
        return new IntervalRows(rows, cols, new double[rows * cols], new double[rows * cols]);
    }

    /**
     * The exact (zero-width) matrix whose rows are the given vectors, e.g. unit vectors e_i for the rows
     * of the Jacobian, or e_y - e_j for logit differences.
     */
    public static IntervalRows exact(double[][] rows) {
        int cols = rows[0].length;
        double[] v = new double[rows.length * cols];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != cols) {
                throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " entries, row 0 " + cols);
            }
            System.arraycopy(rows[i], 0, v, i * cols, cols);
        }
        return new IntervalRows(rows.length, cols, v, v.clone());
    }

    /** Lower end of entry (i, j). */
    public double lo(int i, int j) {
        return lo[i * cols + j];
    }

    /** Upper end of entry (i, j). */
    public double hi(int i, int j) {
        return hi[i * cols + j];
    }
}
