package dev.opnorm.robust.certify;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.bounds.Backsub;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tightening budget ({@link Certifier.Options#tightenLayers}): pre-activation bounds are
 * back-substituted in the first b ReLU layers only, later layers keep interval bounds, and the logit and
 * margin rows are back-substituted through every layer whatever b is. Soundness of each budget at every
 * point of the ball is checked by {@link LinearBoundsTest#everyPullbackPathHoldsEveryPointOfTheBall}.
 */
class TightenBudgetTest {
    static final double INF = Double.POSITIVE_INFINITY;

    /**
     * Walking the chain layer by layer (no zonotope: the budget alone decides): budget 0 gives the interval
     * boxes exactly; budget b gives budget b - 1's boxes exactly up to the (b-1)-th ReLU layer, nested ones after (the max pools before the
     * b-th ReLU layer and that layer are the ones it tightens), strictly narrower at the b-th (the deep
     * MLP leaves units open at every layer); a budget of at least the number of
     * ReLU layers gives the full linear bounds exactly. ReLUs left open never grow with the budget.
     */
    @Test
    void eachBudgetTightensExactlyItsLayers() {
        List<Case> cases = List.of(new Case(LinearBoundsTest.deepMlp(51), new Shape(1, 20, 1, 1), 0.05, 6, true),
                new Case(CertifyFixtures.cnnNet(52), CertifyFixtures.CNN_IN, 0.05, 4, false));
        for (Case k : cases) {
            for (double ballP : new double[]{2, INF}) {
                float[] x = CertifyFixtures.point(k.in().size(), 53);
                String what = k.net().name() + " l" + ballP;
                List<Box> interval = walk(k, x, ballP, -1);
                List<Box> full = walk(k, x, ballP, Certifier.Options.ALL_LAYERS);
                List<Box> prev = interval;
                int openPrev = open(k.net(), interval);
                for (int b = 0; b <= k.relus() + 1; b++) {
                    List<Box> cur = walk(k, x, ballP, b);
                    if (b == 0) {
                        assertSame(interval, cur, 0, cur.size(), what + " budget 0 vs interval");
                    } else {
                        // nothing before the (b-1)-th ReLU layer changes (a max pool after it belongs to the b-th)
                        int same = b == 1 ? 0 : reluAt(k.net(), b - 1) + 1;
                        assertSame(prev, cur, 0, Math.min(same, cur.size()), what + " budget " + b + " before its layer");
                        for (int li = same; li < cur.size(); li++) {
                            assertNested(cur.get(li), prev.get(li), what + " budget " + b + " layer " + li);
                        }
                        // over l_inf the first layer's box is already exact (an affine map of a box)
                        if (b <= k.relus() && k.strict() && (b > 1 || ballP != INF)) {
                            int at = reluAt(k.net(), b);
                            Box here = cur.get(at), before = prev.get(at);
                            double narrower = 0;
                            for (int j = 0; j < here.size(); j++) {
                                narrower += (before.hi()[j] - before.lo()[j]) - (here.hi()[j] - here.lo()[j]);
                            }
                            assertTrue(narrower > 0, what + " budget " + b + " did not narrow its ReLU layer");
                        }
                    }
                    if (b >= k.relus()) {
                        assertSame(full, cur, 0, cur.size(), what + " budget " + b + " vs every layer");
                    }
                    int o = open(k.net(), cur);
                    assertTrue(o <= openPrev, what + " budget " + b + ": " + o + " ReLUs open, " + openPrev + " before");
                    openPrev = o;
                    prev = cur;
                }
            }
        }
    }

    /**
     * Certifier's propagation counts ReLU layers inside nested chains the way the flat chain does: the
     * deep MLP split into a nested "features" chain and the rest gives the flat network's logits, margin
     * bounds and Jacobian bit for bit at every budget, with and without the zonotope (carried through the
     * nested chain), and the budget changes them (it is not ignored; without the zonotope, which leaves no
     * unit open here).
     */
    @Test
    void nestedChainsCountTheirReluLayers() {
        Sequential flat = LinearBoundsTest.deepMlp(54);
        List<Layer> layers = new ArrayList<>(); // the same layers, fresh instances (a layer has one container)
        for (int i = 0; i < 6; i++) {
            layers.add(new dev.opnorm.nn.layers.Linear(String.valueOf(2 * i), i == 0 ? 20 : 24, 24, true, CertifyFixtures.K));
            layers.add(new ReLU(String.valueOf(2 * i + 1), CertifyFixtures.K));
        }
        layers.add(new dev.opnorm.nn.layers.Linear("12", 24, 5, true, CertifyFixtures.K));
        Sequential nested = new Sequential("nested", new Sequential("features", layers.subList(0, 7)),
                new Sequential("head", layers.subList(7, layers.size())));
        CertifyFixtures.randomize(nested, 54);
        for (int i = 0; i < flat.params().size(); i++) {
            assertArrayEquals(flat.params().get(i).value, nested.params().get(i).value, "parameter " + i);
        }
        Shape in = new Shape(1, 20, 1, 1);
        float[] x = CertifyFixtures.point(20, 55);
        for (boolean zonotope : new boolean[]{false, true}) {
            Certifier.Propagation last = null;
            for (int b : new int[]{0, 2, 4, 5, Certifier.Options.ALL_LAYERS}) {
                Certifier.Options o = Certifier.Options.defaults(2).withTightenLayers(b).withZonotope(zonotope);
                Certifier.Propagation pf = new Certifier(flat, in, 2, 2, o).propagate(x, 0.05, 1);
                Certifier.Propagation pn = new Certifier(nested, in, 2, 2, o).propagate(x, 0.05, 1);
                assertArrayEquals(pf.logits().lo(), pn.logits().lo(), "budget " + b + " logits");
                assertArrayEquals(pf.logits().hi(), pn.logits().hi(), "budget " + b + " logits");
                assertArrayEquals(pf.marginLower(), pn.marginLower(), "budget " + b + " margins");
                assertArrayEquals(pf.jacobian().lo(), pn.jacobian().lo(), "budget " + b + " jacobian");
                assertArrayEquals(pf.jacobian().hi(), pn.jacobian().hi(), "budget " + b + " jacobian");
                if (last != null && !zonotope) { // the zonotope alone leaves nothing open here
                    assertTrue(!java.util.Arrays.equals(last.jacobian().hi(), pf.jacobian().hi()),
                            "budget " + b + " gives the previous budget's Jacobian bounds");
                }
                last = pf;
            }
        }
    }

    /**
     * The logit and margin rows pulled back as windows, rows in parallel (through a residual network,
     * whose blocks have no windowed form, and the small CNN) equal the dense batch to 1e-7 (the windowed
     * convolution bounds a row's rounding per input channel, a little wider) at every budget, and at
     * eps = 0 both give the point's margins within rounding.
     */
    @Test
    void windowedOutputRowsMatchTheDenseBatch() {
        record Case(Sequential net, Shape in) {}
        for (Case k : List.of(new Case(CertifyFixtures.blockNet(56), CertifyFixtures.BLOCK_IN),
                new Case(CertifyFixtures.cnnNet(57), CertifyFixtures.CNN_IN))) {
            float[] x = CertifyFixtures.point(k.in().size(), 58);
            for (int b : new int[]{0, 1, Certifier.Options.ALL_LAYERS}) {
                for (double eps : new double[]{0, 0.02, 0.1}) {
                    Certifier.Options o = Certifier.Options.defaults(2).withTightenLayers(b).withSignsFirst(false);
                    Certifier win = new Certifier(k.net(), k.in(), 2, 2, o);
                    Certifier dense = new Certifier(k.net(), k.in(), 2, 2, o.withWindowed(false));
                    Certifier.Propagation pw = win.propagate(x, eps, 0), pd = dense.propagate(x, eps, 0);
                    String what = k.net().name() + " budget " + b + " eps " + eps;
                    for (int t = 0; t < pd.marginLower().length; t++) {
                        assertEquals(pd.marginLower()[t], pw.marginLower()[t], 1e-7 * (1 + Math.abs(pd.marginLower()[t])),
                                what + " margin " + t);
                    }
                    for (int j = 0; j < pd.logits().size(); j++) {
                        double tol = 1e-7 * (1 + Math.abs(pd.logits().lo()[j]) + Math.abs(pd.logits().hi()[j]));
                        assertEquals(pd.logits().lo()[j], pw.logits().lo()[j], tol, what + " logit lo " + j);
                        assertEquals(pd.logits().hi()[j], pw.logits().hi()[j], tol, what + " logit hi " + j);
                    }
                    if (eps == 0) {
                        float[] z = k.net().forward(new dev.opnorm.nn.Tensor(k.in(), x.clone())).data;
                        for (int j = 1; j < z.length; j++) {
                            double m = (double) z[0] - z[j];
                            assertEquals(m, pw.marginLower()[j - 1], 1e-5 * (1 + Math.abs(m)), what + " point margin " + j);
                        }
                    }
                }
            }
        }
    }

    /**
     * The (2,2) upper bound over the ball holds at every budget: no uniform sample of the l_2 ball of the
     * small CNN, nor the search's best point, has a larger power-iteration norm (1e-5 for the float
     * network's rounding), and tightening more layers never raises the upper bound.
     */
    @Test
    void jacobianUpperHoldsAtEveryBudget() {
        Sequential net = CertifyFixtures.cnnNet(59);
        Shape in = CertifyFixtures.CNN_IN;
        float[] x = CertifyFixtures.point(in.size(), 60);
        double eps = 0.1, last = Double.POSITIVE_INFINITY;
        for (int b : new int[]{0, 1, 3, Certifier.Options.ALL_LAYERS}) {
            Certifier c = new Certifier(net, in, 2, 2, Certifier.Options.defaults(2).withSearch(6, 12).withTightenLayers(b));
            Bracket br = c.ball(x, eps);
            String what = "budget " + b;
            assertTrue(br.estimate() <= br.upper() * (1 + 1e-5), what + ": search " + br.estimate() + " > " + br.upper());
            assertTrue(br.upper() <= last * (1 + 1e-12), what + ": upper " + br.upper() + " above the smaller budget's " + last);
            last = br.upper();
            dev.opnorm.nn.util.Rng rng = new dev.opnorm.nn.util.Rng(61 + b);
            float[] y = new float[x.length];
            for (int s = 0; s < 100; s++) {
                dev.opnorm.robust.attack.BallSampling.uniform(2, eps, x.length, rng, y, 0);
                for (int i = 0; i < y.length; i++) {
                    y[i] += x[i];
                }
                double est = c.estimate(y).value();
                assertTrue(est <= br.upper() * (1 + 1e-5), what + ": sample " + s + " has " + est + " > " + br.upper());
            }
        }
    }

    @Test
    void negativeBudgetIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Certifier.Options.defaults(2).withTightenLayers(-1));
        assertTrue(e.getMessage().contains("tightenLayers"), e.getMessage());
    }

    /** A network, its input shape, the ball radius, its number of ReLU layers, whether every layer has open units. */
    private record Case(Sequential net, Shape in, double eps, int relus, boolean strict) {}

    /** Every layer's output box along the chain (budget &lt; 0: plain interval propagation). */
    private static List<Box> walk(Case k, float[] x, double ballP, int budget) {
        Sequential net = k.net();
        Shape in = k.in();
        double eps = k.eps();
        Certifier.Options o = Certifier.Options.defaults(ballP).withZonotope(false); // the budget alone decides
        Certifier c = new Certifier(net, in, 2, 2, budget < 0 ? o.withLinear(false) : o.withTightenLayers(budget));
        Box box = Box.around(in, x, eps, Double.NEGATIVE_INFINITY, INF);
        Backsub back = c.backsub(x, eps);
        List<Box> out = new ArrayList<>();
        for (Layer layer : net.chain()) {
            box = back.prior(box);
            BoundStep s = layer.bounds().over(box, back);
            back = back.after(s, box);
            box = s.output();
            out.add(box);
        }
        return out;
    }

    /** The index in the chain of the b-th ReLU layer (b &gt;= 1). */
    private static int reluAt(Sequential net, int b) {
        List<Layer> chain = net.chain();
        for (int li = 0, seen = 0; li < chain.size(); li++) {
            if (chain.get(li) instanceof ReLU && ++seen == b) {
                return li;
            }
        }
        throw new IllegalArgumentException(net.name() + " has fewer than " + b + " ReLU layers");
    }

    /** ReLU units left open (output [0, hi], hi &gt; 0) over all ReLU layers. */
    private static int open(Sequential net, List<Box> boxes) {
        int n = 0;
        List<Layer> chain = net.chain();
        for (int li = 0; li < chain.size(); li++) {
            if (chain.get(li) instanceof ReLU) {
                Box b = boxes.get(li);
                for (int j = 0; j < b.size(); j++) {
                    n += b.lo()[j] == 0 && b.hi()[j] > 0 ? 1 : 0;
                }
            }
        }
        return n;
    }

    private static void assertSame(List<Box> a, List<Box> b, int from, int to, String what) {
        for (int li = from; li < to; li++) {
            assertArrayEquals(a.get(li).lo(), b.get(li).lo(), what + " layer " + li + " lo");
            assertArrayEquals(a.get(li).hi(), b.get(li).hi(), what + " layer " + li + " hi");
        }
    }

    private static void assertNested(Box inner, Box outer, String what) {
        for (int j = 0; j < inner.size(); j++) {
            double slack = 1e-12 * (Math.abs(outer.lo()[j]) + Math.abs(outer.hi()[j])) + 1e-300;
            assertTrue(outer.lo()[j] <= inner.lo()[j] + slack && inner.hi()[j] <= outer.hi()[j] + slack,
                    what + " unit " + j + ": [" + inner.lo()[j] + ", " + inner.hi()[j] + "] not in [" + outer.lo()[j]
                            + ", " + outer.hi()[j] + "]");
        }
    }
}
