package dev.opnorm.nn.bounds;

/**
 * Linear lower bounds on m scalar targets (pre-activations, logit differences) in terms of the n values
 * z of one point of the network: for every network input of the region, target_i &gt;= a_i . z + c_i for
 * some real row a_i inside row i of {@code coef} (intervals, so the rounding of the coefficients is
 * carried as their width) and the double c_i. An upper bound on a target is a lower bound on its
 * negation. {@link BoundStep#pullLower} moves such bounds from a layer's output to its input.
 */
public record LinearRows(IntervalRows coef, double[] c) {
    public LinearRows {
        if (c.length != coef.rows()) {
            throw new IllegalArgumentException("linear bounds: " + coef.rows() + " rows but " + c.length + " constants");
        }
    }

    /** The exact rows target_i = rows[i] . z (zero constant). */
    public static LinearRows exact(double[][] rows) {
        return new LinearRows(IntervalRows.exact(rows), new double[rows.length]);
    }

    public int rows() {
        return coef.rows();
    }

    /**
     * The pullback through an affine layer z = L(x) + v: {@code pulled} holds a L for every a of the
     * rows (the layer's interval pullback), and c grows by min over a in the row and v in {@code offset}
     * (the layer's output at input 0) of a . v, each product rounded down ({@link Outward#mulLo}) and
     * each addition rounded down.
     */
    public static LinearRows affine(IntervalRows pulled, LinearRows f, Box offset) {
        IntervalRows a = f.coef();
        Intervals.checkCols(a, offset.size(), "affine pullback");
        int n = a.cols();
        double[] c = f.c().clone();
        for (int i = 0; i < a.rows(); i++) {
            double s = c[i];
            for (int j = 0, q = i * n; j < n; j++, q++) {
                double al = a.lo()[q], ah = a.hi()[q], vl = offset.lo()[j], vh = offset.hi()[j];
                if ((al == 0 && ah == 0) || (vl == 0 && vh == 0)) {
                    continue;
                }
                s = Intervals.sumDown(s, Outward.mulLo(al, ah, vl, vh));
            }
            c[i] = s;
        }
        return new LinearRows(pulled, c);
    }

    /** The sum of two bounds on the same targets in the same variables (coefficients add, constants add, rounded down). */
    public static LinearRows add(LinearRows x, LinearRows y) {
        double[] c = new double[x.c().length];
        for (int i = 0; i < c.length; i++) {
            c[i] = Intervals.sumDown(x.c()[i], y.c()[i]);
        }
        return new LinearRows(Intervals.add(x.coef(), y.coef()), c);
    }

    /** The same coefficients with zero constants (for a second path to the same targets, the constant counted once). */
    public LinearRows withoutConstant() {
        return new LinearRows(coef, new double[c.length]);
    }
}
