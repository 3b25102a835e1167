package dev.opnorm.robust.certify;

import dev.opnorm.linalg.ExactNorms;
import dev.opnorm.linalg.Jacobians;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.bounds.IntervalRows;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.AttackResult;
import dev.opnorm.robust.attack.BallSampling;
import dev.opnorm.robust.attack.Pga;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CertifierTest {
    static final double INF = Double.POSITIVE_INFINITY;
    static final double[] PS = {1, 2, INF};

    /** The exact norm of the float network's extracted Jacobian at x, where a closed form or enumeration has it. */
    static Optional<Double> exactAt(Layer net, Shape in, float[] x, double p, double q) {
        Linearization lin = net.linearize(new Tensor(in, x.clone()), BnMode.EVAL);
        DMatrixRMaj j = Jacobians.extract(lin.asLinearMap(0));
        return ExactNorms.of(j, p, q).map(ExactNorms.Exact::value);
    }

    /**
     * The logit and margin rows pulled back one per task, in parallel, are the batch pulled back at once, bit
     * for bit (every rule pulls each row back on its own; the convolutions' batched form, vectorized over the
     * rows, sums each row's terms in that row's order), on networks with every rule (convolutions,
     * BatchNorm, ReLU, max pooling, pre-activation blocks, linear), at the point and over a ball.
     */
    @Test
    void rowsPulledBackInParallelAreTheBatch() {
        record Case(Sequential net, Shape in) {}
        for (Case k : java.util.List.of(new Case(CertifyFixtures.blockNet(61), CertifyFixtures.BLOCK_IN),
                new Case(CertifyFixtures.cnnNet(62), CertifyFixtures.CNN_IN))) {
            float[] x = CertifyFixtures.point(k.in().size(), 63);
            for (double eps : new double[]{0, 0.05}) {
                Certifier c = new Certifier(k.net(), k.in(), 2, 2, Certifier.Options.defaults(2));
                var box = dev.opnorm.nn.bounds.Box.around(k.in(), x, eps, Double.NEGATIVE_INFINITY,
                        Double.POSITIVE_INFINITY);
                var step = k.net().bounds().over(box, c.backsub(x, eps));
                int outs = step.output().size();
                double[][] g = new double[2 * outs - 1][outs];
                for (int i = 0; i < outs; i++) {
                    g[i][i] = 1;
                }
                for (int j = 1; j < outs; j++) {
                    g[outs - 1 + j][0] = 1;
                    g[outs - 1 + j][j] = -1;
                }
                IntervalRows batch = step.pullback(IntervalRows.exact(g)), rows = Certifier.pullbackRows(step, g);
                assertEquals(batch.rows(), rows.rows());
                assertTrue(java.util.Arrays.equals(batch.lo(), rows.lo()) && java.util.Arrays.equals(batch.hi(), rows.hi()),
                        k.net().name() + " eps " + eps);
            }
        }
    }

    /**
     * Over B_p(x, eps), every cell (p,q) with the ball in the same p: no point of 150 uniform samples, nor
     * the search's own best point, has a power-iteration or exact norm above the certified upper bound
     * (float network: 1e-5 relative for its rounding), and the sound lower bound never exceeds it.
     */
    @Test
    void noSampledPointExceedsTheBallUpperBound() {
        checkSamples(CertifyFixtures.convNet(1), CertifyFixtures.CONV_IN, 0.15, 11);
        checkSamples(CertifyFixtures.blockNet(2), CertifyFixtures.BLOCK_IN, 0.1, 12);
    }

    private static void checkSamples(Sequential net, Shape in, double eps, long seed) {
        float[] x = CertifyFixtures.point(in.size(), seed);
        for (double p : PS) {
            for (double q : PS) {
                Certifier c = new Certifier(net, in, p, q, Certifier.Options.defaults(p).withSearch(6, 12));
                Bracket b = c.ball(x, eps);
                String what = "(" + p + "," + q + ") " + net.name();
                assertTrue(c.inside(x, eps, b.at()), what + ": lower bound's point outside the ball");
                assertTrue(b.estimate() <= b.upper() * (1 + 1e-5), what + ": search " + b.estimate() + " > " + b.upper());
                Rng rng = new Rng(seed * 7 + (long) (p * 3 + q));
                float[] y = new float[x.length];
                for (int s = 0; s < 150; s++) {
                    BallSampling.uniform(p, eps, x.length, rng, y, 0);
                    for (int i = 0; i < y.length; i++) {
                        y[i] += x[i];
                    }
                    double est = c.estimate(y).value();
                    assertTrue(est <= b.upper() * (1 + 1e-5), what + ": sample " + s + " has " + est + " > " + b.upper());
                    Optional<Double> e = exactAt(net, in, y, p, q);
                    if (e.isPresent()) {
                        assertTrue(e.get() <= b.upper() * (1 + 1e-5), what + ": sample " + s + " exact " + e.get() + " > " + b.upper());
                    }
                }
            }
        }
    }

    /**
     * A 2-6-3 ReLU network on the plane: its Jacobian is constant on each cell of an arrangement of 6
     * lines, so the supremum over a polygonal ball (l1, l_inf) is the largest exact norm over the
     * activation patterns whose cell meets the ball, found by clipping the ball polygon with each
     * pattern's half-planes. That supremum must lie in [lower, upper], in every cell (p,q).
     */
    @Test
    void planeSupremumByRegionEnumerationLiesInTheBracket() {
        Shape in = new Shape(1, 2, 1, 1);
        for (long seed = 0; seed < 3; seed++) {
            Sequential net = CertifyFixtures.plane(6, 3, 100 + seed);
            PlaneRegions regions = new PlaneRegions(net);
            float[] x = CertifyFixtures.point(2, 200 + seed);
            for (double ballP : new double[]{1, INF}) {
                for (double eps : new double[]{0.25, 1.5}) {
                    for (double p : PS) {
                        for (double q : PS) {
                            Certifier c = new Certifier(net, in, p, q, Certifier.Options.defaults(ballP).withSearch(20, 40));
                            Bracket b = c.ball(x, eps);
                            double sup = regions.supremum(x, eps, ballP, p, q);
                            String what = "seed " + seed + " ball l" + ballP + " eps " + eps + " (" + p + "," + q + ")";
                            assertTrue(b.lower() <= sup * (1 + 1e-5) + 1e-12, what + ": lower " + b.lower() + " > sup " + sup);
                            assertTrue(sup <= b.upper() * (1 + 1e-9), what + ": sup " + sup + " > upper " + b.upper());
                        }
                    }
                }
            }
        }
    }

    /** A deeper plane network (2-5-5-3): the largest norm on a dense grid of the l2 ball stays below the upper bound. */
    @Test
    void deeperPlaneNetworkGridStaysBelowUpper() {
        Shape in = new Shape(1, 2, 1, 1);
        Sequential net = new Sequential("deep", new dev.opnorm.nn.layers.Linear("0", 2, 5, true, CertifyFixtures.K),
                new dev.opnorm.nn.layers.ReLU("1", CertifyFixtures.K),
                new dev.opnorm.nn.layers.Linear("2", 5, 5, true, CertifyFixtures.K),
                new dev.opnorm.nn.layers.ReLU("3", CertifyFixtures.K),
                new dev.opnorm.nn.layers.Linear("4", 5, 3, true, CertifyFixtures.K));
        CertifyFixtures.randomize(net, 7);
        float[] x = {0.2f, -0.4f};
        double eps = 0.8;
        for (double p : PS) {
            for (double q : PS) {
                Certifier c = new Certifier(net, in, p, q, Certifier.Options.defaults(2));
                double upper = c.ball(x, eps).upper();
                int n = 120;
                for (int i = 0; i <= n; i++) {
                    for (int j = 0; j <= n; j++) {
                        float[] y = {(float) (x[0] + eps * (2.0 * i / n - 1)), (float) (x[1] + eps * (2.0 * j / n - 1))};
                        if (!c.inside(x, eps, y)) {
                            continue;
                        }
                        double e = exactAt(net, in, y, p, q).orElseGet(() -> c.estimate(y).value());
                        assertTrue(e <= upper * (1 + 1e-5), "(" + p + "," + q + ") at " + y[0] + "," + y[1] + ": " + e + " > " + upper);
                    }
                }
            }
        }
    }

    /**
     * eps = 0 gives the point bracket: the same lower bound, and the interval upper bound within float
     * rounding of the extracted Jacobian's (random inputs have no max-pool ties); the bracket holds the
     * exact value at x and is tight where it is exact.
     */
    @Test
    void zeroRadiusGivesThePointBracket() {
        Sequential net = CertifyFixtures.convNet(3);
        float[] x = CertifyFixtures.point(36, 4);
        for (double p : PS) {
            for (double q : PS) {
                Certifier c = new Certifier(net, CertifyFixtures.CONV_IN, p, q, Certifier.Options.defaults(p));
                Bracket point = c.point(x), ball = c.ball(x, 0);
                String what = "(" + p + "," + q + ")";
                assertEquals(point.lower(), ball.lower(), 0, what);
                assertEquals(point.upper(), ball.upper(), 1e-5 * point.upper(), what);
                Optional<Double> e = exactAt(net, CertifyFixtures.CONV_IN, x, p, q);
                if (e.isPresent()) {
                    double v = e.get();
                    assertTrue(point.lower() <= v * (1 + 1e-12) && v <= point.upper() * (1 + 1e-12), what + ": " + point + " vs " + v);
                    if (!(p == INF && q == 2)) { // (inf,2) over 36 inputs is a bound with a gap
                        assertTrue(point.upper() - point.lower() <= 1e-12 * point.upper(), what + " gap " + point);
                    }
                }
                assertTrue(point.estimate() <= point.upper() * (1 + 1e-6), what);
            }
        }
    }

    /**
     * The interval logits and Jacobians are nested as eps grows (to the rounding allowance),
     * and the reported uppers never grow as eps shrinks.
     */
    @Test
    void boundsAreNestedAndUppersShrinkWithEps() {
        Sequential net = CertifyFixtures.blockNet(5);
        float[] x = CertifyFixtures.point(CertifyFixtures.BLOCK_IN.size(), 6);
        Certifier c = new Certifier(net, CertifyFixtures.BLOCK_IN, 2, 2, Certifier.Options.defaults(2));
        double[] eps = {0, 0.01, 0.03, 0.1, 0.3};
        double[] raw = new double[eps.length];
        Certifier.Propagation prev = null;
        for (int i = 0; i < eps.length; i++) {
            Certifier.Propagation now = c.propagate(x, eps[i], 1);
            raw[i] = c.upper(now.jacobian()).value();
            if (prev != null) {
                assertNested(prev.jacobian(), now.jacobian(), "jacobian at eps " + eps[i]);
                assertNested(prev.margins(), now.margins(), "margins at eps " + eps[i]);
                for (int j = 0; j < now.logits().size(); j++) {
                    double slack = 1e-12 * Math.abs(prev.logits().hi()[j]) + 1e-300;
                    assertTrue(now.logits().lo()[j] <= prev.logits().lo()[j] + slack
                            && prev.logits().hi()[j] <= now.logits().hi()[j] + slack, "logit " + j + " at eps " + eps[i]);
                }
            }
            prev = now;
        }
        double[] mono = Certifier.monotoneUppers(eps, raw);
        for (int i = 0; i < eps.length; i++) {
            assertTrue(mono[i] <= raw[i]);
            if (i > 0) {
                assertTrue(mono[i - 1] <= mono[i], "upper grew as eps shrank at " + eps[i - 1]);
            }
        }
        assertTrue(raw[eps.length - 1] > raw[0], "the bound should widen over a large ball");
        double[] lows = Certifier.monotoneLowers(eps, new double[]{3, 1, 4, 1, 5});
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[]{3, 3, 4, 4, 5}, lows);
        double[] shuffled = Certifier.monotoneUppers(new double[]{0.3, 0, 0.1}, new double[]{2, 5, 7});
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[]{2, 2, 2}, shuffled);
    }

    private static void assertNested(IntervalRows inner, IntervalRows outer, String what) {
        for (int t = 0; t < inner.lo().length; t++) {
            // nested up to the rounding allowance: the outward-rounding terms are not monotone themselves
            double slack = 1e-12 * Math.max(Math.abs(inner.lo()[t]), Math.abs(inner.hi()[t])) + 1e-300;
            assertTrue(outer.lo()[t] <= inner.lo()[t] + slack && inner.hi()[t] <= outer.hi()[t] + slack, what + " entry " + t + ": ["
                    + inner.lo()[t] + ", " + inner.hi()[t] + "] not in [" + outer.lo()[t] + ", " + outer.hi()[t] + "]");
        }
    }

    /**
     * Points certified at eps (for the float network's own prediction) are never successfully attacked
     * by PGA in the same ball; at least one point is certified and at least one is not, so both sides
     * are exercised.
     */
    @Test
    void certifiedPointsAreNeverAttackedSuccessfully() {
        Sequential net = CertifyFixtures.convNet(8);
        Shape in = CertifyFixtures.CONV_IN;
        int n = 24;
        for (double ballP : PS) {
            double[] epsList = ballP == 1 ? new double[]{0.05, 0.4, 3} : ballP == 2 ? new double[]{0.02, 0.15, 1.5}
                    : new double[]{0.005, 0.3};
            int certified = 0, notCertified = 0;
            for (double eps : epsList) {
                Certifier c = new Certifier(net, in, ballP, 2, Certifier.Options.defaults(ballP).withDomain(-1, 1));
                Tensor xs = new Tensor(new Shape(n, 1, 6, 6));
                for (int i = 0; i < n; i++) {
                    System.arraycopy(CertifyFixtures.point(36, 300 + i), 0, xs.data, i * 36, 36);
                }
                AttackResult attack = Pga.lp(ballP, eps).iterations(40).restarts(2).seed(9).attackPredicted(net, xs, 0);
                for (int i = 0; i < n; i++) {
                    float[] x = java.util.Arrays.copyOfRange(xs.data, i * 36, i * 36 + 36);
                    Certificate cert = c.certify(x, attack.cleanPredictions()[i], eps);
                    if (cert.certified()) {
                        certified++;
                        assertTrue(!attack.success()[i], "l" + ballP + " eps " + eps + " point " + i
                                + " certified (margin >= " + cert.marginLower() + ") but PGA succeeded");
                    } else {
                        notCertified++;
                    }
                }
            }
            assertTrue(certified > 0 && notCertified > 0, "l" + ballP + ": certified " + certified + ", not " + notCertified);
        }
    }

    /** A layer without an interval rule is refused by name. */
    @Test
    void unsupportedLayerIsNamed() {
        Layer odd = new Layer() {
            @Override
            public String name() {
                return "odd";
            }

            @Override
            public Shape outputShape(Shape in) {
                return in;
            }

            @Override
            public Tensor forward(Tensor x) {
                return x;
            }

            @Override
            public Linearization linearize(Tensor x, BnMode mode) {
                throw new UnsupportedOperationException();
            }
        };
        Sequential net = new Sequential("n", new dev.opnorm.nn.layers.Flatten("0", CertifyFixtures.K), odd);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> new Certifier(net, new Shape(1, 1, 2, 2), 2, 2, Certifier.Options.defaults(2)));
        assertTrue(e.getMessage().contains("'odd'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Certifier(CertifyFixtures.plane(3, 2, 1), new Shape(1, 2, 1, 1),
                3, 2, Certifier.Options.defaults(2)));
    }
}
