package dev.opnorm.nn.layers;

import dev.opnorm.nn.bounds.Backsub;
import dev.opnorm.nn.bounds.BoundRule;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.bounds.IntervalRows;
import dev.opnorm.nn.bounds.LinearRows;
import dev.opnorm.nn.bounds.RowWindow;

import java.util.ArrayList;
import java.util.List;

/**
 * Interval rule of a chain of layers ({@link Sequential}, {@link Flatten}'s reshape is a chain of
 * none): boxes go forward through each layer's rule in order, each rule given the back-substitution
 * through the steps before it; rows and linear bounds come back in reverse.
 */
final class ChainBounds implements BoundRule {
    private final List<BoundRule> rules;
    private final dev.opnorm.nn.Shape reshape; // non-null: a pure reshape (Flatten) to this per-example shape

    private ChainBounds(List<BoundRule> rules, dev.opnorm.nn.Shape reshape) {
        this.rules = rules;
        this.reshape = reshape;
    }

    /** The chain of the given layers' rules (each layer's {@code bounds()}, so an unsupported one fails here). */
    static ChainBounds of(List<Layer> layers) {
        List<BoundRule> r = new ArrayList<>();
        for (Layer l : layers) {
            r.add(l.bounds());
        }
        return new ChainBounds(List.copyOf(r), null);
    }

    /** Flatten: the same values, read with another shape; the Jacobian is the identity. */
    static BoundRule reshape(Layer layer) {
        return (in, before) -> {
            Box out = new Box(layer.outputShape(in.shape()), in.lo(), in.hi());
            return new BoundStep() {
                @Override
                public dev.opnorm.nn.bounds.LinearRows pullLower(dev.opnorm.nn.bounds.LinearRows f) {
                    dev.opnorm.nn.bounds.Intervals.checkCols(f.coef(), out.size(), layer.qualifiedName());
                    return f;
                }

                @Override
                public Box output() {
                    return out;
                }

                @Override
                public dev.opnorm.nn.bounds.Zonotope forward(dev.opnorm.nn.bounds.Zonotope z) {
                    return z == null ? null : z.reshaped(out.shape());
                }

                @Override
                public dev.opnorm.nn.bounds.RowWindow pullLowerWindow(dev.opnorm.nn.bounds.RowWindow f) {
                    if (!f.isFull() || f.size() != out.size()) { // output and input share the NCHW order
                        return null;
                    }
                    return dev.opnorm.nn.bounds.RowWindow.full(in.shape(), f.lo(), f.hi(), f.k());
                }

                @Override
                public IntervalRows pullback(IntervalRows g) {
                    dev.opnorm.nn.bounds.Intervals.checkCols(g, out.size(), layer.qualifiedName());
                    return g;
                }
            };
        };
    }

    @Override
    public BoundStep over(Box in, Backsub before) {
        List<BoundStep> steps = new ArrayList<>(rules.size());
        Box x = in;
        Backsub here = before;
        for (BoundRule r : rules) {
            x = here.prior(x);
            BoundStep s = r.over(x, here);
            steps.add(s);
            here = here.after(s, x);
            x = s.output();
        }
        Box out = x;
        Backsub last = here;
        int relus = steps.stream().mapToInt(BoundStep::reluLayers).sum();
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
            }

            @Override
            public int reluLayers() {
                return relus;
            }

            /** The zonotope tracked through the chain's steps while its boxes were computed (z was consumed then). */
            @Override
            public dev.opnorm.nn.bounds.Zonotope forward(dev.opnorm.nn.bounds.Zonotope z) {
                return last.takeZonotope();
            }

            /**
             * Through each step's windowed form in reverse; from the first step without one, the dense
             * rows through the rest (the same bound), returned as a window over all of the chain's input.
             */
            @Override
            public RowWindow pullLowerWindow(RowWindow f) {
                RowWindow r = f;
                for (int i = steps.size() - 1; i >= 0; i--) {
                    RowWindow p = steps.get(i).pullLowerWindow(r);
                    if (p == null) {
                        LinearRows d = r.toLinearRows();
                        for (int j = i; j >= 0; j--) {
                            d = steps.get(j).pullLower(d);
                        }
                        return RowWindow.ofRow(d, 0, in.shape());
                    }
                    r = p;
                }
                return r;
            }

            @Override
            public LinearRows pullLower(LinearRows f) {
                LinearRows r = f;
                for (int i = steps.size() - 1; i >= 0; i--) {
                    r = steps.get(i).pullLower(r);
                }
                return r;
            }

            @Override
            public IntervalRows pullback(IntervalRows g) {
                IntervalRows r = g;
                for (int i = steps.size() - 1; i >= 0; i--) {
                    r = steps.get(i).pullback(r);
                }
                return r;
            }
        };
    }
}
