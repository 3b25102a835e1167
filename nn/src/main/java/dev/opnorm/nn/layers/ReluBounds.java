package dev.opnorm.nn.layers;

import dev.opnorm.nn.bounds.BoundRule;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.bounds.IntervalRows;
import dev.opnorm.nn.bounds.Intervals;

/**
 * Interval rule of {@link ReLU}: the output box is [max(lo, 0), max(hi, 0)] (exact, no rounding); the
 * derivative of unit j over the box is {1} when lo &gt; 0, {0} when hi &lt;= 0 (ReLU'(0) = 0, as the
 * layer), else anything in [0, 1], so a row entry [l, u] pulls back as itself, 0, or
 * [min(l, 0), max(u, 0)] (the hull of [l, u] x [0, 1]).
 */
final class ReluBounds implements BoundRule {
    private final ReLU layer;

    ReluBounds(ReLU layer) {
        this.layer = layer;
    }

    @Override
    public BoundStep over(Box in) {
        int n = in.size();
        double[] lo = new double[n], hi = new double[n];
        byte[] state = new byte[n]; // 0: off, 1: on, 2: either
        for (int j = 0; j < n; j++) {
            lo[j] = Math.max(in.lo()[j], 0);
            hi[j] = Math.max(in.hi()[j], 0);
            state[j] = (byte) (in.lo()[j] > 0 ? 1 : in.hi()[j] <= 0 ? 0 : 2);
        }
        Box out = new Box(layer.outputShape(in.shape()), lo, hi);
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
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
        };
    }

}
