package dev.opnorm.robust.certify;

/**
 * lower &lt;= ||J_f||_{p,q} &lt;= upper, at a point or as lower &lt;= sup over a ball &lt;= upper. Upper bounds
 * over a ball hold for the network in exact arithmetic (see {@link dev.opnorm.nn.bounds}); lower bounds
 * and the point bracket are about the float network's extracted Jacobian (see {@link Certifier}).
 *
 * @param lower       a lower bound attained at {@code at} (rounded down)
 * @param upper       a sound upper bound (rounded up)
 * @param estimate    the largest power-iteration value of the float network seen (0 when none ran); not a bound
 * @param lowerMethod how the lower bound was obtained
 * @param upperMethod how the upper bound was obtained
 * @param at          the input where the lower bound is attained (a copy)
 */
public record Bracket(double lower, double upper, double estimate, String lowerMethod, String upperMethod, float[] at) {
    public Bracket {
        // lower bounds are measured on the float network, upper bounds hold for it in exact arithmetic:
        // float rounding (relative 1e-7 per operation) may put the first a little above the second
        if (!(lower <= upper * (1 + 1e-5) + Double.MIN_NORMAL)) {
            throw new IllegalStateException("bracket [" + lower + ", " + upper + "] is empty: a bound is wrong");
        }
    }

    /** upper - lower. */
    public double gap() {
        return upper - lower;
    }

    /** upper / lower (infinite when lower is 0). */
    public double ratio() {
        return lower > 0 ? upper / lower : Double.POSITIVE_INFINITY;
    }
}
