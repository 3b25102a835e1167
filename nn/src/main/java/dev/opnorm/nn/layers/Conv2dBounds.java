package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.bounds.BoundRule;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.bounds.IntervalRows;
import dev.opnorm.nn.bounds.Intervals;
import dev.opnorm.nn.bounds.Outward;

import java.util.Arrays;

/**
 * Interval rule of {@link Conv2d}: the convolution applied to a box in centre-radius form (out in
 * conv(c, W) + b +- conv(r, |W|)); rows pull back through the transposed convolution (centre with W,
 * radius with |W|). Loops in double, written for clarity (a reference, not a kernel); every output
 * is widened by {@link Outward#closeSum} for the taps that reach it.
 */
final class Conv2dBounds implements BoundRule {
    private final Conv2d layer;

    Conv2dBounds(Conv2d layer) {
        this.layer = layer;
    }

    @Override
    public BoundStep over(Box in) {
        Shape inShape = in.shape();
        Shape outShape = layer.outputShape(inShape);
        int ic = layer.inChannels(), oc = layer.outChannels(), kh = layer.kernelHeight(), kw = layer.kernelWidth();
        int s = layer.stride(), pad = layer.padding();
        int h = inShape.h(), wd = inShape.w(), oh = outShape.h(), ow = outShape.w();
        float[] w = layer.weight().value;
        float[] b = layer.bias() == null ? null : layer.bias().value;
        double[] c = new double[in.size()], r = new double[in.size()];
        Intervals.split(in.lo(), in.hi(), c, r);
        double[] lo = new double[outShape.size()], hi = new double[outShape.size()];
        long taps = (long) ic * kh * kw + 1;
        for (int o = 0; o < oc; o++) {
            double bias = b == null ? 0 : b[o];
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double sc = bias, sr = 0, sa = Math.abs(bias);
                    for (int i = 0; i < ic; i++) {
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
                                int at = (i * h + iy) * wd + ix;
                                double wk = w[((o * ic + i) * kh + ky) * kw + kx], aw = Math.abs(wk);
                                sc += wk * c[at];
                                sr += aw * r[at];
                                sa += aw * (Math.abs(c[at]) + r[at]);
                            }
                        }
                    }
                    Outward.closeSum(sc, sr, sa, taps, lo, hi, (o * oh + oy) * ow + ox);
                }
            }
        }
        Box out = new Box(outShape, lo, hi);
        int nIn = inShape.size(), nOut = outShape.size();
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
            }

            @Override
            public IntervalRows pullback(IntervalRows g) {
                Intervals.checkCols(g, nOut, layer.describe());
                int rows = g.rows();
                double[] glo = new double[rows * nIn], ghi = new double[rows * nIn];
                double[] sc = new double[nIn], sr = new double[nIn], sa = new double[nIn];
                long terms = (long) oc * kh * kw;
                for (int row = 0; row < rows; row++) {
                    Arrays.fill(sc, 0);
                    Arrays.fill(sr, 0);
                    Arrays.fill(sa, 0);
                    int base = row * nOut;
                    for (int o = 0; o < oc; o++) {
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) {
                                int q = base + (o * oh + oy) * ow + ox;
                                double l = g.lo()[q], u = g.hi()[q];
                                if (l == 0 && u == 0) {
                                    continue;
                                }
                                double vc = Outward.centre(l, u), vr = Outward.radius(l, u, vc), va = Math.abs(vc) + vr;
                                for (int i = 0; i < ic; i++) {
                                    for (int ky = 0; ky < kh; ky++) {
                                        int iy = oy * s - pad + ky;
                                        if (iy < 0 || iy >= h) {
                                            continue;
                                        }
                                        int wrow = ((o * ic + i) * kh + ky) * kw, irow = (i * h + iy) * wd;
                                        for (int kx = 0; kx < kw; kx++) {
                                            int ix = ox * s - pad + kx;
                                            if (ix < 0 || ix >= wd) {
                                                continue;
                                            }
                                            double wk = w[wrow + kx], aw = Math.abs(wk);
                                            int at = irow + ix;
                                            sc[at] += vc * wk;
                                            sr[at] += vr * aw;
                                            sa[at] += va * aw;
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
}
