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

import java.util.Arrays;

/**
 * Interval rule of {@link Conv2d}: the convolution applied to a box in centre-radius form (out in
 * conv(c, W) + b +- conv(r, |W|)); rows pull back through the transposed convolution (centre with W,
 * radius with |W|). Loops in double, one pass over the output plane per weight tap; every output is
 * widened by {@link Outward#closeSum} for the taps that can reach it.
 */
final class Conv2dBounds implements BoundRule {
    private final Conv2d layer;

    Conv2dBounds(Conv2d layer) {
        this.layer = layer;
    }

    @Override
    public BoundStep over(Box in, Backsub before) {
        Shape inShape = in.shape();
        Shape outShape = layer.outputShape(inShape);
        int ic = layer.inChannels(), oc = layer.outChannels(), kh = layer.kernelHeight(), kw = layer.kernelWidth();
        int s = layer.stride(), pad = layer.padding();
        int h = inShape.h(), wd = inShape.w(), oh = outShape.h(), ow = outShape.w();
        float[] w = layer.weight().value;
        float[] b = layer.bias() == null ? null : layer.bias().value;
        double[] c = new double[in.size()], r = new double[in.size()];
        Intervals.split(in.lo(), in.hi(), c, r);
        int nIn = inShape.size(), nOut = outShape.size();
        double[] ca = new double[nIn];
        for (int j = 0; j < nIn; j++) {
            ca[j] = Math.abs(c[j]) + r[j];
        }
        double[] sc = new double[nOut], sr = new double[nOut], sa = new double[nOut];
        for (int o = 0; o < oc; o++) {
            double bias = b == null ? 0 : b[o];
            Arrays.fill(sc, o * oh * ow, (o + 1) * oh * ow, bias);
            Arrays.fill(sa, o * oh * ow, (o + 1) * oh * ow, Math.abs(bias));
        }
        // weight-outer loops: each tap is one pass over the output plane, the inner loop contiguous in x
        // (stride 1) so the JIT can vectorize it
        for (int o = 0; o < oc; o++) {
            for (int i = 0; i < ic; i++) {
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx++) {
                        double wk = w[((o * ic + i) * kh + ky) * kw + kx], aw = Math.abs(wk);
                        if (wk == 0) {
                            continue;
                        }
                        int ox0 = firstInside(kx, s, pad), ox1 = lastInside(kx, s, pad, wd, ow);
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * s - pad + ky;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            int qBase = (o * oh + oy) * ow, aBase = (i * h + iy) * wd - pad + kx;
                            if (s == 1) {
                                axpy(sc, qBase, c, aBase, wk, ox0, ox1);
                                axpy(sr, qBase, r, aBase, aw, ox0, ox1);
                                axpy(sa, qBase, ca, aBase, aw, ox0, ox1);
                                continue;
                            }
                            for (int ox = ox0; ox <= ox1; ox++) {
                                int q = qBase + ox, at = aBase + ox * s;
                                sc[q] += wk * c[at];
                                sr[q] += aw * r[at];
                                sa[q] += aw * ca[at];
                            }
                        }
                    }
                }
            }
        }
        double[] lo = new double[nOut], hi = new double[nOut];
        long taps = (long) ic * kh * kw + 1;
        for (int q = 0; q < nOut; q++) {
            Outward.closeSum(sc[q], sr[q], sa[q], taps, lo, hi, q);
        }
        Box out = new Box(outShape, lo, hi);
        // W as (tap, o, i) in double, and |W|: input channels innermost for the batched row pullback
        double[] wt = new double[w.length], wa = new double[w.length];
        for (int o = 0; o < oc; o++) {
            for (int i = 0; i < ic; i++) {
                for (int tap = 0; tap < kh * kw; tap++) {
                    double v = w[(o * ic + i) * kh * kw + tap];
                    wt[(tap * oc + o) * ic + i] = v;
                    wa[(tap * oc + o) * ic + i] = Math.abs(v);
                }
            }
        }
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
            }

            /** The generators through the layer's float kernel (no bias), the rest through the interval rule. */
            @Override
            public dev.opnorm.nn.bounds.Zonotope forward(dev.opnorm.nn.bounds.Zonotope z) {
                if (!dev.opnorm.nn.bounds.Zonotope.passes(z, nIn, nOut, layer.describe())) {
                    return null;
                }
                int g = z.gens();
                float[] y = new float[g * nOut];
                layer.kernels.conv2dForward(y, z.a(), w, null,
                        new dev.opnorm.nn.kernels.Conv2dDims(g, ic, h, wd, oc, kh, kw, s, pad));
                return z.affine(Conv2dBounds.this, inShape, outShape, y, (long) ic * kh * kw);
            }

            private Box offset; // the layer's output at input 0, the offset of the affine map

            @Override
            public LinearRows pullLower(LinearRows f) {
                if (offset == null) {
                    offset = over(new Box(in.shape(), new double[in.size()], new double[in.size()])).output();
                }
                return LinearRows.affine(pullback(f.coef()), f, offset);
            }

            @Override
            public RowWindow pullLowerWindow(RowWindow f) {
                // one row is a batch of one: the same sums in the same order
                return pullLowerBatch(new RowBatch(1, f.c(), f.h(), f.w(), f.y0(), f.y1(), f.x0(), f.x1(), f.lo(),
                        f.hi(), new double[]{f.k()})).row(0);
            }

            /**
             * {@link #pullLowerWindow} for every row of the batch at once, each row's sums in the same order
             * whatever the batch (window position, tap, output channel). Computed with input channels
             * innermost: for each row entry, one contiguous, vectorizable pass over a weight row, and
             * entries that are exactly zero (units a ReLU switched off) skipped; a row's bias term is
             * summed over output channels, then window positions.
             */
            @Override
            public RowBatch pullLowerBatch(RowBatch f) {
                if (f.c() != oc || f.h() != oh || f.w() != ow) {
                    throw new IllegalArgumentException(layer.describe() + ": row batch over (" + f.c() + ", " + f.h()
                            + ", " + f.w() + ") where the output is " + outShape);
                }
                int rows = f.rows();
                int wy0 = f.y0(), wy1 = f.y1(), wx0 = f.x0(), wx1 = f.x1(), fw = f.ww(), fp = f.wh() * fw;
                int iy0 = Math.max(0, wy0 * s - pad), iy1 = Math.min(h - 1, wy1 * s - pad + kh - 1);
                int ix0 = Math.max(0, wx0 * s - pad), ix1 = Math.min(wd - 1, wx1 * s - pad + kw - 1);
                if (iy0 > iy1 || ix0 > ix1) {
                    iy0 = iy1 = ix0 = ix1 = 0;
                }
                int nh = iy1 - iy0 + 1, nw = ix1 - ix0 + 1, plane = nh * nw;
                // two sums per entry: the centre with W, and with |W| each row entry's radius plus a bound on
                // the rounding its centre term can contribute (gamma_n |centre|, Higham), so the centre's
                // rounding needs no separate absolute sum. (Bounding radii by the row's largest entry instead
                // widens every entry by the whole window's magnitude at every layer, which compounds with
                // depth into bounds far looser than interval ones.)
                long terms = (long) oc * kh * kw;
                double gam = Outward.gamma(terms);
                double[] gc = new double[fp * rows * oc], gh = new double[gc.length]; // (position, row, o)
                double[] k = f.k().clone();
                for (int o = 0, q = 0; o < oc; o++) {
                    double bias = b == null ? 0 : b[o];
                    for (int t = 0; t < fp; t++) {
                        for (int r = 0; r < rows; r++, q++) {
                            double l = f.lo()[q], u = f.hi()[q];
                            if (l == 0 && u == 0) {
                                continue;
                            }
                            int g = (t * rows + r) * oc + o;
                            gc[g] = Outward.centre(l, u);
                            gh[g] = Outward.addUp(Outward.radius(l, u, gc[g]), Outward.mulUp(gam, Math.abs(gc[g])));
                            if (bias != 0) {
                                k[r] = Intervals.sumDown(k[r], Outward.mulLo(l, u, bias, bias));
                            }
                        }
                    }
                }
                // each (position, row)'s nonzero output channels, in order: the inner loop takes four at a time
                // (one load and store of the sums per four weight rows; the same additions in the same order)
                int[] nzAt = new int[fp * rows + 1], nzO = new int[gc.length];
                double[] nzC = new double[gc.length], nzE = new double[gc.length];
                for (int tr = 0, z = 0; tr < fp * rows; tr++) {
                    nzAt[tr] = z;
                    for (int o = 0, g = tr * oc; o < oc; o++, g++) {
                        if (gc[g] != 0 || gh[g] != 0) {
                            nzO[z] = o;
                            nzC[z] = gc[g];
                            nzE[z++] = gh[g];
                        }
                    }
                    nzAt[tr + 1] = z;
                }
                double[] sc = new double[plane * rows * ic], sh = new double[sc.length]; // (position, row, i)
                for (int oy = wy0, t = 0; oy <= wy1; oy++) {
                    for (int ox = wx0; ox <= wx1; ox++, t++) {
                        for (int ky = 0; ky < kh; ky++) {
                            int iy = oy * s - pad + ky;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < kw; kx++) {
                                int ix = ox * s - pad + kx;
                                if (ix < 0 || ix >= wd) {
                                    continue;
                                }
                                int tap = ky * kw + kx, at = (iy - iy0) * nw + ix - ix0;
                                for (int r = 0; r < rows; r++) {
                                    int d = (at * rows + r) * ic, base = tap * oc * ic;
                                    int z = nzAt[t * rows + r], end = nzAt[t * rows + r + 1];
                                    for (; z + 4 <= end; z += 4) {
                                        axpy2x4(sc, sh, d, wt, wa, base + nzO[z] * ic, base + nzO[z + 1] * ic,
                                                base + nzO[z + 2] * ic, base + nzO[z + 3] * ic, nzC, nzE, z, ic);
                                    }
                                    for (; z < end; z++) {
                                        axpy2(sc, sh, d, wt, wa, base + nzO[z] * ic, nzC[z], nzE[z], ic);
                                    }
                                }
                            }
                        }
                    }
                }
                // sh bounds the radius and the centre's rounding; closeSum adds the rounding of sh itself
                // (its terms are sh's own) and underflow
                double[] lo = new double[sc.length], hi = new double[sc.length];
                double[] cl = new double[1], ch = new double[1];
                for (int at = 0; at < plane; at++) {
                    for (int r = 0; r < rows; r++) {
                        for (int i = 0, j = (at * rows + r) * ic; i < ic; i++, j++) {
                            Outward.closeSum(sc[j], sh[j], sh[j], terms, cl, ch, 0);
                            int q = (i * plane + at) * rows + r;
                            lo[q] = cl[0];
                            hi[q] = ch[0];
                        }
                    }
                }
                return new RowBatch(rows, ic, h, wd, iy0, iy1, ix0, ix1, lo, hi, k);
            }

            /**
             * The transposed convolution of the rows together, rows innermost ([value][row] sums, vectorized over
             * the rows), input channels in parallel, taps in the forward pass's order. Each row is the same bit for
             * bit as pulled back alone: its sums take its terms in the same order (the loops cover the union of the
             * rows' nonzero rectangles; another row's entries add exact zeros to sums that start at +0), and it
             * closes only the inputs its own taps reach (the others stay exact zeros: closing them would give
             * every entry a subnormal width, making the row dense for every layer below and slow).
             */
            @Override
            public IntervalRows pullback(IntervalRows g) {
                Intervals.checkCols(g, nOut, layer.describe());
                int rows = g.rows();
                double[] gc = new double[nOut * rows], gr = new double[gc.length], ga = new double[gc.length];
                // each row's rectangle of nonzero entries per output channel, and their union over the rows
                int[] yLo = new int[rows * oc], yHi = new int[rows * oc], xLo = new int[rows * oc], xHi = new int[rows * oc];
                int[] uyLo = new int[oc], uyHi = new int[oc], uxLo = new int[oc], uxHi = new int[oc];
                Arrays.fill(yLo, Integer.MAX_VALUE);
                Arrays.fill(yHi, -1);
                Arrays.fill(xLo, Integer.MAX_VALUE);
                Arrays.fill(xHi, -1);
                Arrays.fill(uyLo, Integer.MAX_VALUE);
                Arrays.fill(uyHi, -1);
                Arrays.fill(uxLo, Integer.MAX_VALUE);
                Arrays.fill(uxHi, -1);
                for (int r = 0; r < rows; r++) {
                    for (int o = 0, q = 0; o < oc; o++) {
                        int t = r * oc + o;
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++, q++) {
                                double l = g.lo()[r * nOut + q], u = g.hi()[r * nOut + q];
                                if (l == 0 && u == 0) {
                                    continue;
                                }
                                double c0 = Outward.centre(l, u), r0 = Outward.radius(l, u, c0);
                                gc[q * rows + r] = c0;
                                gr[q * rows + r] = r0;
                                ga[q * rows + r] = Math.abs(c0) + r0;
                                if (ga[q * rows + r] != 0) {
                                    yLo[t] = Math.min(yLo[t], oy);
                                    yHi[t] = Math.max(yHi[t], oy);
                                    xLo[t] = Math.min(xLo[t], ox);
                                    xHi[t] = Math.max(xHi[t], ox);
                                }
                            }
                        }
                        uyLo[o] = Math.min(uyLo[o], yLo[t]);
                        uyHi[o] = Math.max(uyHi[o], yHi[t]);
                        uxLo[o] = Math.min(uxLo[o], xLo[t]);
                        uxHi[o] = Math.max(uxHi[o], xHi[t]);
                    }
                }
                double[] sc = new double[nIn * rows], sr = new double[sc.length], sa = new double[sc.length];
                java.util.stream.IntStream.range(0, ic).parallel().forEach(i -> {
                    for (int o = 0; o < oc; o++) {
                        if (uyHi[o] < 0) {
                            continue;
                        }
                        for (int ky = 0; ky < kh; ky++) {
                            for (int kx = 0; kx < kw; kx++) {
                                double wk = w[((o * ic + i) * kh + ky) * kw + kx], aw = Math.abs(wk);
                                if (wk == 0) {
                                    continue;
                                }
                                int ox0 = Math.max(uxLo[o], firstInside(kx, s, pad));
                                int ox1 = Math.min(uxHi[o], lastInside(kx, s, pad, wd, ow));
                                for (int oy = uyLo[o]; oy <= uyHi[o]; oy++) {
                                    int iy = oy * s - pad + ky;
                                    if (iy < 0 || iy >= h) {
                                        continue;
                                    }
                                    int qBase = (o * oh + oy) * ow, aBase = (i * h + iy) * wd - pad + kx;
                                    for (int ox = ox0; ox <= ox1; ox++) {
                                        int qb = (qBase + ox) * rows, ab = (aBase + ox * s) * rows;
                                        for (int r = 0; r < rows; r++) {
                                            sc[ab + r] += wk * gc[qb + r];
                                            sr[ab + r] += aw * gr[qb + r];
                                            sa[ab + r] += aw * ga[qb + r];
                                        }
                                    }
                                }
                            }
                        }
                    }
                });
                double[] glo = new double[rows * nIn], ghi = new double[rows * nIn];
                long terms = (long) oc * kh * kw;
                for (int r = 0; r < rows; r++) {
                    // the inputs this row's taps reach
                    int iy0 = h, iy1 = -1, ix0 = wd, ix1 = -1;
                    for (int o = 0; o < oc; o++) {
                        int t = r * oc + o;
                        if (yHi[t] >= 0) {
                            iy0 = Math.min(iy0, yLo[t] * s - pad);
                            iy1 = Math.max(iy1, yHi[t] * s - pad + kh - 1);
                            ix0 = Math.min(ix0, xLo[t] * s - pad);
                            ix1 = Math.max(ix1, xHi[t] * s - pad + kw - 1);
                        }
                    }
                    iy0 = Math.max(iy0, 0);
                    ix0 = Math.max(ix0, 0);
                    iy1 = Math.min(iy1, h - 1);
                    ix1 = Math.min(ix1, wd - 1);
                    for (int i = 0; i < ic; i++) {
                        for (int iy = iy0; iy <= iy1; iy++) {
                            for (int ix = ix0, j = (i * h + iy) * wd + ix0; ix <= ix1; ix++, j++) {
                                Outward.closeSum(sc[j * rows + r], sr[j * rows + r], sa[j * rows + r], terms, glo, ghi,
                                        r * nIn + j);
                            }
                        }
                    }
                }
                return new IntervalRows(rows, nIn, glo, ghi);
            }
        };
    }

    /** sc[d + i] += c w[from + i] and sh[d + i] += e aw[from + i] for i &lt; n (one contiguous pass). */
    private static void axpy2(double[] sc, double[] sh, int d, double[] w, double[] aw, int from, double c, double e,
                              int n) {
        for (int i = 0; i < n; i++) {
            sc[d + i] += c * w[from + i];
            sh[d + i] += e * aw[from + i];
        }
    }

    /**
     * {@link #axpy2} for the four weight rows at f0..f3 with coefficients c[z..z+4) and e[z..z+4), added
     * to each sum one after the other (the same order as four calls).
     */
    private static void axpy2x4(double[] sc, double[] sh, int d, double[] w, double[] aw, int f0, int f1, int f2,
                                int f3, double[] c, double[] e, int z, int n) {
        double c0 = c[z], c1 = c[z + 1], c2 = c[z + 2], c3 = c[z + 3];
        double e0 = e[z], e1 = e[z + 1], e2 = e[z + 2], e3 = e[z + 3];
        for (int i = 0; i < n; i++) {
            double a = sc[d + i];
            a += c0 * w[f0 + i];
            a += c1 * w[f1 + i];
            a += c2 * w[f2 + i];
            a += c3 * w[f3 + i];
            sc[d + i] = a;
            double b = sh[d + i];
            b += e0 * aw[f0 + i];
            b += e1 * aw[f1 + i];
            b += e2 * aw[f2 + i];
            b += e3 * aw[f3 + i];
            sh[d + i] = b;
        }
    }

    /** The first output column whose tap kx lands inside the input (ox s - pad + kx >= 0). */
    private static int firstInside(int kx, int s, int pad) {
        int need = pad - kx; // ox s >= need
        return need <= 0 ? 0 : (need + s - 1) / s;
    }

    /** The last output column whose tap kx lands inside an input of width wd (ox s - pad + kx < wd). */
    private static int lastInside(int kx, int s, int pad, int wd, int ow) {
        int last = (wd - 1 + pad - kx) / s; // floor, the numerator is >= 0 whenever the kernel fits
        return Math.min(ow - 1, wd - 1 + pad - kx < 0 ? -1 : last);
    }

    /** y[yo + t] += a x[xo + t] for t in [from, to]. */
    private static void axpy(double[] y, int yo, double[] x, int xo, double a, int from, int to) {
        for (int t = from; t <= to; t++) {
            y[yo + t] += a * x[xo + t];
        }
    }
}
