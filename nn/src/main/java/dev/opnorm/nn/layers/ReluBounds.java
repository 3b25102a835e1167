package dev.opnorm.nn.layers;

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
 * Interval rule of {@link ReLU}: the output box is [max(lo, 0), max(hi, 0)] (exact, no rounding); the
 * derivative of unit j over the box is {1} when lo &gt; 0, {0} when hi &lt;= 0 (ReLU'(0) = 0, as the
 * layer), else anything in [0, 1], so a row entry [l, u] pulls back as itself, 0, or
 * [min(l, 0), max(u, 0)] (the hull of [l, u] x [0, 1]).
 *
 * <p>With a {@link Backsub} of the earlier layers, the input bounds of every unit the box leaves
 * unstable (lo &lt; 0 &lt; hi) are first tightened: rows +e_j and -e_j are pulled back to the network
 * input and minimized there, and the results intersected with the box. Fewer units stay unstable, which
 * narrows both the boxes after this layer and the interval Jacobian.
 *
 * <p>Linear relaxation of an unstable unit over [l, u] (the standard triangle, adaptive lower line):
 * y &gt;= alpha x with alpha = 1 when u &gt; -l, else 0 (exact, no rounding), and y &lt;= s (x - l) with
 * s = u / (u - l) rounded up, which keeps the line above (u, u) and so above the ReLU on [l, u]
 * (convexity). A coefficient a &gt;= 0 takes the lower line, a &lt;= 0 the upper one; an interval
 * coefficient that straddles 0 (only rounding makes one) uses a y &gt;= a_lo y (y &gt;= 0), then the upper line.
 */
final class ReluBounds implements BoundRule {
    private final ReLU layer;

    ReluBounds(ReLU layer) {
        this.layer = layer;
    }

    @Override
    public BoundStep over(Box in, Backsub before) {
        Box tight = before == Backsub.NONE ? in : tighten(in, before);
        int n = tight.size();
        double[] inLo = tight.lo(), inHi = tight.hi();
        double[] lo = new double[n], hi = new double[n];
        byte[] state = new byte[n]; // 0: off, 1: on, 2: either
        for (int j = 0; j < n; j++) {
            lo[j] = Math.max(inLo[j], 0);
            hi[j] = Math.max(inHi[j], 0);
            state[j] = (byte) (inLo[j] > 0 ? 1 : inHi[j] <= 0 ? 0 : 2);
        }
        Box out = new Box(layer.outputShape(in.shape()), lo, hi);
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
            }

            @Override
            public int reluLayers() {
                return 1;
            }

            /**
             * On units keep their generators, off units lose them (rest 0); an unstable unit over [l, u] becomes
             * lambda x + [m_lo, m_hi], lambda = u / (u - l) in float (the DeepZ slope), [m_lo, m_hi] the range of
             * relu(x) - lambda x over [l, u] (its extremes lie at l, 0 and u), with the float rounding of
             * lambda A (u lambda |A_j| + 2^-150 each) folded into the rest. Generators are scaled in place.
             */
            @Override
            public dev.opnorm.nn.bounds.Zonotope forward(dev.opnorm.nn.bounds.Zonotope z) {
                if (!dev.opnorm.nn.bounds.Zonotope.passes(z, n, n, layer.describe())) {
                    return null;
                }
                float[] a = z.a();
                double[] norms = z.norms(); // of the input generators, before they are scaled in place
                float[] f = new float[n];
                double[] lo = new double[n], hi = new double[n], err = new double[n];
                double under = Outward.mulUp(Float.MIN_VALUE, z.ones());
                double[] rl = z.rest().lo(), rh = z.rest().hi();
                for (int j = 0; j < n; j++) {
                    if (state[j] == 1) {
                        f[j] = 1;
                        lo[j] = rl[j];
                        hi[j] = rh[j];
                    } else if (state[j] == 2) {
                        double l = inLo[j], u = inHi[j];
                        float lam = (float) (u / (u - l));
                        f[j] = lam;
                        double up = 1 - (double) lam; // exact
                        double mLo = Math.min(0, Math.min(Outward.mulDown(up, u), Outward.mulDown(-lam, l)));
                        double mHi = Math.max(0, Math.max(Outward.mulUp(up, u), Outward.mulUp(-lam, l)));
                        lo[j] = Outward.addDown(Outward.mulLo(lam, lam, rl[j], rh[j]), mLo);
                        hi[j] = Outward.addUp(Outward.mulHi(lam, lam, rl[j], rh[j]), mHi);
                        err[j] = Outward.addUp(Outward.mulUp(dev.opnorm.nn.bounds.Zonotope.U_FLOAT * lam, norms[j]), under);
                    }
                }
                java.util.stream.IntStream.range(0, z.gens()).parallel().forEach(g -> {
                    for (int j = 0, q = g * n; j < n; j++, q++) {
                        a[q] *= f[j];
                    }
                });
                return z.with(out.shape(), a, new Box(out.shape(), lo, hi), err);
            }

            @Override
            public IntervalRows pullback(IntervalRows g) {
                Intervals.checkCols(g, n, layer.describe());
                double[] glo = new double[g.lo().length], ghi = new double[glo.length];
                for (int row = 0, q = 0; row < g.rows(); row++) {
                    for (int j = 0; j < n; j++, q++) {
                        if (state[j] == 1) {
                            glo[q] = g.lo()[q];
                            ghi[q] = g.hi()[q];
                        } else if (state[j] == 2) {
                            glo[q] = Math.min(g.lo()[q], 0);
                            ghi[q] = Math.max(g.hi()[q], 0);
                        }
                    }
                }
                return new IntervalRows(g.rows(), n, glo, ghi);
            }

            @Override
            public RowWindow pullLowerWindow(RowWindow f) {
                if (f.c() * f.h() * f.w() != n) {
                    throw new IllegalArgumentException(layer.describe() + ": row window over (" + f.c() + ", " + f.h()
                            + ", " + f.w() + ") for " + n + " units");
                }
                double[] glo = new double[f.size()], ghi = new double[glo.length];
                double cr = f.k();
                for (int c = 0, q = 0; c < f.c(); c++) {
                    for (int y = f.y0(); y <= f.y1(); y++) {
                        for (int x = f.x0(), j = f.global(c, y, x); x <= f.x1(); x++, j++, q++) {
                            double al = f.lo()[q], ah = f.hi()[q];
                            if (state[j] == 1) {
                                glo[q] = al;
                                ghi[q] = ah;
                            } else if (state[j] == 2 && (al != 0 || ah != 0)) {
                                cr = relax(al, ah, inLo[j], inHi[j], glo, ghi, q, cr);
                            }
                        }
                    }
                }
                return new RowWindow(f.c(), f.h(), f.w(), f.y0(), f.y1(), f.x0(), f.x1(), glo, ghi, cr);
            }

            @Override
            public RowBatch pullLowerBatch(RowBatch f) {
                if (f.c() * f.h() * f.w() != n) {
                    throw new IllegalArgumentException(layer.describe() + ": row batch over (" + f.c() + ", " + f.h()
                            + ", " + f.w() + ") for " + n + " units");
                }
                int rows = f.rows();
                double[] glo = new double[f.lo().length], ghi = new double[glo.length];
                double[] k = f.k().clone();
                for (int c = 0, q = 0; c < f.c(); c++) {
                    for (int y = f.y0(); y <= f.y1(); y++) {
                        for (int x = f.x0(), j = f.global(c, y, x); x <= f.x1(); x++, j++) {
                            if (state[j] == 1) {
                                System.arraycopy(f.lo(), q, glo, q, rows);
                                System.arraycopy(f.hi(), q, ghi, q, rows);
                                q += rows;
                                continue;
                            }
                            for (int r = 0; r < rows; r++, q++) {
                                double al = f.lo()[q], ah = f.hi()[q];
                                if (state[j] == 2 && (al != 0 || ah != 0)) {
                                    k[r] = relax(al, ah, inLo[j], inHi[j], glo, ghi, q, k[r]);
                                }
                            }
                        }
                    }
                }
                return new RowBatch(rows, f.c(), f.h(), f.w(), f.y0(), f.y1(), f.x0(), f.x1(), glo, ghi, k);
            }

            @Override
            public LinearRows pullLower(LinearRows f) {
                IntervalRows g = f.coef();
                Intervals.checkCols(g, n, layer.describe());
                double[] glo = new double[g.lo().length], ghi = new double[glo.length];
                double[] c = f.c().clone();
                for (int row = 0, q = 0; row < g.rows(); row++) {
                    double cr = c[row];
                    for (int j = 0; j < n; j++, q++) {
                        double al = g.lo()[q], ah = g.hi()[q];
                        if (state[j] == 1) {
                            glo[q] = al;
                            ghi[q] = ah;
                        } else if (state[j] == 2 && (al != 0 || ah != 0)) {
                            cr = relax(al, ah, inLo[j], inHi[j], glo, ghi, q, cr);
                        }
                    }
                    c[row] = cr;
                }
                return new LinearRows(new IntervalRows(g.rows(), n, glo, ghi), c);
            }
        };
    }

    /**
     * The relaxation of one unstable unit over [l, u] for the coefficient [al, ah] (see the class
     * comment): writes the input coefficient to glo[q], ghi[q], returns the constant cr plus its share.
     */
    private static double relax(double al, double ah, double l, double u, double[] glo, double[] ghi, int q,
                                double cr) {
        if (al >= 0) {
            if (u > -l) { // alpha = 1; alpha = 0 leaves the entry 0
                glo[q] = al;
                ghi[q] = ah;
            }
            return cr;
        }
        double top = ah <= 0 ? ah : al; // straddling: a y >= a_lo y first
        double s = Math.nextUp(u / Math.nextDown(u - l)); // >= u / (u - l)
        glo[q] = Outward.mulDown(al, s);
        ghi[q] = Outward.mulUp(top, s);
        // a s (x - l) = a s x + a s (-l), a <= 0, -l >= 0: smallest at a = a_lo
        return Intervals.sumDown(cr, Outward.mulDown(al, Outward.mulUp(s, -l)));
    }

    /** The box with each unstable unit's bounds intersected with its back-substituted ones. */
    private static Box tighten(Box in, Backsub before) {
        int[] unstable = new int[in.size()];
        int m = 0;
        for (int j = 0; j < in.size(); j++) {
            if (in.lo()[j] < 0 && in.hi()[j] > 0) {
                unstable[m++] = j;
            }
        }
        return before.tighten(in, unstable, m);
    }
}
