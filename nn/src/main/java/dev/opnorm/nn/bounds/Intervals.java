package dev.opnorm.nn.bounds;

import dev.opnorm.nn.Shape;

/** Interval operations the layer rules share, every result rounded outward ({@link Outward}). */
public final class Intervals {
    private Intervals() {
    }

    /** Centres c and radii r with [lo, hi] inside [c - r, c + r] (the form in which linear maps are applied). */
    public static void split(double[] lo, double[] hi, double[] c, double[] r) {
        for (int j = 0; j < lo.length; j++) {
            c[j] = Outward.centre(lo[j], hi[j]);
            r[j] = Outward.radius(lo[j], hi[j], c[j]);
        }
    }

    /** The elementwise sum of two boxes of the same size, as a box of {@code shape}. */
    public static Box add(Box a, Box b, Shape shape) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("cannot add boxes of shapes " + a.shape() + " and " + b.shape());
        }
        double[] lo = new double[a.size()], hi = new double[a.size()];
        for (int j = 0; j < lo.length; j++) {
            lo[j] = Outward.addDown(a.lo()[j], b.lo()[j]);
            hi[j] = Outward.addUp(a.hi()[j], b.hi()[j]);
        }
        return new Box(shape, lo, hi);
    }

    /** The elementwise sum of two interval matrices of the same size. */
    public static IntervalRows add(IntervalRows a, IntervalRows b) {
        if (a.rows() != b.rows() || a.cols() != b.cols()) {
            throw new IllegalArgumentException("cannot add interval matrices " + a.rows() + " x " + a.cols() + " and "
                    + b.rows() + " x " + b.cols());
        }
        double[] lo = new double[a.lo().length], hi = new double[lo.length];
        for (int j = 0; j < lo.length; j++) {
            lo[j] = sumDown(a.lo()[j], b.lo()[j]);
            hi[j] = sumUp(a.hi()[j], b.hi()[j]);
        }
        return new IntervalRows(a.rows(), a.cols(), lo, hi);
    }

    /** A lower bound of a + b, exact (no widening) when either is 0. */
    public static double sumDown(double a, double b) {
        return a == 0 ? b : b == 0 ? a : Outward.addDown(a, b);
    }

    /** An upper bound of a + b, exact when either is 0. */
    public static double sumUp(double a, double b) {
        return a == 0 ? b : b == 0 ? a : Outward.addUp(a, b);
    }

    /** Checks that a pullback's rows have one column per output value of the layer {@code who}. */
    public static void checkCols(IntervalRows g, int cols, String who) {
        if (g.cols() != cols) {
            throw new IllegalArgumentException(who + ": derivative rows have " + g.cols() + " columns, the layer has "
                    + cols + " outputs");
        }
    }

    /** Checks that a box has the shape {@code expected} (batch 1) for the layer {@code who}. */
    public static void checkShape(Box in, Shape expected, String who) {
        if (!in.shape().equals(expected)) {
            throw new IllegalArgumentException(who + ": box of shape " + in.shape() + " where " + expected + " fits");
        }
    }
}
