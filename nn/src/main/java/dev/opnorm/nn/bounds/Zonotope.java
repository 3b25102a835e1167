package dev.opnorm.nn.bounds;

import dev.opnorm.nn.Shape;

import java.util.stream.IntStream;

/**
 * The values at one point of the network over an input ball, as a zonotope whose error terms are folded
 * into a box (DeepZ, Singh et al. 2018, with the l_p ball as the generator set): value j lies in
 * A_j . delta + rest_j for some delta with ||delta||_p &lt;= radius, where A (one row of generators per
 * value) is held in float and rest_j is an interval. So value j lies in rest_j +- radius ||A_j||_{p*}.
 *
 * <p>Why: interval boxes lose every correlation between values, so deep in a network they flag most ReLU
 * units as unstable even over a tiny ball; a zonotope keeps the first-order dependence on the input
 * exactly, and over small balls leaves only the units that are really unstable. Affine layers map A
 * exactly (up to rounding), with the layers' own float kernels over a batch of one "image" per generator
 * (n generators: the cost of a forward pass of a batch of n); a ReLU that is surely on or off keeps or
 * zeroes its row; an unstable one takes the parallelogram y = lambda x + [m_lo, m_hi] whose error goes into
 * rest (a box, not a new generator: cheaper, and looser only past the first unstable units).
 *
 * <p>Sound in floating point: every float result of the kernels is within gamma_k sum |w| |a| (k terms,
 * u = 2^-24, any summation order, FMA or not) plus k underflows of 2^-149 of the exact one; per value
 * that error's p*-norm over the generators is at most gamma_k (|W| N)_j + k 2^-149 ||1||_{p*} with N the
 * rows' norms, and radius times it widens rest_j ({@link #affine}). Norms and boxes are rounded up /
 * outward in double. A zonotope whose bounds are not finite is dropped (null), which is always sound.
 *
 * <p>The generator array belongs to the zonotope; a step that consumes one may reuse it in place.
 */
public final class Zonotope {
    /** Unit roundoff of float. */
    public static final double U_FLOAT = 0x1p-24;

    /**
     * Most generator coefficients a zonotope may hold (1 GiB of floats): past it the zonotope is dropped
     * ({@link #fits}), and the boxes go on alone. The quick profile's network holds at most 2^25 (1024
     * generators, 32 x 32 x 32 values); CIFAR-10 at width 1.0 would need 2^29 in its first layers.
     */
    public static final long MAX_COEFFICIENTS = 1L << 28;

    /** Whether a zonotope of {@code gens} generators over {@code size} values stays within {@link #MAX_COEFFICIENTS}. */
    public static boolean fits(long gens, long size) {
        return gens * size <= MAX_COEFFICIENTS;
    }

    /**
     * Whether z goes on through a layer {@code who} of {@code inSize} inputs and {@code outSize} outputs: false
     * when there is none or the output would not fit ({@link #fits}: the boxes then go on alone).
     *
     * @throws IllegalArgumentException when z holds another number of values than the layer's inputs
     */
    public static boolean passes(Zonotope z, int inSize, int outSize, String who) {
        if (z == null) {
            return false;
        }
        if (z.shape.size() != inSize) {
            throw new IllegalArgumentException(who + ": zonotope of shape " + z.shape + " for " + inSize + " inputs");
        }
        return fits(z.gens, outSize);
    }

    private final Shape shape;
    private final int gens;
    private final float[] a;
    private final double radius;
    private final double dual;
    private final Box rest;
    private double[] norms;

    private Zonotope(Shape shape, int gens, float[] a, double radius, double dual, Box rest) {
        if (a.length != (long) gens * shape.size() || rest.size() != shape.size()) {
            throw new IllegalArgumentException("zonotope of shape " + shape + " with " + gens + " generators needs "
                    + (long) gens * shape.size() + " coefficients and " + shape.size() + " rest bounds, got "
                    + a.length + " and " + rest.size());
        }
        this.shape = shape;
        this.gens = gens;
        this.a = a;
        this.radius = radius;
        this.dual = dual;
        this.rest = rest;
    }

    /**
     * The input ball B_p(x0, eps) as a zonotope, p in {1, 2, inf}; null when eps is 0 (a point: interval
     * bounds are as good) or p is another value. For p = inf the box {@code box} (the ball clipped to the
     * domain) is the set: generator j spans its half-width; for p = 1, 2 the generators are the unit
     * vectors and delta ranges over the ball (the domain is ignored: a superset, still sound).
     */
    public static Zonotope ball(Shape shape, float[] x0, double eps, double p, Box box) {
        if (!(eps > 0) || !(p == 1 || p == 2 || p == Double.POSITIVE_INFINITY) || !fits(shape.size(), shape.size())) {
            return null;
        }
        int n = shape.size();
        float[] a = new float[n * n];
        if (p == Double.POSITIVE_INFINITY) {
            double[] c = new double[n];
            for (int j = 0; j < n; j++) {
                c[j] = Outward.centre(box.lo()[j], box.hi()[j]);
                double r = Outward.radius(box.lo()[j], box.hi()[j], c[j]);
                float f = (float) r;
                a[j * n + j] = f < r ? Math.nextUp(f) : f;
            }
            return new Zonotope(shape, n, a, 1, 1, new Box(shape, c, c.clone()));
        }
        for (int j = 0; j < n; j++) {
            a[j * n + j] = 1;
        }
        return new Zonotope(shape, n, a, eps, p == 1 ? Double.POSITIVE_INFINITY : 2, Box.point(shape, x0));
    }

    /** Shape of one example at this point. */
    public Shape shape() {
        return shape;
    }

    /** Number of generators (columns of A). */
    public int gens() {
        return gens;
    }

    /** The generators, generator-major: a[g * size + j] is A_{j,g} (a batch of gens examples). */
    public float[] a() {
        return a;
    }

    /** The radius of the generator ball. */
    public double radius() {
        return radius;
    }

    /** The norm dual to the ball's: the p* of ||A_j||_{p*}. */
    public double dual() {
        return dual;
    }

    /** The interval part: centres and every error folded in. */
    public Box rest() {
        return rest;
    }

    /** The same zonotope read with another shape of the same size (a reshape layer). */
    public Zonotope reshaped(Shape to) {
        return new Zonotope(to, gens, a, radius, dual, new Box(to, rest.lo(), rest.hi()));
    }

    /** ||A_j||_{p*} for every value j, rounded up (computed once, in parallel over blocks of values). */
    public double[] norms() {
        if (norms == null) {
            int n = shape.size();
            double[] out = new double[n];
            int block = 256;
            double grow = 1 + Outward.gamma(gens + 2);
            IntStream.range(0, (n + block - 1) / block).parallel().forEach(b -> {
                int j0 = b * block, j1 = Math.min(n, j0 + block);
                double[] s = new double[j1 - j0];
                for (int g = 0; g < gens; g++) {
                    int base = g * n;
                    if (dual == 2) {
                        for (int j = j0; j < j1; j++) {
                            double v = a[base + j];
                            s[j - j0] += v * v; // exact: a float's square fits a double
                        }
                    } else if (dual == 1) {
                        for (int j = j0; j < j1; j++) {
                            s[j - j0] += Math.abs(a[base + j]);
                        }
                    } else {
                        for (int j = j0; j < j1; j++) {
                            s[j - j0] = Math.max(s[j - j0], Math.abs(a[base + j]));
                        }
                    }
                }
                for (int j = j0; j < j1; j++) {
                    out[j] = finish(s[j - j0], grow);
                }
            });
            norms = out;
        }
        return norms;
    }

    /**
     * The p*-norm, rounded up, from s: the computed sum of squares (p* = 2), of absolute values (1) or their
     * maximum (inf); {@code grow} = 1 + gamma covers the rounding of the sum and of its terms.
     */
    private double finish(double s, double grow) {
        if (dual == Double.POSITIVE_INFINITY) {
            return Math.nextUp(s * grow); // the max is exact; its terms may not be (differences)
        }
        double v = Math.nextUp(s * grow);
        return dual == 1 ? v : Outward.sqrtUp(v);
    }

    /** ||1||_{p*} over the generators: what a per-generator absolute error of 1 adds to a norm. */
    public double ones() {
        return dual == 1 ? gens : dual == 2 ? Outward.sqrtUp(gens) : 1;
    }

    /** The box holding every value, rest_j +- radius ||A_j||_{p*} rounded outward; null if not finite. */
    public Box box() {
        double[] nr = norms();
        int n = shape.size();
        double[] lo = new double[n], hi = new double[n];
        for (int j = 0; j < n; j++) {
            double w = Outward.mulUp(radius, nr[j]);
            lo[j] = Outward.addDown(rest.lo()[j], -w);
            hi[j] = Outward.addUp(rest.hi()[j], w);
            if (!(lo[j] <= hi[j]) || Double.isInfinite(lo[j]) || Double.isInfinite(hi[j])) {
                return null;
            }
        }
        return new Box(shape, lo, hi);
    }

    /**
     * A zonotope after an affine layer computed in float: generators {@code out} (the kernel's float
     * result for the input's generators, no bias), {@code rest} the layer's interval image of the input's
     * rest, widened by radius times the kernel's rounding error: {@code absNorms[j]} bounds (|W| N)_j (N the
     * input's {@link #norms}), {@code terms} the products per output. Null when a bound is not finite.
     */
    private Zonotope affine(Shape to, float[] out, Box rest, double[] absNorms, long terms) {
        double g = gammaFloat(terms + 1), under = Outward.mulUp((terms + 1) * Float.MIN_VALUE, ones());
        double[] err = new double[absNorms.length];
        for (int j = 0; j < err.length; j++) {
            err[j] = Outward.addUp(Outward.mulUp(g, absNorms[j]), under);
        }
        return with(to, out, rest, err);
    }

    /**
     * {@link #affine} for an affine layer with interval rule {@code rule} (input shape {@code in}): the rest is
     * the rule's image of this rest, and (|W| N)_j half the width of its image of [-N, N] ({@link #halfWidths}).
     */
    public Zonotope affine(BoundRule rule, Shape in, Shape to, float[] out, long terms) {
        double[] absNorms = halfWidths(rule.over(symmetric(in, norms())).output());
        return affine(to, out, rule.over(rest).output(), absNorms, terms);
    }

    /**
     * A zonotope of shape {@code to} with generators {@code out} and rest {@code rest} widened by radius x
     * err[j] (err: a bound on the p*-norm of generator row j's error); null when a bound is not finite.
     */
    public Zonotope with(Shape to, float[] out, Box rest, double[] err) {
        int n = to.size();
        double[] lo = new double[n], hi = new double[n];
        for (int j = 0; j < n; j++) {
            double w = err[j] == 0 ? 0 : Outward.mulUp(radius, err[j]);
            lo[j] = w == 0 ? rest.lo()[j] : Outward.addDown(rest.lo()[j], -w);
            hi[j] = w == 0 ? rest.hi()[j] : Outward.addUp(rest.hi()[j], w);
            if (!(lo[j] <= hi[j]) || Double.isInfinite(lo[j]) || Double.isInfinite(hi[j])) {
                return null;
            }
        }
        return new Zonotope(to, gens, out, radius, dual, new Box(to, lo, hi));
    }

    /**
     * Upper bounds on (A_i - A_k) . delta over the ball for the pairs (i[t], k[t]), t &lt; count: radius
     * ||A_i - A_k||_{p*}, the differences and norms in double, rounded up. The generators are read row by row
     * (one generator at a time for a block of pairs), blocks in parallel.
     */
    public double[] differencesUp(int[] i, int[] k, int count) {
        int n = shape.size();
        double[] out = new double[count];
        int block = 512;
        // each difference within a relative u of exact, each square 2u more, the sum gamma_gens
        double grow = 1 + Outward.gamma(gens + 4);
        IntStream.range(0, (count + block - 1) / block).parallel().forEach(b -> {
            int t0 = b * block, t1 = Math.min(count, t0 + block);
            double[] s = new double[t1 - t0];
            for (int g = 0, base = 0; g < gens; g++, base += n) {
                for (int t = t0; t < t1; t++) {
                    double d = Math.abs((double) a[base + i[t]] - (double) a[base + k[t]]);
                    s[t - t0] = dual == 2 ? s[t - t0] + d * d : dual == 1 ? s[t - t0] + d : Math.max(s[t - t0], d);
                }
            }
            for (int t = t0; t < t1; t++) {
                out[t] = Outward.mulUp(radius, finish(s[t - t0], grow));
            }
        });
        return out;
    }

    /** gamma_n for float arithmetic, n u / (1 - n u) with u = 2^-24, rounded up. */
    private static double gammaFloat(long n) {
        double nu = n * U_FLOAT;
        if (!(nu < 0.5)) {
            throw new IllegalArgumentException("too many terms for a float rounding-error bound: " + n);
        }
        return Math.nextUp(Math.nextUp(nu) / Math.nextDown(1 - nu));
    }

    /**
     * An upper bound on (|W| v)_j for every output j of an affine rule with interval image {@code image}
     * of the box [-v, v]: half the image's width (the bias shifts both ends alike).
     */
    private static double[] halfWidths(Box image) {
        double[] out = new double[image.size()];
        for (int j = 0; j < out.length; j++) {
            out[j] = Math.nextUp(Math.nextUp(image.hi()[j] - image.lo()[j]) * 0.5);
        }
        return out;
    }

    /** The box [-v, v] of shape {@code shape}. */
    private static Box symmetric(Shape shape, double[] v) {
        double[] lo = new double[v.length];
        for (int j = 0; j < v.length; j++) {
            lo[j] = -v[j];
        }
        return new Box(shape, lo, v.clone());
    }
}
