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
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
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
            public IntervalRows pullback(IntervalRows g) {
                Intervals.checkCols(g, nOut, layer.describe());
                int rows = g.rows();
                double[] glo = new double[rows * nIn], ghi = new double[rows * nIn];
                double[] sc = new double[nIn], sr = new double[nIn], sa = new double[nIn];
                double[] gc = new double[nOut], gr = new double[nOut], ga = new double[nOut];
                int[] yLo = new int[oc], yHi = new int[oc], xLo = new int[oc], xHi = new int[oc];
                long terms = (long) oc * kh * kw;
                for (int row = 0; row < rows; row++) {
                    Arrays.fill(sc, 0);
                    Arrays.fill(sr, 0);
                    Arrays.fill(sa, 0);
                    int base = row * nOut;
                    for (int q = 0; q < nOut; q++) {
                        double l = g.lo()[base + q], u = g.hi()[base + q];
                        gc[q] = Outward.centre(l, u);
                        gr[q] = Outward.radius(l, u, gc[q]);
                        ga[q] = Math.abs(gc[q]) + gr[q];
                    }
                    // the rectangle of each output channel's nonzero entries: rows from back-substitution are
                    // local (a unit's receptive field), and the loops below skip the zeros outside it, which
                    // would add exact zeros (same sums)
                    java.util.Arrays.fill(yLo, Integer.MAX_VALUE);
                    java.util.Arrays.fill(yHi, -1);
                    java.util.Arrays.fill(xLo, Integer.MAX_VALUE);
                    java.util.Arrays.fill(xHi, -1);
                    for (int o = 0, q = 0; o < oc; o++) {
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++, q++) {
                                if (ga[q] != 0) {
                                    yLo[o] = Math.min(yLo[o], oy);
                                    yHi[o] = Math.max(yHi[o], oy);
                                    xLo[o] = Math.min(xLo[o], ox);
                                    xHi[o] = Math.max(xHi[o], ox);
                                }
                            }
                        }
                    }
                    // the transposed convolution, weight-outer like the forward pass
                    for (int o = 0; o < oc; o++) {
                        if (yHi[o] < 0) {
                            continue;
                        }
                        for (int i = 0; i < ic; i++) {
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    double wk = w[((o * ic + i) * kh + ky) * kw + kx], aw = Math.abs(wk);
                                    if (wk == 0) {
                                        continue;
                                    }
                                    int ox0 = Math.max(xLo[o], firstInside(kx, s, pad));
                                    int ox1 = Math.min(xHi[o], lastInside(kx, s, pad, wd, ow));
                                    for (int oy = yLo[o]; oy <= yHi[o]; oy++) {
                                        int iy = oy * s - pad + ky;
                                        if (iy < 0 || iy >= h) {
                                            continue;
                                        }
                                        int qBase = (o * oh + oy) * ow, aBase = (i * h + iy) * wd - pad + kx;
                                        if (s == 1) { // one stream per loop: the JIT vectorizes these
                                            axpy(sc, aBase, gc, qBase, wk, ox0, ox1);
                                            axpy(sr, aBase, gr, qBase, aw, ox0, ox1);
                                            axpy(sa, aBase, ga, qBase, aw, ox0, ox1);
                                            continue;
                                        }
                                        for (int ox = ox0; ox <= ox1; ox++) {
                                            int q = qBase + ox, at = aBase + ox * s;
                                            sc[at] += gc[q] * wk;
                                            sr[at] += gr[q] * aw;
                                            sa[at] += ga[q] * aw;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    for (int j = 0; j < nIn; j++) {
                        Outward.closeSum(sc[j], sr[j], sa[j], terms, glo, ghi, row * nIn + j);
                    }
                }
                return new IntervalRows(rows, nIn, glo, ghi);
            }
        };
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
