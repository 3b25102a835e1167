package dev.opnorm.nn.bounds;

/**
 * Several {@link RowWindow}s on one window of a (c, h, w) tensor: the rows of the units at one spatial
 * position (every channel, +e_j and -e_j) reach the same positions of every layer below, so they are
 * pulled back together. Entry q of row r is [lo, hi][q * rows + r] (rows innermost, so that one weight
 * tap updates all rows in one contiguous, vectorizable loop); q runs over the window as in
 * {@link RowWindow}. Each row's arithmetic is the same as its {@link RowWindow}'s, in the same order, so
 * the bounds are the same bit for bit.
 */
public record RowBatch(int rows, int c, int h, int w, int y0, int y1, int x0, int x1, double[] lo, double[] hi,
                       double[] k) {
    public RowBatch {
        if (rows <= 0 || c <= 0 || h <= 0 || w <= 0 || y0 < 0 || y1 >= h || y0 > y1 || x0 < 0 || x1 >= w || x0 > x1) {
            throw new IllegalArgumentException("row batch of " + rows + " rows on window [" + y0 + ", " + y1 + "] x ["
                    + x0 + ", " + x1 + "] does not fit a (" + c + ", " + h + ", " + w + ") tensor");
        }
        long size = (long) c * (y1 - y0 + 1) * (x1 - x0 + 1) * rows;
        if (lo.length != size || hi.length != size || k.length != rows) {
            throw new IllegalArgumentException("row batch of " + rows + " rows x " + size / rows
                    + " entries with arrays of length " + lo.length + ", " + hi.length + " and " + k.length + " constants");
        }
    }

    /** The rows s_t e_{units[t]} (t &lt; count), all units at the same spatial position of a (c, h, w) tensor. */
    public static RowBatch units(int c, int h, int w, int[] units, double[] signs, int count) {
        int plane = h * w, y = (units[0] % plane) / w, x = units[0] % w;
        double[] v = new double[c * count];
        for (int t = 0; t < count; t++) {
            int j = units[t];
            if ((j % plane) / w != y || j % w != x) {
                throw new IllegalArgumentException("batched units " + units[0] + " and " + j
                        + " lie at different positions");
            }
            v[(j / plane) * count + t] = signs[t];
        }
        return new RowBatch(count, c, h, w, y, y, x, x, v, v.clone(), new double[count]);
    }

    /** Window height. */
    public int wh() {
        return y1 - y0 + 1;
    }

    /** Window width. */
    public int ww() {
        return x1 - x0 + 1;
    }

    /** Entries of one row's window. */
    public int size() {
        return lo.length / rows;
    }

    /** Flat index in the whole (c, h, w) tensor of window entry (ch, y, x) (absolute y, x). */
    public int global(int ch, int y, int x) {
        return (ch * h + y) * w + x;
    }

    /** Row r as a {@link RowWindow} (copied). */
    public RowWindow row(int r) {
        int n = size();
        double[] l = new double[n], u = new double[n];
        for (int q = 0, at = r; q < n; q++, at += rows) {
            l[q] = lo[at];
            u[q] = hi[at];
        }
        return new RowWindow(c, h, w, y0, y1, x0, x1, l, u, k[r]);
    }

    /**
     * Each row's {@link RowWindow#lowerOver}: a lower bound of a . z + k over every z in the box, each
     * product's minimum rounded down, the sum rounded down (the same sums in the same order).
     */
    public double[] lowerOver(Box box) {
        if (box.size() != c * h * w) {
            throw new IllegalArgumentException("row batch over " + c * h * w + " values, box of shape " + box.shape());
        }
        double[] s = k.clone();
        for (int ch = 0, q = 0; ch < c; ch++) {
            for (int y = y0; y <= y1; y++) {
                for (int x = x0, g = global(ch, y, x0); x <= x1; x++, q++, g++) {
                    double bl = box.lo()[g], bh = box.hi()[g];
                    for (int r = 0, at = q * rows; r < rows; r++, at++) {
                        double al = lo[at], ah = hi[at];
                        if (al != 0 || ah != 0) {
                            s[r] = Intervals.sumDown(s[r], Outward.mulLo(al, ah, bl, bh));
                        }
                    }
                }
            }
        }
        return s;
    }

    /** The rows keep[0..count), in that order, on the same window (copied). */
    public RowBatch select(int[] keep, int count) {
        int n = size();
        double[] l = new double[n * count], u = new double[n * count], kk = new double[count];
        for (int t = 0; t < count; t++) {
            kk[t] = k[keep[t]];
        }
        for (int q = 0; q < n; q++) {
            for (int t = 0; t < count; t++) {
                l[q * count + t] = lo[q * rows + keep[t]];
                u[q * count + t] = hi[q * rows + keep[t]];
            }
        }
        return new RowBatch(count, c, h, w, y0, y1, x0, x1, l, u, kk);
    }
}
