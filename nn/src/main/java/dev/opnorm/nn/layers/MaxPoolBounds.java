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
import dev.opnorm.nn.bounds.Zonotope;

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
            return step(in, null);
        }
        Zonotope z = before.zonotope();
        long[] dom = Zonotope.passes(z, in.size(), in.size(), layer.describe()) ? dominated(in, z) : null;
        if (before.signsFirst() && before.windowed() && before.reluLayers() < before.tightenLayers()) {
            return step(leadersFirst(in, before, dom), dom);
        }
        // tighten the inputs of the windows whose selection the box leaves open: fewer candidates, and
        // a smaller max hi in the relaxation of negative coefficients
        boolean[] open = new boolean[in.size()];
        for (int[] win : openWindows(in.shape(), in.lo(), in.hi(), dom)) {
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
        return step(before.tighten(in, units, m, false), dom); // both ends of each value matter here
    }

    /**
     * The box with the inputs of open windows tightened selection first ({@link Backsub#signsFirst()}): in each
     * window with several candidates, the candidate with the largest midpoint (the likely maximum) gets its
     * lower bound in full; each other candidate's upper row then stops once it falls below that bound
     * (no longer a candidate). Only windows still open get the remaining ends in full, as the plain
     * tightening does. A window closed this way keeps its maximum's interval upper end (its selection is
     * what the relaxation needs).
     */
    private Box leadersFirst(Box in, Backsub before, long[] dom) {
        double[] lo = in.lo().clone(), hi = in.hi().clone();
        int[][] open = openWindows(in.shape(), lo, hi, dom);
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
        int[][] still = openWindows(in.shape(), lo, hi, dom);
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
    private int[][] openWindows(Shape inShape, double[] lo, double[] hi, long[] dom) {
        Selection sel = select(inShape, lo, hi, dom);
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

    /**
     * Per window o, the inputs another input of the window surely exceeds, as bits ky * k + kx of dom[o]:
     * x_k - x_i &gt;= rest_k.lo - rest_i.hi - radius ||A_k - A_i||_{p*} &gt; 0 by the zonotope z of the
     * inputs (boxes that overlap often differ by a sign the zonotope knows); null for windows of more than 64
     * inputs. Computed once per step over the pairs of the box's candidates: the candidates only
     * shrink as the box tightens, and the order does not depend on the box.
     */
    private long[] dominated(Box in, Zonotope z) {
        int k = layer.kernel();
        if (k * k > 64) {
            return null;
        }
        Selection sel = select(in.shape(), in.lo(), in.hi());
        int[] start = sel.start(), cand = sel.cand();
        int nOut = start.length - 1;
        int pairs = 0;
        for (int o = 0; o < nOut; o++) {
            int m = start[o + 1] - start[o];
            pairs += m * (m - 1) / 2;
        }
        int[] pi = new int[pairs], pk = new int[pairs], po = new int[pairs];
        for (int o = 0, q = 0; o < nOut; o++) {
            for (int t = start[o]; t < start[o + 1]; t++) {
                for (int u = t + 1; u < start[o + 1]; u++, q++) {
                    pi[q] = cand[t];
                    pk[q] = cand[u];
                    po[q] = o;
                }
            }
        }
        double[] d = z.differencesUp(pi, pk, pairs);
        double[] rl = z.rest().lo(), rh = z.rest().hi();
        Shape inShape = in.shape(), outShape = layer.outputShape(inShape);
        int h = inShape.h(), w = inShape.w(), oh = outShape.h(), ow = outShape.w();
        long[] dom = new long[nOut];
        for (int q = 0; q < pairs; q++) {
            int i = pi[q], j = pk[q];
            if (Outward.addDown(Outward.addDown(rl[j], -rh[i]), -d[q]) > 0) {
                dom[po[q]] |= 1L << slot(po[q], i, h, w, oh, ow); // x_j - x_i > 0 everywhere
            }
            if (Outward.addDown(Outward.addDown(rl[i], -rh[j]), -d[q]) > 0) {
                dom[po[q]] |= 1L << slot(po[q], j, h, w, oh, ow);
            }
        }
        return dom;
    }

    /** The position ky * k + kx of input {@code at} (an h x w plane) in the window of output o (oh x ow). */
    private int slot(int o, int at, int h, int w, int oh, int ow) {
        int s = layer.stride(), pad = layer.padding();
        int ky = (at / w) % h - ((o / ow) % oh * s - pad), kx = at % w - (o % ow * s - pad);
        return ky * layer.kernel() + kx;
    }

    /**
     * {@link Selection} over the box, without the candidates {@code dom} ({@link #dominated}) marks. The
     * window's upper bound is then the largest hi of the candidates kept (a dropped one lies below some kept
     * one: "surely exceeds" is a strict order).
     */
    private Selection select(Shape inShape, double[] inLo, double[] inHi, long[] dom) {
        Selection sel = select(inShape, inLo, inHi);
        if (dom == null) {
            return sel;
        }
        int[] start = sel.start(), cand = sel.cand();
        int nOut = start.length - 1;
        Shape outShape = layer.outputShape(inShape);
        int h = inShape.h(), w = inShape.w(), oh = outShape.h(), ow = outShape.w();
        int[] ns = new int[nOut + 1], nc = new int[start[nOut]];
        double[] hi = sel.hi().clone();
        int used = 0;
        for (int o = 0; o < nOut; o++) {
            ns[o] = used;
            double mh = Double.NEGATIVE_INFINITY;
            for (int t = start[o]; t < start[o + 1]; t++) {
                if ((dom[o] >>> slot(o, cand[t], h, w, oh, ow) & 1) == 0) {
                    nc[used++] = cand[t];
                    mh = Math.max(mh, inHi[cand[t]]);
                }
            }
            hi[o] = Math.max(mh, sel.lo()[o]); // the kept candidates reach max lo (only rounding could say otherwise)
        }
        ns[nOut] = used;
        return new Selection(sel.lo(), hi, ns, java.util.Arrays.copyOf(nc, used));
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

    /** The step over the box (without the candidates {@code dom} marks, when given: {@link #dominated}). */
    private BoundStep step(Box in, long[] dom) {
        Shape inShape = in.shape(), outShape = layer.outputShape(inShape);
        int ch = inShape.c(), h = inShape.h(), w = inShape.w(), oh = outShape.h(), ow = outShape.w();
        int k = layer.kernel(), s = layer.stride(), pad = layer.padding();
        int nOut = outShape.size();
        Selection sel = select(inShape, in.lo(), in.hi(), dom);
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

            /**
             * Each window's maximum as its candidate k with the largest lower bound plus [0, D]: m - x_k =
             * max(0, max_i (x_i - x_k)) over the other candidates i (the rest cannot be the maximum), each
             * difference at most the smaller of hi_i - lo_k and its zonotope bound (rest_i - rest_k plus
             * radius ||A_i - A_k||_{p*}). A fixed selection is exact: the candidate's row.
             */
            @Override
            public dev.opnorm.nn.bounds.Zonotope forward(dev.opnorm.nn.bounds.Zonotope z) {
                if (!dev.opnorm.nn.bounds.Zonotope.passes(z, nIn, nOut, layer.describe())) {
                    return null;
                }
                double[] rl = z.rest().lo(), rh = z.rest().hi();
                int pairs = 0; // every candidate but its window's best
                for (int o = 0; o < nOut; o++) {
                    pairs += Math.max(0, start[o + 1] - start[o] - 1);
                }
                int[] pi = new int[pairs], pk = new int[pairs], po = new int[pairs];
                int m = 0;
                for (int o = 0; o < nOut; o++) {
                    for (int t = start[o]; t < start[o + 1]; t++) {
                        if (cand[t] != best[o]) {
                            pi[m] = cand[t];
                            pk[m] = best[o];
                            po[m++] = o;
                        }
                    }
                }
                double[] diff = z.differencesUp(pi, pk, m);
                double[] olo = new double[nOut], ohi = new double[nOut], gap = new double[nOut];
                for (int t = 0; t < m; t++) {
                    int i = pi[t], kk = pk[t];
                    double byBox = Outward.addUp(in.hi()[i], -in.lo()[kk]);
                    double byZono = Outward.addUp(Outward.addUp(rh[i], -rl[kk]), diff[t]);
                    gap[po[t]] = Math.max(gap[po[t]], Math.min(byBox, byZono));
                }
                for (int o = 0; o < nOut; o++) {
                    olo[o] = rl[best[o]];
                    ohi[o] = gap[o] == 0 ? rh[best[o]] : Outward.addUp(rh[best[o]], gap[o]);
                }
                float[] a = z.a(), y = new float[z.gens() * nOut];
                java.util.stream.IntStream.range(0, z.gens()).parallel().forEach(g -> {
                    for (int o = 0, q = g * nOut, base = g * nIn; o < nOut; o++, q++) {
                        y[q] = a[base + best[o]];
                    }
                });
                return z.with(outShape, y, new Box(outShape, olo, ohi), new double[nOut]);
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
