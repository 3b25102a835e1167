package dev.opnorm.nn.bounds;

import dev.opnorm.nn.Shape;

/**
 * One linear lower bound target &gt;= a . z + k (as {@link LinearRows}, one row) in terms of the values z
 * of a (c, h, w) tensor, with a zero outside the spatial window [y0, y1] x [x0, x1] (all channels):
 * a row pulled back from one unit through convolutions and poolings stays inside the unit's receptive
 * field, so holding only the window keeps the work per layer proportional to that field instead of the
 * layer's size. Entries are intervals, stored [channel][y - y0][x - x0]; a flat tensor is (f, 1, 1)
 * and its window is all of it.
 */
public record RowWindow(int c, int h, int w, int y0, int y1, int x0, int x1, double[] lo, double[] hi, double k) {
    public RowWindow {
        if (c <= 0 || h <= 0 || w <= 0 || y0 < 0 || y1 >= h || y0 > y1 || x0 < 0 || x1 >= w || x0 > x1) {
            throw new IllegalArgumentException("row window [" + y0 + ", " + y1 + "] x [" + x0 + ", " + x1
                    + "] does not fit a (" + c + ", " + h + ", " + w + ") tensor");
        }
        int size = c * (y1 - y0 + 1) * (x1 - x0 + 1);
        if (lo.length != size || hi.length != size) {
            throw new IllegalArgumentException("row window of " + size + " entries with arrays of length " + lo.length
                    + " and " + hi.length);
        }
    }

    /** The row s e_j (s = +1 or -1) over one example of {@code shape}: target s z_j, window the unit itself. */
    public static RowWindow unit(Shape shape, int j, double s) {
        int plane = shape.h() * shape.w(), ch = j / plane, y = (j % plane) / shape.w(), x = j % shape.w();
        double[] v = new double[shape.c()];
        v[ch] = s;
        return new RowWindow(shape.c(), shape.h(), shape.w(), y, y, x, x, v, v.clone(), 0);
    }

    /** A row over all of one example of {@code shape} (window = everything), arrays in NCHW order. */
    public static RowWindow full(Shape shape, double[] lo, double[] hi, double k) {
        return new RowWindow(shape.c(), shape.h(), shape.w(), 0, shape.h() - 1, 0, shape.w() - 1, lo, hi, k);
    }

    /** Window height. */
    public int wh() {
        return y1 - y0 + 1;
    }

    /** Window width. */
    public int ww() {
        return x1 - x0 + 1;
    }

    /** Stored entries. */
    public int size() {
        return lo.length;
    }

    /** Whether the window covers the whole tensor. */
    public boolean isFull() {
        return y0 == 0 && x0 == 0 && y1 == h - 1 && x1 == w - 1;
    }

    /** Flat index in the whole (c, h, w) tensor of window entry (ch, y, x) (absolute y, x). */
    public int global(int ch, int y, int x) {
        return (ch * h + y) * w + x;
    }

    /** The same bound as a dense {@link LinearRows} of one row over all c h w values. */
    public LinearRows toLinearRows() {
        int n = c * h * w;
        double[] l = new double[n], u = new double[n];
        for (int ch = 0, q = 0; ch < c; ch++) {
            for (int y = y0; y <= y1; y++) {
                for (int x = x0; x <= x1; x++, q++) {
                    int g = global(ch, y, x);
                    l[g] = lo[q];
                    u[g] = hi[q];
                }
            }
        }
        return new LinearRows(new IntervalRows(1, n, l, u), new double[]{k});
    }

    /** Row {@code i} of dense linear bounds over one example of {@code shape}, as a full window. */
    public static RowWindow ofRow(LinearRows f, int i, Shape shape) {
        int n = f.coef().cols();
        if (n != shape.c() * shape.h() * shape.w()) {
            throw new IllegalArgumentException("linear bounds with " + n + " columns for shape " + shape);
        }
        double[] l = new double[n], u = new double[n];
        System.arraycopy(f.coef().lo(), i * n, l, 0, n);
        System.arraycopy(f.coef().hi(), i * n, u, 0, n);
        return full(shape, l, u, f.c()[i]);
    }

    /**
     * A lower bound of a . z + k over every z in the box (its values of one example in NCHW order): each
     * product's minimum rounded down, the sum rounded down.
     */
    public double lowerOver(Box box) {
        if (box.size() != c * h * w) {
            throw new IllegalArgumentException("row window over " + c * h * w + " values, box of shape " + box.shape());
        }
        double s = k;
        for (int ch = 0, q = 0; ch < c; ch++) {
            for (int y = y0; y <= y1; y++) {
                for (int x = x0, g = global(ch, y, x0); x <= x1; x++, q++, g++) {
                    double al = lo[q], ah = hi[q];
                    if (al != 0 || ah != 0) {
                        s = Intervals.sumDown(s, Outward.mulLo(al, ah, box.lo()[g], box.hi()[g]));
                    }
                }
            }
        }
        return s;
    }
}
