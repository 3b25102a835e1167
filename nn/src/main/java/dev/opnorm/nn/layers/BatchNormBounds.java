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
 * Interval rule of {@link BatchNorm2d} in EVAL mode, the per-channel affine map y = s x + t with
 * s = gamma / sqrt(running_var + eps), t = beta - running_mean s. s is computed in double with four
 * roundings (add, sqrt, divide, multiply: relative error below 5u) and held as the interval
 * s (1 +- 8u); t as an interval from it; y and the pulled-back rows by outward interval products.
 * TRAIN mode couples the examples of a batch and has no per-example bound: certification is EVAL only.
 */
final class BatchNormBounds implements BoundRule {
    private final BatchNorm2d layer;

    BatchNormBounds(BatchNorm2d layer) {
        this.layer = layer;
    }

    @Override
    public BoundStep over(Box in, Backsub before) {
        Shape shape = layer.outputShape(in.shape());
        int ch = layer.channels(), plane = shape.h() * shape.w();
        double[] sl = new double[ch], sh = new double[ch], tl = new double[ch], th = new double[ch];
        for (int c = 0; c < ch; c++) {
            double gamma = layer.weight() == null ? 1 : layer.weight().value[c];
            double beta = layer.bias() == null ? 0 : layer.bias().value[c];
            double mean = layer.runningMean().value[c];
            double s = gamma / Math.sqrt((double) layer.runningVar().value[c] + BatchNorm2d.EPS);
            double slack = Math.abs(s) * 8 * Outward.U;
            sl[c] = Math.nextDown(s - slack);
            sh[c] = Math.nextUp(s + slack);
            tl[c] = Outward.addDown(beta, -Outward.mulHi(mean, mean, sl[c], sh[c]));
            th[c] = Outward.addUp(beta, -Outward.mulLo(mean, mean, sl[c], sh[c]));
        }
        double[] lo = new double[in.size()], hi = new double[in.size()];
        for (int j = 0; j < lo.length; j++) {
            int c = j / plane;
            double xl = in.lo()[j], xh = in.hi()[j];
            lo[j] = Outward.addDown(Outward.mulLo(xl, xh, sl[c], sh[c]), tl[c]);
            hi[j] = Outward.addUp(Outward.mulHi(xl, xh, sl[c], sh[c]), th[c]);
        }
        Box out = new Box(shape, lo, hi);
        int n = in.size();
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
            }

            /**
             * The generators scaled in place by a float s_f near each channel's s; the rest through the interval
             * rule; the error |s - s_f| |A_j| plus the float rounding of s_f A (u |s_f| |A_j| + 2^-150 each).
             */
            @Override
            public dev.opnorm.nn.bounds.Zonotope forward(dev.opnorm.nn.bounds.Zonotope z) {
                if (!dev.opnorm.nn.bounds.Zonotope.passes(z, n, n, layer.describe())) {
                    return null;
                }
                float[] a = z.a();
                double[] norms = z.norms(); // of the input generators, before they are scaled in place
                float[] sf = new float[ch];
                double[] slack = new double[ch];
                for (int c = 0; c < ch; c++) {
                    sf[c] = (float) Outward.centre(sl[c], sh[c]);
                    double off = Math.max(Math.abs(Outward.addUp(sh[c], -sf[c])), Math.abs(Outward.addDown(sl[c], -sf[c])));
                    slack[c] = Outward.addUp(Math.nextUp(off), Outward.mulUp(dev.opnorm.nn.bounds.Zonotope.U_FLOAT,
                            Math.abs(sf[c])));
                }
                java.util.stream.IntStream.range(0, z.gens()).parallel().forEach(g -> {
                    for (int c = 0, q = g * n; c < ch; c++) {
                        float f = sf[c];
                        for (int t = 0; t < plane; t++, q++) {
                            a[q] *= f;
                        }
                    }
                });
                double[] err = new double[n];
                double under = Outward.mulUp(Float.MIN_VALUE, z.ones());
                for (int j = 0; j < n; j++) {
                    err[j] = Outward.addUp(Outward.mulUp(slack[j / plane], norms[j]), under);
                }
                return z.with(shape, a, BatchNormBounds.this.over(z.rest()).output(), err);
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
                if (f.c() != ch || f.h() * f.w() != plane) {
                    throw new IllegalArgumentException(layer.describe() + ": row window over (" + f.c() + ", " + f.h()
                            + ", " + f.w() + ") where the layer has shape " + shape);
                }
                int fp = f.wh() * f.ww();
                double[] glo = new double[f.size()], ghi = new double[glo.length];
                double k = f.k();
                for (int c = 0, q = 0; c < ch; c++) {
                    for (int t = 0; t < fp; t++, q++) {
                        double l = f.lo()[q], u = f.hi()[q];
                        if (l != 0 || u != 0) {
                            glo[q] = Outward.mulLo(l, u, sl[c], sh[c]);
                            ghi[q] = Outward.mulHi(l, u, sl[c], sh[c]);
                            k = Intervals.sumDown(k, Outward.mulLo(l, u, tl[c], th[c])); // the offset t in [tl, th]
                        }
                    }
                }
                return new RowWindow(f.c(), f.h(), f.w(), f.y0(), f.y1(), f.x0(), f.x1(), glo, ghi, k);
            }

            @Override
            public RowBatch pullLowerBatch(RowBatch f) {
                if (f.c() != ch || f.h() * f.w() != plane) {
                    throw new IllegalArgumentException(layer.describe() + ": row batch over (" + f.c() + ", " + f.h()
                            + ", " + f.w() + ") where the layer has shape " + shape);
                }
                int rows = f.rows(), fp = f.wh() * f.ww();
                double[] glo = new double[f.lo().length], ghi = new double[glo.length];
                double[] k = f.k().clone();
                for (int c = 0, q = 0; c < ch; c++) {
                    for (int t = 0; t < fp; t++) {
                        for (int r = 0; r < rows; r++, q++) {
                            double l = f.lo()[q], u = f.hi()[q];
                            if (l != 0 || u != 0) {
                                glo[q] = Outward.mulLo(l, u, sl[c], sh[c]);
                                ghi[q] = Outward.mulHi(l, u, sl[c], sh[c]);
                                k[r] = Intervals.sumDown(k[r], Outward.mulLo(l, u, tl[c], th[c]));
                            }
                        }
                    }
                }
                return new RowBatch(rows, f.c(), f.h(), f.w(), f.y0(), f.y1(), f.x0(), f.x1(), glo, ghi, k);
            }

            @Override
            public IntervalRows pullback(IntervalRows g) {
                Intervals.checkCols(g, n, layer.describe());
                double[] glo = new double[g.lo().length], ghi = new double[glo.length];
                for (int row = 0, q = 0; row < g.rows(); row++) {
                    for (int c = 0; c < ch; c++) { // channel-outer: no division per entry
                        for (int t = 0; t < plane; t++, q++) {
                            double l = g.lo()[q], u = g.hi()[q];
                            if (l != 0 || u != 0) {
                                glo[q] = Outward.mulLo(l, u, sl[c], sh[c]);
                                ghi[q] = Outward.mulHi(l, u, sl[c], sh[c]);
                            }
                        }
                    }
                }
                return new IntervalRows(g.rows(), n, glo, ghi);
            }
        };
    }
}
