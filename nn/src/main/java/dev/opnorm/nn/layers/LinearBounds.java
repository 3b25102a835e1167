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
import dev.opnorm.nn.bounds.RowWindow;

/**
 * Interval rule of {@link Linear}: y = W x + b applied to a box in centre-radius form, y in
 * W c + b +- |W| r; the Jacobian W is exact, so rows pull back as g W (centre g_c W, radius g_r |W|).
 * Every dot product is accumulated in double and widened by {@link Outward#closeSum}.
 */
final class LinearBounds implements BoundRule {
    private final Linear layer;

    LinearBounds(Linear layer) {
        this.layer = layer;
    }

    @Override
    public BoundStep over(Box in, Backsub before) {
        Shape outShape = layer.outputShape(in.shape());
        int nIn = layer.inFeatures(), nOut = layer.outFeatures();
        float[] w = layer.weight().value;
        float[] b = layer.bias() == null ? null : layer.bias().value;
        double[] c = new double[nIn], r = new double[nIn];
        Intervals.split(in.lo(), in.hi(), c, r);
        double[] lo = new double[nOut], hi = new double[nOut];
        for (int o = 0; o < nOut; o++) {
            double bias = b == null ? 0 : b[o];
            double sc = bias, sr = 0, sa = Math.abs(bias);
            for (int i = 0, k = o * nIn; i < nIn; i++, k++) {
                double wk = w[k], aw = Math.abs(wk);
                sc += wk * c[i];
                sr += aw * r[i];
                sa += aw * (Math.abs(c[i]) + r[i]);
            }
            Outward.closeSum(sc, sr, sa, nIn + 1, lo, hi, o);
        }
        Box out = new Box(outShape, lo, hi);
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
            }

            /** The generators through the layer's float GEMM (no bias), the rest through the interval rule. */
            @Override
            public dev.opnorm.nn.bounds.Zonotope forward(dev.opnorm.nn.bounds.Zonotope z) {
                if (!dev.opnorm.nn.bounds.Zonotope.passes(z, nIn, nOut, layer.describe())) {
                    return null;
                }
                int g = z.gens();
                float[] y = new float[g * nOut];
                layer.kernels.gemm(false, true, g, nOut, nIn, 1f, z.a(), 0, nIn, w, 0, nIn, 0f, y, 0, nOut);
                return z.affine(LinearBounds.this, in.shape(), outShape, y, nIn);
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
            public RowWindow pullLowerWindow(RowWindow f) { // dense in, dense out: the window is everything
                return RowWindow.ofRow(pullLower(f.toLinearRows()), 0, in.shape());
            }

            @Override
            public IntervalRows pullback(IntervalRows g) {
                Intervals.checkCols(g, nOut, layer.describe());
                int rows = g.rows();
                double[] gc = new double[g.lo().length], gr = new double[gc.length];
                Intervals.split(g.lo(), g.hi(), gc, gr);
                double[] glo = new double[rows * nIn], ghi = new double[rows * nIn];
                double[] sc = new double[nIn], sr = new double[nIn], sa = new double[nIn];
                for (int row = 0; row < rows; row++) {
                    java.util.Arrays.fill(sc, 0);
                    java.util.Arrays.fill(sr, 0);
                    java.util.Arrays.fill(sa, 0);
                    for (int o = 0; o < nOut; o++) {
                        double vc = gc[row * nOut + o], vr = gr[row * nOut + o];
                        if (vc == 0 && vr == 0) {
                            continue;
                        }
                        double va = Math.abs(vc) + vr;
                        for (int i = 0, k = o * nIn; i < nIn; i++, k++) {
                            double wk = w[k], aw = Math.abs(wk);
                            sc[i] += vc * wk;
                            sr[i] += vr * aw;
                            sa[i] += va * aw;
                        }
                    }
                    for (int i = 0; i < nIn; i++) {
                        Outward.closeSum(sc[i], sr[i], sa[i], nOut, glo, ghi, row * nIn + i);
                    }
                }
                return new IntervalRows(rows, nIn, glo, ghi);
            }
        };
    }
}
