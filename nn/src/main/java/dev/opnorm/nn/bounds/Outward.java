package dev.opnorm.nn.bounds;

/**
 * Outward rounding for bounds computed in double, round-to-nearest.
 *
 * <p>A single operation {@code fl(a op b)} is within half an ulp of the exact result, so
 * {@code Math.nextDown(fl(a op b))} is below it and {@code Math.nextUp(fl(a op b))} above it
 * ({@link #addDown}, {@link #mulUp} and friends). A sum of n products is bounded the way Higham's
 * Theorem 3.1 does: |fl(sum a_i b_i) - sum a_i b_i| &lt;= gamma_n sum |a_i b_i|, gamma_n = n u / (1 - n u),
 * u = 2^-53, in any summation order; {@link #dotError} turns a computed sum of absolute values into
 * such an error term, with the rounding of that sum itself and of underflowing products covered.
 */
public final class Outward {
    private Outward() {
    }

    /** Unit roundoff of double. */
    public static final double U = 0x1p-53;

    /** gamma_n = n u / (1 - n u) rounded up; n u must stay below 1/2. */
    public static double gamma(long n) {
        double nu = (double) n * U;
        if (!(nu < 0.5)) {
            throw new IllegalArgumentException("too many terms for a rounding-error bound: " + n);
        }
        return Math.nextUp(Math.nextUp(nu) / Math.nextDown(1 - nu));
    }

    /**
     * A bound on the rounding error of fl(sum of n products) and of fl(a second sum over the same terms
     * with absolute values), given {@code absSum}, the computed sum of |products| (or anything larger).
     * The exact absolute sum is at most absSum (1 + gamma_n); the error of each of two sums is at most
     * gamma_n times it; 2.01 gamma_n absSum covers both with the rounding of this product. Each product
     * that underflows loses at most 2^-1075 more, covered by n Double.MIN_VALUE.
     */
    public static double dotError(long n, double absSum) {
        return Math.nextUp(2.01 * gamma(n + 1) * absSum + (n + 1) * Double.MIN_VALUE);
    }

    /** A lower bound of a + b. */
    public static double addDown(double a, double b) {
        return Math.nextDown(a + b);
    }

    /** An upper bound of a + b. */
    public static double addUp(double a, double b) {
        return Math.nextUp(a + b);
    }

    /** A lower bound of a * b. */
    public static double mulDown(double a, double b) {
        double p = a * b;
        return p == 0 && (a == 0 || b == 0) ? 0 : Math.nextDown(p);
    }

    /** An upper bound of a * b. */
    public static double mulUp(double a, double b) {
        double p = a * b;
        return p == 0 && (a == 0 || b == 0) ? 0 : Math.nextUp(p);
    }

    /** An upper bound of sqrt(a), a &gt;= 0. */
    public static double sqrtUp(double a) {
        return Math.nextUp(Math.sqrt(a));
    }

    /** A lower bound of sqrt(a), a &gt;= 0 (0 for a &lt;= 0). */
    public static double sqrtDown(double a) {
        return a <= 0 ? 0 : Math.max(0, Math.nextDown(Math.sqrt(a)));
    }

    /**
     * Lower end of the product of intervals [al, ah] x [bl, bh], rounded down: the minimum of the four
     * corner products.
     */
    public static double mulLo(double al, double ah, double bl, double bh) {
        return Math.min(Math.min(mulDown(al, bl), mulDown(al, bh)), Math.min(mulDown(ah, bl), mulDown(ah, bh)));
    }

    /** Upper end of the product of intervals [al, ah] x [bl, bh], rounded up. */
    public static double mulHi(double al, double ah, double bl, double bh) {
        return Math.max(Math.max(mulUp(al, bl), mulUp(al, bh)), Math.max(mulUp(ah, bl), mulUp(ah, bh)));
    }

    /**
     * Writes the interval [c - r - e, c + r + e] to lo[i], hi[i], rounded outward, where c is a computed
     * sum of n products (the centre), r a computed sum of n nonnegative products (the radius) and
     * absSum a computed sum that dominates both sums' absolute terms; e = {@link #dotError}(n, absSum)
     * covers the rounding of c and r.
     */
    public static void closeSum(double c, double r, double absSum, long n, double[] lo, double[] hi, int i) {
        double e = dotError(n, absSum);
        lo[i] = Math.nextDown(Math.nextDown(c - r) - e);
        hi[i] = Math.nextUp(Math.nextUp(c + r) + e);
    }

    /** The centre of [lo, hi] (any double near the middle serves: the radius is computed from it). */
    public static double centre(double lo, double hi) {
        return lo == hi ? lo : 0.5 * lo + 0.5 * hi;
    }

    /** A radius r with [lo, hi] inside [c - r, c + r], rounded up. */
    public static double radius(double lo, double hi, double c) {
        if (lo == hi && lo == c) {
            return 0;
        }
        return Math.nextUp(Math.max(hi - c, c - lo));
    }
}
