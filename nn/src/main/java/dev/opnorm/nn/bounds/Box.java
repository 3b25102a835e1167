package dev.opnorm.nn.bounds;

import dev.opnorm.nn.Shape;

/**
 * An interval [lo_j, hi_j] for every value of one example of shape {@code shape} (batch 1): the set of
 * values a layer's input or output can take over a region of network inputs. Arrays are owned by the box.
 */
public record Box(Shape shape, double[] lo, double[] hi) {
    public Box {
        if (shape.n() != 1) {
            throw new IllegalArgumentException("a box holds one example, got shape " + shape);
        }
        if (lo.length != shape.size() || hi.length != shape.size()) {
            throw new IllegalArgumentException("box of shape " + shape + " needs " + shape.size()
                    + " bounds, got lo " + lo.length + " and hi " + hi.length);
        }
        for (int j = 0; j < lo.length; j++) {
            if (!(lo[j] <= hi[j]) || Double.isInfinite(lo[j]) || Double.isInfinite(hi[j])) {
                throw new IllegalArgumentException("box of shape " + shape + ": bad interval [" + lo[j] + ", "
                        + hi[j] + "] at index " + j + " (needs finite lo <= hi)");
            }
        }
    }

    /** The box of one point (zero width). */
    public static Box point(Shape shape, float[] x) {
        double[] v = new double[x.length];
        for (int j = 0; j < v.length; j++) {
            v[j] = x[j];
        }
        return new Box(shape, v, v.clone());
    }

    /**
     * [x - eps, x + eps] intersected with [low, high] per coordinate (pass infinities for no domain): the
     * smallest box holding the l_inf ball, and so every l_p ball (p &gt;= 1) of radius eps, clipped to the
     * input domain. Rounded outward.
     *
     * @throws IllegalArgumentException when eps is negative or not finite, or x lies outside the domain
     */
    public static Box around(Shape shape, float[] x, double eps, double low, double high) {
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("ball radius eps must be finite and >= 0, got " + eps);
        }
        double[] lo = new double[x.length], hi = new double[x.length];
        for (int j = 0; j < x.length; j++) {
            if (!(x[j] >= low && x[j] <= high)) {
                throw new IllegalArgumentException("input value " + x[j] + " at index " + j + " lies outside the domain ["
                        + low + ", " + high + "]");
            }
            lo[j] = Math.max(low, eps == 0 ? x[j] : Outward.addDown(x[j], -eps));
            hi[j] = Math.min(high, eps == 0 ? x[j] : Outward.addUp(x[j], eps));
        }
        return new Box(shape, lo, hi);
    }

    /**
     * This box intersected with {@code other} (the same number of values; this box's shape): both bound the
     * same values, so the intersection does too.
     *
     * @throws IllegalStateException when they do not meet (one of them was not sound)
     */
    public Box intersect(Box other) {
        if (other.size() != size()) {
            throw new IllegalArgumentException("cannot intersect boxes of shapes " + shape + " and " + other.shape);
        }
        double[] l = new double[size()], h = new double[size()];
        for (int j = 0; j < l.length; j++) {
            l[j] = Math.max(lo[j], other.lo[j]);
            h[j] = Math.min(hi[j], other.hi[j]);
            if (!(l[j] <= h[j])) {
                throw new IllegalStateException("boxes of shape " + shape + " do not meet at index " + j + ": ["
                        + lo[j] + ", " + hi[j] + "] and [" + other.lo[j] + ", " + other.hi[j] + "]");
            }
        }
        return new Box(shape, l, h);
    }

    /** Number of values. */
    public int size() {
        return lo.length;
    }

    /** Whether the float vector v lies in the box. */
    public boolean contains(float[] v) {
        for (int j = 0; j < lo.length; j++) {
            if (!(v[j] >= lo[j] && v[j] <= hi[j])) {
                return false;
            }
        }
        return true;
    }
}
