package dev.opnorm.nn.layers;

import dev.opnorm.nn.bounds.Backsub;
import dev.opnorm.nn.bounds.BoundRule;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.bounds.IntervalRows;
import dev.opnorm.nn.bounds.Intervals;
import dev.opnorm.nn.bounds.LinearRows;

import java.util.List;

/**
 * Interval rule of {@link PreActBlock}: a = relu1(bn1(x)), y = main(a) + shortcut, the shortcut being
 * x itself or convShortcut(a). Boxes add (the two paths' dependence on x is dropped, which only
 * widens); rows pull back through both paths and add where they meet (at a, and at x for the identity
 * shortcut), like the block's backward sweep.
 */
final class PreActBlockBounds implements BoundRule {
    private final PreActBlock block;
    private final BoundRule pre;      // bn1, relu1
    private final BoundRule main;     // conv1, bn2, relu2, conv2
    private final BoundRule shortcut; // convShortcut, or null for the identity

    PreActBlockBounds(PreActBlock block, Layer bn1, Layer relu1, List<Layer> mainPath, Layer convShortcut) {
        this.block = block;
        this.pre = ChainBounds.of(List.of(bn1, relu1));
        this.main = ChainBounds.of(mainPath);
        this.shortcut = convShortcut == null ? null : convShortcut.bounds();
    }

    @Override
    public BoundStep over(Box in, Backsub before) {
        BoundStep sPre = pre.over(in, before);
        Backsub atA = before.after(sPre, in);
        BoundStep sMain = main.over(sPre.output(), atA);
        BoundStep sShort = shortcut == null ? null : shortcut.over(sPre.output(), atA);
        Box out = Intervals.add(sMain.output(), sShort == null ? in : sShort.output(), block.outputShape(in.shape()));
        return new BoundStep() {
            @Override
            public Box output() {
                return out;
            }

            @Override
            public int reluLayers() { // the deepest path: pre-activation, then the longer branch
                return sPre.reluLayers() + Math.max(sMain.reluLayers(), sShort == null ? 0 : sShort.reluLayers());
            }

            @Override
            public LinearRows pullLower(LinearRows f) {
                Intervals.checkCols(f.coef(), out.size(), block.describe());
                // a . y = a . main(a') + a . shortcut: lower bounds of the two paths add (constant counted once)
                LinearRows ga = sMain.pullLower(f);
                if (sShort != null) {
                    ga = LinearRows.add(ga, sShort.pullLower(f.withoutConstant()));
                }
                LinearRows gx = sPre.pullLower(ga);
                return sShort == null ? LinearRows.add(gx, f.withoutConstant()) : gx;
            }

            @Override
            public IntervalRows pullback(IntervalRows g) {
                Intervals.checkCols(g, out.size(), block.describe());
                IntervalRows ga = sMain.pullback(g);
                if (sShort != null) {
                    ga = Intervals.add(ga, sShort.pullback(g));
                }
                IntervalRows gx = sPre.pullback(ga);
                return sShort == null ? Intervals.add(gx, g) : gx;
            }
        };
    }
}
