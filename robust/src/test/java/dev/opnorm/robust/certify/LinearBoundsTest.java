package dev.opnorm.robust.certify;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.bounds.Backsub;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.bounds.IntervalRows;
import dev.opnorm.nn.bounds.LinearRows;
import dev.opnorm.nn.bounds.Zonotope;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.BallSampling;
import dev.opnorm.robust.attack.Pga;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Linear back-substitution bounds (CROWN style) over l_1, l_2 and l_inf balls. */
class LinearBoundsTest {
    static final double INF = Double.POSITIVE_INFINITY;

    /**
     * At the output of every layer of the chain (pre-activations included), the back-substituted bounds
     * +-e_j and the propagated box hold the values of every test point of the ball: uniform samples,
     * extreme points (corners of the l_inf ball, vertices of the l_1 ball, points of the l_2 sphere) and
     * PGA's adversarial points; so does the zonotope tracked alongside ({@link Zonotope#box}); the margins'
     * linear lower bounds hold at each point too.
     */
    @Test
    void boundsHoldEveryPointOfTheBall() {
        check(CertifyFixtures.convNet(21), CertifyFixtures.CONV_IN, new double[]{0.3, 0.1, 0.03}, 31, o -> o);
        check(CertifyFixtures.blockNet(22), CertifyFixtures.BLOCK_IN, new double[]{0.4, 0.15, 0.05}, 32, o -> o);
        check(deepPlane(23), new Shape(1, 2, 1, 1), new double[]{0.8, 0.6, 0.5}, 33, o -> o);
    }

    /**
     * The same on the small CNN, for each way of pulling rows back: dense (the reference), windowed (signs
     * first, and both rows of every unit in full), either without the zonotope's boxes, windowed with rows stopped early at an intermediate layer's box, with the cheap first pass, and with
     * pre-activations tightened in none, one, three (dense) or all of the ReLU layers.
     */
    @Test
    void everyPullbackPathHoldsEveryPointOfTheBall() {
        List<java.util.function.UnaryOperator<Certifier.Options>> paths = List.of(o -> o.withWindowed(false), o -> o,
                o -> o.withZonotope(false), o -> o.withZonotope(false).withWindowed(false),
                o -> o.withSignsFirst(false), o -> o.withMaxRowSize(20), o -> o.withProbeRowSize(10).withMaxRowSize(60), o -> o.withTightenLayers(0),
                o -> o.withTightenLayers(1), o -> o.withTightenLayers(Certifier.Options.ALL_LAYERS),
                o -> o.withWindowed(false).withTightenLayers(3));
        for (var path : paths) {
            check(CertifyFixtures.cnnNet(24), CertifyFixtures.CNN_IN, new double[]{0.5, 0.15, 0.04}, 34, path);
        }
    }

    /**
     * Windowed rows give the reference's bounds up to rounding, on the small CNN at three radii and ball
     * norms: the interval Jacobian, margins and every layer's box to 1e-9, with the same ReLUs left open;
     * stopped early or with the first pass they stay sound (above) and no looser than interval bounds.
     */
    @Test
    void windowedRowsMatchTheDenseReference() {
        Sequential net = CertifyFixtures.cnnNet(25);
        Shape in = CertifyFixtures.CNN_IN;
        for (double ballP : new double[]{1, 2, INF}) {
            for (double eps : new double[]{0.01, 0.05, 0.2}) {
                double e = ballP == 1 ? 4 * eps : ballP == 2 ? eps : eps / 4;
                float[] x = CertifyFixtures.point(in.size(), 45);
                Certifier.Options base = Certifier.Options.defaults(ballP).withProbeRowSize(0).withSignsFirst(false);
                Certifier ref = new Certifier(net, in, 2, 2, base.withWindowed(false));
                Certifier win = new Certifier(net, in, 2, 2, base);
                Certifier early = new Certifier(net, in, 2, 2, base.withMaxRowSize(30).withProbeRowSize(12));
                Certifier box = new Certifier(net, in, 2, 2, base.withLinear(false));
                String what = "l" + ballP + " eps " + e;
                // every layer's box, through the chain
                Box bRef = Box.around(in, x, e, Double.NEGATIVE_INFINITY, INF), bWin = bRef, bEarly = bRef, bBox = bRef;
                Backsub sRef = ref.backsub(x, e), sWin = win.backsub(x, e), sEarly = early.backsub(x, e);
                int unstableRef = 0, unstableWin = 0;
                for (Layer layer : net.chain()) {
                    bRef = sRef.prior(bRef);
                    bWin = sWin.prior(bWin);
                    bEarly = sEarly.prior(bEarly);
                    BoundStep r = layer.bounds().over(bRef, sRef), w = layer.bounds().over(bWin, sWin);
                    BoundStep y = layer.bounds().over(bEarly, sEarly), z = layer.bounds().over(bBox);
                    sRef = sRef.after(r, bRef);
                    sWin = sWin.after(w, bWin);
                    sEarly = sEarly.after(y, bEarly);
                    bRef = r.output();
                    bWin = w.output();
                    bEarly = y.output();
                    bBox = z.output();
                    for (int j = 0; j < bRef.size(); j++) {
                        double tol = 1e-9 * (1 + Math.abs(bRef.lo()[j]) + Math.abs(bRef.hi()[j]));
                        assertEquals(bRef.lo()[j], bWin.lo()[j], tol, what + " " + layer.name() + " lo " + j);
                        assertEquals(bRef.hi()[j], bWin.hi()[j], tol, what + " " + layer.name() + " hi " + j);
                        assertTrue(bEarly.lo()[j] >= bBox.lo()[j] - tol && bEarly.hi()[j] <= bBox.hi()[j] + tol,
                                what + " " + layer.name() + " early stop looser than intervals at " + j);
                        if (layer instanceof ReLU) {
                            unstableRef += bRef.lo()[j] == 0 && bRef.hi()[j] > 0 ? 1 : 0;
                            unstableWin += bWin.lo()[j] == 0 && bWin.hi()[j] > 0 ? 1 : 0;
                        }
                    }
                }
                assertEquals(unstableRef, unstableWin, what + ": ReLUs left open");
                Certifier.Propagation pr = ref.propagate(x, e, 1), pw = win.propagate(x, e, 1);
                for (int t = 0; t < pr.marginLower().length; t++) { // windowed output rows too
                    assertEquals(pr.marginLower()[t], pw.marginLower()[t], 1e-9 * (1 + Math.abs(pr.marginLower()[t])),
                            what + " margin " + t);
                }
                for (int t = 0; t < pr.jacobian().lo().length; t++) {
                    double tol = 1e-9 * (1 + Math.abs(pr.jacobian().lo()[t]) + Math.abs(pr.jacobian().hi()[t]));
                    assertEquals(pr.jacobian().lo()[t], pw.jacobian().lo()[t], tol, what + " jacobian " + t);
                    assertEquals(pr.jacobian().hi()[t], pw.jacobian().hi()[t], tol, what + " jacobian " + t);
                }
            }
        }
    }

    /** The quick profile's seven-layer CNN, narrow (width 1/32), on 32 x 32 inputs in [-1, 1]. */
    private static final java.util.function.Supplier<Sequential> SEVEN =
            () -> dev.opnorm.nn.models.Models.create("cnn7-w0.03125", 1, 10, 7, CertifyFixtures.K);
    private static final Shape SEVEN_IN = new Shape(1, 1, 32, 32);

    /** l_2 ball, domain [-1, 1], every ReLU layer tightened. */
    private static Certifier.Options sevenOptions() {
        return Certifier.Options.defaults(2).withDomain(-1, 1).withTightenLayers(Certifier.Options.ALL_LAYERS);
    }

    /**
     * Windowed rows stay as tight as the dense reference through a deep network: the quick profile's
     * seven-layer CNN (narrow, 32 x 32 input) at a small l_2 radius, every layer's box and the margins to
     * 1e-9 relative. Their rounding terms are bounded per entry; bounding them by a row's largest entry
     * compounds layer after layer (each conv multiplies it by a channel's total |W|) into boxes wider
     * than the interval ones.
     */
    @Test
    void windowedRowsStayAsTightAsDenseThroughSevenLayers() {
        Sequential net = SEVEN.get();
        Shape in = SEVEN_IN;
        float[] x = CertifyFixtures.point(in.size(), 46);
        double eps = 1e-3;
        Certifier.Options base = sevenOptions().withSignsFirst(false);
        Certifier ref = new Certifier(net, in, 2, 2, base.withWindowed(false));
        Certifier win = new Certifier(net, in, 2, 2, base);
        Box bRef = Box.around(in, x, eps, -1, 1), bWin = bRef;
        Backsub sRef = ref.backsub(x, eps), sWin = win.backsub(x, eps);
        double widest = 0;
        for (Layer layer : net.chain()) {
            bRef = sRef.prior(bRef);
            bWin = sWin.prior(bWin);
            BoundStep r = layer.bounds().over(bRef, sRef), w = layer.bounds().over(bWin, sWin);
            sRef = sRef.after(r, bRef);
            sWin = sWin.after(w, bWin);
            bRef = r.output();
            bWin = w.output();
            for (int j = 0; j < bRef.size(); j++) {
                double tol = 1e-9 * (1 + Math.abs(bRef.lo()[j]) + Math.abs(bRef.hi()[j]));
                assertEquals(bRef.lo()[j], bWin.lo()[j], tol, layer.name() + " lo " + j);
                assertEquals(bRef.hi()[j], bWin.hi()[j], tol, layer.name() + " hi " + j);
                widest = Math.max(widest, bRef.hi()[j] - bRef.lo()[j]);
            }
        }
        assertTrue(widest > 1e-6, "the radius must make the bounds more than rounding: " + widest);
        Certifier.Propagation pr = ref.propagate(x, eps, 3), pw = win.propagate(x, eps, 3);
        for (int t = 0; t < pr.marginLower().length; t++) {
            assertEquals(pr.marginLower()[t], pw.marginLower()[t], 1e-9 * (1 + Math.abs(pr.marginLower()[t])), "margin " + t);
        }
    }

    /**
     * Signs first ({@link Certifier.Options#signsFirst}, the default) on the narrow seven-layer CNN: the same
     * ReLUs on, off and open in every layer as both rows of every unit in full, the margins within 1e-6
     * relative, and (without the zonotope, whose boxes are tight already) boxes that differ (the stable units'
     * unused ends keep their interval bounds: the rows were not all pulled back in full). With the zonotope too.
     */
    @Test
    void signsFirstLeavesTheSameReluStatesAsTheFullPass() {
        Sequential net = SEVEN.get();
        Shape in = SEVEN_IN;
        float[] x = CertifyFixtures.point(in.size(), 46);
        double eps = 1e-3;
        for (boolean zonotope : new boolean[]{false, true}) {
            Certifier.Options base = sevenOptions().withZonotope(zonotope);
            Certifier full = new Certifier(net, in, 2, 2, base.withSignsFirst(false));
            Certifier fast = new Certifier(net, in, 2, 2, base);
            Box bFull = Box.around(in, x, eps, -1, 1), bFast = bFull;
            Backsub sFull = full.backsub(x, eps), sFast = fast.backsub(x, eps);
            int relus = 0, open = 0, wider = 0;
            for (Layer layer : net.chain()) {
                bFull = sFull.prior(bFull);
                bFast = sFast.prior(bFast);
                BoundStep r = layer.bounds().over(bFull, sFull), f = layer.bounds().over(bFast, sFast);
                sFull = sFull.after(r, bFull);
                sFast = sFast.after(f, bFast);
                if (layer instanceof dev.opnorm.nn.layers.ReLU) {
                    relus++;
                    for (int j = 0; j < bFull.size(); j++) {
                        boolean onFull = r.output().lo()[j] > 0, onFast = f.output().lo()[j] > 0;
                        boolean offFull = r.output().hi()[j] <= 0, offFast = f.output().hi()[j] <= 0;
                        assertEquals(onFull, onFast, layer.name() + " on " + j);
                        assertEquals(offFull, offFast, layer.name() + " off " + j);
                        open += onFull || offFull ? 0 : 1;
                    }
                }
                bFull = r.output();
                bFast = f.output();
                for (int j = 0; j < bFull.size(); j++) {
                    wider += bFast.hi()[j] - bFast.lo()[j] > (bFull.hi()[j] - bFull.lo()[j]) * (1 + 1e-6) ? 1 : 0;
                }
            }
            assertEquals(7, relus);
            assertTrue(open > 0 && (zonotope || wider > 0), "open ReLUs " + open + ", wider boxes " + wider);
            Certifier.Propagation pf = full.propagate(x, eps, 3), ps = fast.propagate(x, eps, 3);
            for (int t = 0; t < pf.marginLower().length; t++) {
                assertEquals(pf.marginLower()[t], ps.marginLower()[t], 1e-6 * (1 + Math.abs(pf.marginLower()[t])),
                        "margin " + t);
            }
        }
    }

    private static void check(Sequential net, Shape in, double[] epsByP, long seed,
                              java.util.function.UnaryOperator<Certifier.Options> path) {
        double[] ps = {1, 2, INF};
        for (int pi = 0; pi < ps.length; pi++) {
            double ballP = ps[pi], eps = epsByP[pi];
            float[] x = CertifyFixtures.point(in.size(), seed);
            Certifier c = new Certifier(net, in, 2, 2, path.apply(Certifier.Options.defaults(ballP)));
            List<float[]> pts = points(net, in, x, ballP, eps, seed);
            List<Layer> chain = net.chain();
            Backsub back = c.backsub(x, eps);
            Box box = Box.around(in, x, eps, Double.NEGATIVE_INFINITY, INF);
            List<float[]> acts = new ArrayList<>(pts);
            int zonotopes = 0;
            String what = net.name() + " l" + ballP + " eps " + eps;
            for (int li = 0; li < chain.size(); li++) {
                Layer layer = chain.get(li);
                box = back.prior(box);
                BoundStep step = layer.bounds().over(box, back);
                back = back.after(step, box);
                box = step.output();
                Zonotope zono = back.zonotope();
                Box zBox = zono == null ? null : zono.box();
                zonotopes += zBox == null ? 0 : 1;
                int n = box.size();
                Shape shape = box.shape();
                for (int t = 0; t < acts.size(); t++) {
                    acts.set(t, layer.forward(new Tensor(acts.get(t) == pts.get(t) ? in : prevShape(chain, li, in),
                            acts.get(t).clone())).data);
                }
                double[][] rows = new double[2 * n][n];
                for (int j = 0; j < n; j++) {
                    rows[2 * j][j] = 1;
                    rows[2 * j + 1][j] = -1;
                }
                double[] l = back.lower(LinearRows.exact(rows));
                for (int t = 0; t < acts.size(); t++) {
                    float[] a = acts.get(t);
                    for (int j = 0; j < n; j++) {
                        double tol = 1e-5 * (1 + Math.abs(a[j])); // float network vs exact arithmetic
                        assertTrue(a[j] >= l[2 * j] - tol && a[j] <= -l[2 * j + 1] + tol, what + " layer " + li + " ("
                                + layer.name() + ", " + shape + ") unit " + j + " point " + t + ": " + a[j] + " not in ["
                                + l[2 * j] + ", " + -l[2 * j + 1] + "]");
                        assertTrue(a[j] >= box.lo()[j] - tol && a[j] <= box.hi()[j] + tol, what + " layer " + li + " box");
                        assertTrue(zBox == null || a[j] >= zBox.lo()[j] - tol && a[j] <= zBox.hi()[j] + tol, what + " layer "
                                + li + " (" + layer.name() + ") unit " + j + " point " + t + ": " + a[j] + " not in zonotope ["
                                + (zBox == null ? 0 : zBox.lo()[j]) + ", " + (zBox == null ? 0 : zBox.hi()[j]) + "]");
                    }
                }
            }
            if (c.options().linear() && c.options().zonotope() && !net.name().equals("res")) { // no block has a zonotope form
                assertTrue(zonotopes > 0, what + ": no zonotope tracked");
            }
            Certifier.Propagation over = c.propagate(x, eps, 0);
            for (int t = 0; t < acts.size(); t++) {
                float[] z = acts.get(t);
                for (int j = 1, row = 0; j < z.length; j++, row++) {
                    double m = (double) z[0] - z[j];
                    assertTrue(m >= over.marginLower()[row] - 1e-5 * (1 + Math.abs(m)), what + " margin " + j + " point " + t);
                }
            }
        }
    }

    /** The input shape of chain element li (the output shape of the one before it). */
    private static Shape prevShape(List<Layer> chain, int li, Shape in) {
        Shape s = in;
        for (int i = 0; i < li; i++) {
            s = chain.get(i).outputShape(s);
        }
        return s;
    }

    /** Uniform samples, extreme points and PGA's points of B_r(x, eps) (no domain). */
    private static List<float[]> points(Sequential net, Shape in, float[] x, double ballP, double eps, long seed) {
        int n = x.length;
        List<float[]> out = new ArrayList<>();
        Rng rng = new Rng(seed);
        for (int s = 0; s < 150; s++) {
            float[] y = new float[n];
            BallSampling.uniform(ballP, eps, n, rng, y, 0);
            out.add(shift(x, y, 1));
        }
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int s = 0; s < 150; s++) {
            float[] d = new float[n];
            if (ballP == INF) {
                for (int i = 0; i < n; i++) {
                    d[i] = (float) (r.nextBoolean() ? eps : -eps);
                }
            } else if (ballP == 1) {
                d[r.nextInt(n)] = (float) (r.nextBoolean() ? eps : -eps);
            } else {
                double norm = 0;
                for (int i = 0; i < n; i++) {
                    d[i] = (float) r.nextGaussian();
                    norm += (double) d[i] * d[i];
                }
                for (int i = 0; i < n; i++) {
                    d[i] = (float) (d[i] * eps / Math.sqrt(norm));
                }
            }
            out.add(shift(x, d, 1 - 1e-6)); // just inside, so float rounding stays in the ball
        }
        Tensor xs = new Tensor(in, x.clone());
        for (int restart = 0; restart < 4; restart++) {
            float[] adv = Pga.lp(ballP, eps * (1 - 1e-6)).iterations(30).restarts(1).seed(seed + restart)
                    .attackPredicted(net, xs, 0).adversarial().data;
            out.add(adv.clone());
        }
        return out;
    }

    private static float[] shift(float[] x, float[] d, double scale) {
        float[] y = new float[x.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) (x[i] + scale * d[i]);
        }
        return y;
    }

    /** 2-5-5-3 ReLU network on the plane. */
    static Sequential deepPlane(long seed) {
        Sequential net = new Sequential("plane", new Linear("0", 2, 5, true, CertifyFixtures.K), new ReLU("1", CertifyFixtures.K),
                new Linear("2", 5, 5, true, CertifyFixtures.K), new ReLU("3", CertifyFixtures.K),
                new Linear("4", 5, 3, true, CertifyFixtures.K));
        CertifyFixtures.randomize(net, seed);
        return net;
    }

    /** A deep random MLP: 20 inputs, six hidden ReLU layers of 24, 5 logits. */
    static Sequential deepMlp(long seed) {
        List<Layer> layers = new ArrayList<>();
        int w = 20;
        for (int i = 0; i < 6; i++) {
            layers.add(new Linear(String.valueOf(2 * i), w, 24, true, CertifyFixtures.K));
            layers.add(new ReLU(String.valueOf(2 * i + 1), CertifyFixtures.K));
            w = 24;
        }
        layers.add(new Linear("12", 24, 5, true, CertifyFixtures.K));
        Sequential net = new Sequential("mlp", layers);
        CertifyFixtures.randomize(net, seed);
        return net;
    }

    /**
     * Linear bounds are never looser than the interval ones (logits, Jacobian rows, margins, the
     * certificate, the ball upper bound), on the fixtures and a deep random MLP; on the MLP they are
     * strictly tighter: narrower logit boxes, a smaller ball upper bound, a larger margin bound.
     */
    @Test
    void neverLooserAndStrictlyTighterOnADeepNetwork() {
        record Case(Sequential net, Shape in, double eps) {}
        List<Case> cases = List.of(new Case(CertifyFixtures.convNet(41), CertifyFixtures.CONV_IN, 0.05),
                new Case(CertifyFixtures.blockNet(42), CertifyFixtures.BLOCK_IN, 0.05),
                new Case(deepMlp(43), new Shape(1, 20, 1, 1), 0.05));
        for (Case k : cases) {
            for (double ballP : new double[]{1, 2, INF}) {
                float[] x = CertifyFixtures.point(k.in().size(), 44);
                Certifier lin = new Certifier(k.net(), k.in(), 2, 2, Certifier.Options.defaults(ballP));
                Certifier box = new Certifier(k.net(), k.in(), 2, 2, Certifier.Options.defaults(ballP).withLinear(false));
                Certifier.Propagation pl = lin.propagate(x, k.eps(), 0), pb = box.propagate(x, k.eps(), 0);
                String what = k.net().name() + " l" + ballP;
                double widthL = 0, widthB = 0;
                for (int j = 0; j < pl.logits().size(); j++) {
                    assertTrue(pl.logits().lo()[j] >= pb.logits().lo()[j] && pl.logits().hi()[j] <= pb.logits().hi()[j],
                            what + " logit " + j);
                    widthL += pl.logits().hi()[j] - pl.logits().lo()[j];
                    widthB += pb.logits().hi()[j] - pb.logits().lo()[j];
                }
                assertNested(pl.jacobian(), pb.jacobian(), what + " jacobian");
                assertNested(pl.margins(), pb.margins(), what + " margins");
                double upL = lin.upper(pl.jacobian()).value(), upB = box.upper(pb.jacobian()).value();
                assertTrue(upL <= upB * (1 + 1e-12), what + ": upper " + upL + " > interval " + upB);
                Certifier.Propagation zl = lin.propagate(x, 0, 0), zb = box.propagate(x, 0, 0);
                Certificate cl = lin.certify(x, 0, k.eps(), zl, pl), cb = box.certify(x, 0, k.eps(), zb, pb);
                assertTrue(cl.marginLower() >= cb.marginLower(), what + ": margin " + cl.marginLower() + " < " + cb.marginLower());
                if (k.net().name().equals("mlp")) {
                    assertTrue(widthL < 0.5 * widthB, what + ": logit widths " + widthL + " vs interval " + widthB);
                    assertTrue(upL < upB, what + ": upper " + upL + " not below interval " + upB);
                    assertTrue(cl.marginLower() > cb.marginLower() && cl.method().equals("linear"),
                            what + ": margin " + cl.marginLower() + " (" + cl.method() + ") vs " + cb.marginLower());
                }
            }
        }
    }

    private static void assertNested(IntervalRows inner, IntervalRows outer, String what) {
        for (int t = 0; t < inner.lo().length; t++) {
            double slack = 1e-12 * Math.max(Math.abs(outer.lo()[t]), Math.abs(outer.hi()[t])) + 1e-300;
            assertTrue(outer.lo()[t] <= inner.lo()[t] + slack && inner.hi()[t] <= outer.hi()[t] + slack, what + " entry " + t);
        }
    }
}
