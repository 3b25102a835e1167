package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.bounds.Backsub;
import dev.opnorm.nn.bounds.BoundRule;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.bounds.IntervalRows;
import dev.opnorm.nn.bounds.Intervals;
import dev.opnorm.nn.bounds.LinearRows;
import dev.opnorm.nn.bounds.Outward;
import dev.opnorm.nn.bounds.RowBatch;
import dev.opnorm.nn.bounds.RowWindow;

/**
 * Interval rule of {@link MaxPool2d}: a window's maximum lies in [max lo, max hi] (exact). Its
 * derivative selects one input of the window; over the box that can be any input j whose hi_j reaches
 * the largest lo of the window (ties included, whatever the tie rule). With one such candidate the
 * selection is fixed ({1} on it); with several, each candidate's derivative is taken in [0, 1] (the
 * hull of the one-hot choices). Padding counts as -infinity and is never chosen.
 *
 * <p>Linear relaxation: a fixed selection is exact (m = x_j). Otherwise, for a coefficient a &gt;= 0,
 * m &gt;= x_j for the candidate with the largest lower bound; for a &lt;= 0, m &lt;= max hi, a constant;
 * an interval coefficient straddling 0 takes the constant min of a m over the box. With a back-substitution
 * context, the inputs of every window with several candidates are first tightened (+-e_j pulled back),
 * but for inputs that are already points (ties of ReLUs that are off, exactly 0, are common).
 */
final class MaxPoolBounds implements BoundRule {
    private final MaxPool2d layer;

    MaxPoolBounds(MaxPool2d layer) {
        this.layer = layer;
    }

    @Override
    public BoundStep over(Box in, Backsub before) {
        if (before == Backsub.NONE) {
            return step(in);
        }
        if (before.signsFirst() && before.windowed() && before.reluLayers() < before.tightenLayers()) {
            return step(leadersFirst(in, before));
        }
        // tighten the inputs of the windows whose selection the box leaves open: fewer candidates, and
        // a smaller max hi in the relaxation of negative coefficients
        boolean[] open = new boolean[in.size()];
        for (int[] win : openWindows(in.shape(), in.lo(), in.hi())) {
            for (int j : win) {
                open[j] = true;
            }
        }
        int[] units = new int[in.size()];
        int m = 0;
        for (int j = 0; j < open.length; j++) {
            if (open[j] && in.lo()[j] < in.hi()[j]) { // a point (a ReLU that is off: exactly 0) cannot narrow
                units[m++] = j;
            }
        }
        return step(before.tighten(in, units, m, false)); // both ends of each value matter here
    }

    /**
     * The box with the inputs of open windows tightened selection first ({@link Backsub#signsFirst()}): in each
     * window with several candidates, the candidate with the largest midpoint (the likely maximum) gets its
     * lower bound in full; each other candidate's upper row then stops once it falls below that bound
     * (no longer a candidate). Only windows still open get the remaining ends in full, as the plain
     * tightening does. A window closed this way keeps its maximum's interval upper end (its selection is
     * what the relaxation needs).
     */
    private Box leadersFirst(Box in, Backsub before) {
        double[] lo = in.lo().clone(), hi = in.hi().clone();
        int[][] open = openWindows(in.shape(), lo, hi);
        int n = open.length;
        int[] lead = new int[n];
        int[] units = new int[in.size()];
        double[] signs = new double[in.size()];
        boolean[] taken = new boolean[in.size()];
        int m = 0;
        for (int o = 0; o < n; o++) {
            int best = open[o][0];
            for (int j : open[o]) {
                if (lo[j] + hi[j] > lo[best] + hi[best]) { // finite: candidates of a window with a finite max lo
                    best = j;
                }
            }
            lead[o] = best;
            if (lo[best] < hi[best] && !taken[best]) {
                taken[best] = true;
                units[m] = best;
                signs[m++] = 1;
            }
        }
        double[] l = before.lowerUnits(in, units, signs, null, m, before.maxRowSize());
        for (int t = 0; t < m; t++) {
            lo[units[t]] = Math.max(lo[units[t]], l[t]);
        }
        // the other candidates' upper ends, each stopping once below its leader's lower end (hi < max lo);
        // an input of two windows (overlapping pools) goes back in full
        int[] windows = new int[in.size()];
        for (int o = 0; o < n; o++) {
            windows[lead[o]]++;
        }
        m = 0;
        java.util.Arrays.fill(taken, false);
        double[] stop = new double[in.size()];
        for (int o = 0; o < n; o++) {
            for (int j : open[o]) {
                if (j != lead[o] && lo[j] < hi[j] && hi[j] >= lo[lead[o]]) {
                    windows[j]++;
                    if (!taken[j]) {
                        taken[j] = true;
                        units[m] = j;
                        signs[m] = -1;
                        stop[m++] = Math.nextUp(-lo[lead[o]]); // -z_j >= l > -lo_lead: z_j < lo_lead
                    }
                }
            }
        }
        for (int t = 0; t < m; t++) {
            if (windows[units[t]] > 1) {
                stop[t] = Double.POSITIVE_INFINITY;
            }
        }
        l = before.lowerUnits(in, units, signs, stop, m, before.maxRowSize());
        for (int t = 0; t < m; t++) {
            hi[units[t]] = Math.min(hi[units[t]], -l[t]);
        }
        // windows still open: the ends not bounded yet, in full
        int[][] still = openWindows(in.shape(), lo, hi);
        boolean[] lower = new boolean[in.size()], upper = new boolean[in.size()];
        for (int t = 0; t < m; t++) {
            upper[units[t]] = true;
        }
        for (int o = 0; o < n; o++) {
            lower[lead[o]] = true;
        }
        m = 0;
        int[] rows = new int[2 * in.size()];
        double[] rowSigns = new double[rows.length];
        for (int[] win : still) {
            for (int j : win) {
                if (lo[j] < hi[j]) {
                    if (!lower[j]) {
                        lower[j] = true;
                        rows[m] = j;
                        rowSigns[m++] = 1;
                    }
                    if (!upper[j]) {
                        upper[j] = true;
                        rows[m] = j;
                        rowSigns[m++] = -1;
                    }
                }
            }
        }
        l = before.lowerUnits(in, rows, rowSigns, null, m, before.maxRowSize());
        for (int t = 0; t < m; t++) {
            int j = rows[t];
            if (rowSigns[t] > 0) {
                lo[j] = Math.max(lo[j], l[t]);
            } else {
                hi[j] = Math.min(hi[j], -l[t]);
            }
        }
        return new Box(in.shape(), lo, hi);
    }

    /** The candidates of each window with several (its selection open). */
    private int[][] openWindows(Shape inShape, double[] lo, double[] hi) {
        Selection sel = select(inShape, lo, hi);
        java.util.List<int[]> open = new java.util.ArrayList<>();
        for (int o = 0; o + 1 < sel.start().length; o++) {
            if (sel.start()[o + 1] - sel.start()[o] > 1) {
                open.add(java.util.Arrays.copyOfRange(sel.cand(), sel.start()[o], sel.start()[o + 1]));
            }
        }
        return open.toArray(new int[0][]);
    }

    /**
     * Each window's maximum bounds [max lo, max hi] and candidates: the inputs whose hi reaches the window's
     * largest lo, cand[start[o] .. start[o + 1]) for output o.
     */
    private record Selection(double[] lo, double[] hi, int[] start, int[] cand) {
    }

    private Selection select(Shape inShape, double[] inLo, double[] inHi) {
        Shape outShape = layer.outputShape(inShape);
        int ch = inShape.c(), h = inShape.h(), w = inShape.w(), oh = outShape.h(), ow = outShape.w();
        int k = layer.kernel(), s = layer.stride(), pad = layer.padding();
        int nOut = outShape.size();
        double[] lo = new double[nOut], hi = new double[nOut];
        int[] start = new int[nOut + 1];
        int[] cand = new int[nOut * k * k];
        int used = 0;
        for (int c = 0, o = 0; c < ch; c++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++, o++) {
                    double ml = Double.NEGATIVE_INFINITY, mh = Double.NEGATIVE_INFINITY;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * s - pad + ky;
                        for (int kx = 0; kx < k && iy >= 0 && iy < h; kx++) {
                            int ix = ox * s - pad + kx;
                            if (ix >= 0 && ix < w) {
                                int at = (c * h + iy) * w + ix;
                                ml = Math.max(ml, inLo[at]);
                                mh = Math.max(mh, inHi[at]);
                            }
                        }
                    }
                    lo[o] = ml;
                    hi[o] = mh;
                    start[o] = used;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * s - pad + ky;
                        for (int kx = 0; kx < k && iy >= 0 && iy < h; kx++) {
                            int ix = ox * s - pad + kx;
                            if (ix >= 0 && ix < w) {
                                int at = (c * h + iy) * w + ix;
                                if (inHi[at] >= ml) {
                                    cand[used++] = at;
                                }
                            }
                        }
                    }
                }
            }
        }
        start[nOut] = used;
        return new Selection(lo, hi, start, cand);
    }

    /** The step over the box. */
    private BoundStep step(Box in) {
        Shape inShape = in.shape(), outShape = layer.outputShape(inShape);
        int ch = inShape.c(), h = inShape.h(), w = inShape.w(), oh = outShape.h(), ow = outShape.w();
        int k = layer.kernel(), s = layer.stride(), pad = layer.padding();
        int nOut = outShape.size();
        Selection sel = select(inShape, in.lo(), in.hi());
        double[] lo = sel.lo(), hi = sel.hi();
        int[] start = sel.start(), cand = sel.cand();
        int[] best = new int[nOut]; // the candidate with the largest lower bound (the lower line)
        for (int o = 0; o < nOut; o++) {
            best[o] = cand[start[o]];
            for (int t = start[o] + 1; t < start[o + 1]; t++) {
                if (in.lo()[cand[t]] > in.lo()[best[o]]) {
                    best[o] = cand[t];
                }
            }
        }
        Box out = new Box(outShape, lo, hi);
        int nIn = inShape.size();
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
            }

            @Override
            public LinearRows pullLower(LinearRows f) {
                IntervalRows g = f.coef();
                Intervals.checkCols(g, nOut, layer.describe());
                double[] glo = new double[g.rows() * nIn], ghi = new double[glo.length];
                double[] c = f.c().clone();
                for (int row = 0; row < g.rows(); row++) {
                    double cr = c[row];
                    for (int o = 0; o < nOut; o++) {
                        double l = g.lo()[row * nOut + o], u = g.hi()[row * nOut + o];
                        if (l == 0 && u == 0) {
                            continue;
                        }
                        if (start[o + 1] - start[o] == 1 || l >= 0) {
                            int q = row * nIn + best[o]; // the fixed selection, or the lower line m >= x_best
                            glo[q] = Intervals.sumDown(glo[q], l);
                            ghi[q] = Intervals.sumUp(ghi[q], u);
                        } else {
                            double mLo = u <= 0 ? hi[o] : lo[o];
                            cr = Intervals.sumDown(cr, Outward.mulLo(l, u, mLo, hi[o]));
                        }
                    }
                    c[row] = cr;
                }
                return new LinearRows(new IntervalRows(g.rows(), nIn, glo, ghi), c);
            }

            @Override
            public RowWindow pullLowerWindow(RowWindow f) {
                if (f.c() != ch || f.h() != oh || f.w() != ow) {
                    throw new IllegalArgumentException(layer.describe() + ": row window over (" + f.c() + ", " + f.h()
                            + ", " + f.w() + ") where the output is " + outShape);
                }
                int iy0 = Math.max(0, f.y0() * s - pad), iy1 = Math.min(h - 1, f.y1() * s - pad + k - 1);
                int ix0 = Math.max(0, f.x0() * s - pad), ix1 = Math.min(w - 1, f.x1() * s - pad + k - 1);
                int nh = iy1 - iy0 + 1, nw = ix1 - ix0 + 1;
                double[] glo = new double[ch * nh * nw], ghi = new double[glo.length];
                double cr = f.k();
                for (int c = 0, q = 0; c < ch; c++) {
                    for (int oy = f.y0(); oy <= f.y1(); oy++) {
                        for (int ox = f.x0(), o = f.global(c, oy, ox); ox <= f.x1(); ox++, o++, q++) {
                            double l = f.lo()[q], u = f.hi()[q];
                            if (l == 0 && u == 0) {
                                continue;
                            }
                            if (start[o + 1] - start[o] == 1 || l >= 0) {
                                int at = best[o], iy = (at / w) % h, ix = at % w; // best[o] is in channel c
                                int t = (c * nh + iy - iy0) * nw + ix - ix0;
                                glo[t] = Intervals.sumDown(glo[t], l);
                                ghi[t] = Intervals.sumUp(ghi[t], u);
                            } else {
                                double mLo = u <= 0 ? hi[o] : lo[o];
                                cr = Intervals.sumDown(cr, Outward.mulLo(l, u, mLo, hi[o]));
                            }
                        }
                    }
                }
                return new RowWindow(ch, h, w, iy0, iy1, ix0, ix1, glo, ghi, cr);
            }

            @Override
            public RowBatch pullLowerBatch(RowBatch f) {
                if (f.c() != ch || f.h() != oh || f.w() != ow) {
                    throw new IllegalArgumentException(layer.describe() + ": row batch over (" + f.c() + ", " + f.h()
                            + ", " + f.w() + ") where the output is " + outShape);
                }
                int rows = f.rows();
                int iy0 = Math.max(0, f.y0() * s - pad), iy1 = Math.min(h - 1, f.y1() * s - pad + k - 1);
                int ix0 = Math.max(0, f.x0() * s - pad), ix1 = Math.min(w - 1, f.x1() * s - pad + k - 1);
                int nh = iy1 - iy0 + 1, nw = ix1 - ix0 + 1;
                double[] glo = new double[ch * nh * nw * rows], ghi = new double[glo.length];
                double[] kr = f.k().clone();
                for (int c = 0, q = 0; c < ch; c++) {
                    for (int oy = f.y0(); oy <= f.y1(); oy++) {
                        for (int ox = f.x0(), o = f.global(c, oy, ox); ox <= f.x1(); ox++, o++) {
                            int at = best[o], iy = (at / w) % h, ix = at % w;
                            int t = ((c * nh + iy - iy0) * nw + ix - ix0) * rows;
                            boolean fixed = start[o + 1] - start[o] == 1;
                            for (int r = 0; r < rows; r++, q++) {
                                double l = f.lo()[q], u = f.hi()[q];
                                if (l == 0 && u == 0) {
                                    continue;
                                }
                                if (fixed || l >= 0) {
                                    glo[t + r] = Intervals.sumDown(glo[t + r], l);
                                    ghi[t + r] = Intervals.sumUp(ghi[t + r], u);
                                } else {
                                    double mLo = u <= 0 ? hi[o] : lo[o];
                                    kr[r] = Intervals.sumDown(kr[r], Outward.mulLo(l, u, mLo, hi[o]));
                                }
                            }
                        }
                    }
                }
                return new RowBatch(rows, ch, h, w, iy0, iy1, ix0, ix1, glo, ghi, kr);
            }

            @Override
            public IntervalRows pullback(IntervalRows g) {
                Intervals.checkCols(g, nOut, layer.describe());
                double[] glo = new double[g.rows() * nIn], ghi = new double[glo.length];
                for (int row = 0; row < g.rows(); row++) {
                    for (int o = 0; o < nOut; o++) {
                        double l = g.lo()[row * nOut + o], u = g.hi()[row * nOut + o];
                        if (l == 0 && u == 0) {
                            continue;
                        }
                        boolean fixed = start[o + 1] - start[o] == 1;
                        double cl = fixed ? l : Math.min(l, 0), cu = fixed ? u : Math.max(u, 0);
                        for (int t = start[o]; t < start[o + 1]; t++) {
                            int q = row * nIn + cand[t];
                            glo[q] = Intervals.sumDown(glo[q], cl);
                            ghi[q] = Intervals.sumUp(ghi[q], cu);
                        }
                    }
                }
                return new IntervalRows(g.rows(), nIn, glo, ghi);
            }
        };
    }
}
