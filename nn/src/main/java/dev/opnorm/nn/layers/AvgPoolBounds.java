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
 * Interval rule of {@link AvgPool2d} (count_include_pad: every window divides by kernel^2; global
 * pooling by h w): linear with exact weights 1 / divisor, applied in centre-radius form; the division
 * adds one rounding, covered by counting it as one more term in {@link Outward#closeSum}.
 */
final class AvgPoolBounds implements BoundRule {
    private final AvgPool2d layer;

    AvgPoolBounds(AvgPool2d layer) {
        this.layer = layer;
    }

    @Override
    public BoundStep over(Box in, Backsub before) {
        Shape inShape = in.shape(), outShape = layer.outputShape(inShape);
        int ch = inShape.c(), h = inShape.h(), w = inShape.w();
        int kh = layer.isGlobal() ? h : layer.kernel(), kw = layer.isGlobal() ? w : layer.kernel();
        int s = layer.isGlobal() ? 1 : layer.stride(), pad = layer.isGlobal() ? 0 : layer.padding();
        int oh = layer.isGlobal() ? 1 : outShape.h(), ow = layer.isGlobal() ? 1 : outShape.w();
        double div = (double) kh * kw;
        long terms = (long) kh * kw + 1;
        double[] c = new double[in.size()], r = new double[in.size()];
        Intervals.split(in.lo(), in.hi(), c, r);
        int nOut = outShape.size(), nIn = inShape.size();
        double[] lo = new double[nOut], hi = new double[nOut];
        for (int k = 0, o = 0; k < ch; k++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++, o++) {
                    double sc = 0, sr = 0, sa = 0;
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * s - pad + ky;
                        for (int kx = 0; kx < kw && iy >= 0 && iy < h; kx++) {
                            int ix = ox * s - pad + kx;
                            if (ix >= 0 && ix < w) {
                                int at = (k * h + iy) * w + ix;
                                sc += c[at];
                                sr += r[at];
                                sa += Math.abs(c[at]) + r[at];
                            }
                        }
                    }
                    Outward.closeSum(sc / div, sr / div, sa / div, terms, lo, hi, o);
                }
            }
        }
        Box out = new Box(outShape, lo, hi);
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
            }

            /**
             * The generators through the layer's float forward pass (a batch of one example per generator; the
             * pool is linear, no offset), the rest through the interval rule; an average of k terms is within
             * gamma_(k+1) of the mean of their absolute values, whatever the kernel's order and division.
             */
            @Override
            public dev.opnorm.nn.bounds.Zonotope forward(dev.opnorm.nn.bounds.Zonotope z) {
                if (!dev.opnorm.nn.bounds.Zonotope.passes(z, nIn, nOut, layer.describe())) {
                    return null;
                }
                int g = z.gens();
                float[] y = layer.forward(new dev.opnorm.nn.Tensor(new Shape(g, ch, h, w), z.a())).data;
                return z.affine(AvgPoolBounds.this, inShape, outShape, y, terms);
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
                double[] glo = new double[g.rows() * nIn], ghi = new double[glo.length];
                double[] sc = new double[nIn], sr = new double[nIn], sa = new double[nIn];
                long windows = (long) ((kh + s - 1) / s) * ((kw + s - 1) / s) + 1;
                for (int row = 0; row < g.rows(); row++) {
                    Arrays.fill(sc, 0);
                    Arrays.fill(sr, 0);
                    Arrays.fill(sa, 0);
                    for (int k = 0, o = 0; k < ch; k++) {
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++, o++) {
                                double l = g.lo()[row * nOut + o], u = g.hi()[row * nOut + o];
                                if (l == 0 && u == 0) {
                                    continue;
                                }
                                double vc = Outward.centre(l, u), vr = Outward.radius(l, u, vc);
                                for (int ky = 0; ky < kh; ky++) {
                                    int iy = oy * s - pad + ky;
                                    for (int kx = 0; kx < kw && iy >= 0 && iy < h; kx++) {
                                        int ix = ox * s - pad + kx;
                                        if (ix >= 0 && ix < w) {
                                            int at = (k * h + iy) * w + ix;
                                            sc[at] += vc;
                                            sr[at] += vr;
                                            sa[at] += Math.abs(vc) + vr;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    for (int j = 0; j < nIn; j++) {
                        Outward.closeSum(sc[j] / div, sr[j] / div, sa[j] / div, windows, glo, ghi, row * nIn + j);
                    }
                }
                return new IntervalRows(g.rows(), nIn, glo, ghi);
            }
        };
    }
}
