package dev.opnorm.robust.certify;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.bounds.Backsub;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.bounds.LinearRows;
import dev.opnorm.nn.bounds.Zonotope;
import dev.opnorm.nn.layers.AvgPool2d;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The zonotope carried beside the boxes ({@link Certifier.Options#zonotope}); its soundness at every layer
 * is checked with the other bounds in {@link LinearBoundsTest#boundsHoldEveryPointOfTheBall}.
 */
class ZonotopeTest {
    static final double INF = Double.POSITIVE_INFINITY;

    /** conv - BN - avgpool - conv - flatten - linear on one 6 x 6 channel: an affine network. */
    static Sequential affineNet(long seed) {
        Sequential net = new Sequential("affine",
                new Conv2d("0", 1, 3, 3, 3, 1, 1, true, CertifyFixtures.K), new BatchNorm2d("1", 3, true, CertifyFixtures.K),
                new AvgPool2d("2", 2, 1, 0, CertifyFixtures.K), new Conv2d("3", 3, 2, 3, 3, 1, 0, true, CertifyFixtures.K),
                new Flatten("4", CertifyFixtures.K), new Linear("5", 18, 4, true, CertifyFixtures.K));
        CertifyFixtures.randomize(net, seed);
        return net;
    }

    /**
     * On an affine network the zonotope's output box is the exact range over the ball up to float rounding:
     * never above the lower bound of the back-substituted rows (exact for affine layers, up to double
     * rounding) and within 1e-4 of the width from it, over l_1, l_2 and l_inf balls; interval boxes are
     * wider (they lose the signs of products).
     */
    @Test
    void exactOnAnAffineNetwork() {
        Sequential net = affineNet(61);
        Shape in = CertifyFixtures.CONV_IN;
        float[] x = CertifyFixtures.point(in.size(), 62);
        for (double ballP : new double[]{1, 2, INF}) {
            double eps = ballP == 1 ? 0.4 : ballP == 2 ? 0.1 : 0.03;
            Certifier c = new Certifier(net, in, 2, 2, Certifier.Options.defaults(ballP));
            Walk w = walk(net, c, x, eps, Box.around(in, x, eps, Double.NEGATIVE_INFINITY, INF));
            Zonotope z = w.zonotopes().get(w.zonotopes().size() - 1);
            assertNotNull(z, "l" + ballP + ": the zonotope went through every layer");
            Box zb = z.box(), last = w.boxes().get(w.boxes().size() - 1);
            int k = zb.size();
            double[][] rows = new double[2 * k][k];
            for (int j = 0; j < k; j++) {
                rows[2 * j][j] = 1;
                rows[2 * j + 1][j] = -1;
            }
            double[] l = w.end().lower(LinearRows.exact(rows));
            Box interval = net.bounds().over(Box.around(in, x, eps, Double.NEGATIVE_INFINITY, INF)).output();
            double zWidth = 0, iWidth = 0;
            for (int j = 0; j < k; j++) {
                double lo = l[2 * j], hi = -l[2 * j + 1], width = hi - lo;
                String what = "l" + ballP + " logit " + j;
                assertTrue(zb.lo()[j] <= lo + 1e-9 * (1 + Math.abs(lo)) && zb.hi()[j] >= hi - 1e-9 * (1 + Math.abs(hi)),
                        what + ": zonotope [" + zb.lo()[j] + ", " + zb.hi()[j] + "] inside the exact [" + lo + ", " + hi + "]");
                assertEquals(lo, zb.lo()[j], 1e-4 * width, what + " lo");
                assertEquals(hi, zb.hi()[j], 1e-4 * width, what + " hi");
                assertTrue(last.lo()[j] >= zb.lo()[j] && last.hi()[j] <= zb.hi()[j], what + ": the chain's box within it");
                zWidth += zb.hi()[j] - zb.lo()[j];
                iWidth += interval.hi()[j] - interval.lo()[j];
            }
            assertTrue(zWidth < 0.9 * iWidth, "l" + ballP + ": zonotope widths " + zWidth + " vs interval " + iWidth);
        }
    }

    /** Every layer's box and zonotope (null past a layer without a zonotope form), and the context at the end. */
    record Walk(List<Box> boxes, List<Zonotope> zonotopes, Backsub end) {
    }

    /** The chain walked from {@code box} as {@code ChainBounds} does: each box narrowed by the context first. */
    static Walk walk(Sequential net, Certifier c, float[] x, double eps, Box box) {
        Backsub back = c.backsub(x, eps);
        List<Box> boxes = new ArrayList<>();
        List<Zonotope> zs = new ArrayList<>();
        for (Layer layer : net.chain()) {
            box = back.prior(box);
            boxes.add(box);
            BoundStep s = layer.bounds().over(box, back);
            back = back.after(s, box);
            box = s.output();
            zs.add(back.zonotope());
        }
        boxes.add(back.prior(box));
        return new Walk(boxes, zs, back);
    }

    /**
     * On the narrow seven-layer CNN at l_2 1e-3, the zonotope's boxes leave far fewer ReLU units unstable
     * before any row is pulled back (the boxes each ReLU rule is given: 10 instead of 251), and the certified
     * quantities are not looser than without it: the same or fewer units stay unstable, margins and the (2,2)
     * ball upper bound at least as good (to 1e-9; the upper is 0.055 instead of 0.099, max-pool selections
     * the zonotope fixes).
     */
    @Test
    void fewerUnitsLeftToTheRowsOfADeepNetwork() {
        Sequential net = dev.opnorm.nn.models.Models.create("cnn7-w0.03125", 1, 10, 7, CertifyFixtures.K);
        Shape in = new Shape(1, 1, 32, 32);
        float[] x = CertifyFixtures.point(in.size(), 46);
        double eps = 1e-3;
        Certifier.Options base = Certifier.Options.defaults(2).withDomain(-1, 1)
                .withTightenLayers(Certifier.Options.ALL_LAYERS);
        int[] flagged = new int[2], open = new int[2];
        double[] margin = new double[2], upper = new double[2];
        for (int v = 0; v < 2; v++) {
            Certifier c = new Certifier(net, in, 2, 2, base.withZonotope(v == 1));
            Walk w = walk(net, c, x, eps, Box.around(in, x, eps, -1, 1));
            List<Layer> chain = net.chain();
            for (int li = 0; li < chain.size(); li++) {
                if (chain.get(li) instanceof ReLU) {
                    Box given = w.boxes().get(li), out = w.boxes().get(li + 1);
                    for (int j = 0; j < given.size(); j++) {
                        flagged[v] += given.lo()[j] < 0 && given.hi()[j] > 0 ? 1 : 0;
                        open[v] += out.lo()[j] == 0 && out.hi()[j] > 0 ? 1 : 0;
                    }
                }
            }
            Certifier.Propagation p = c.propagate(x, eps, 3);
            margin[v] = java.util.Arrays.stream(p.marginLower()).min().orElseThrow();
            upper[v] = c.upper(p.jacobian()).value();
        }
        assertTrue(flagged[1] * 4 < flagged[0], "units flagged " + flagged[1] + " with the zonotope, " + flagged[0] + " without");
        assertTrue(open[1] <= open[0], "units open " + open[1] + " with the zonotope, " + open[0] + " without");
        assertTrue(margin[1] >= margin[0] - 1e-9 * (1 + Math.abs(margin[0])), "margin " + margin[1] + " vs " + margin[0]);
        assertTrue(upper[1] <= upper[0] * (1 + 1e-9), "upper " + upper[1] + " vs " + upper[0]);
    }

    /**
     * A ball whose zonotope would hold more than {@link Zonotope#MAX_COEFFICIENTS} coefficients (128 x 129
     * inputs: 2^28.02) gets none, and certification goes on with the boxes alone; a point gets none either.
     */
    @Test
    void noZonotopeTooLargeToHold() {
        Shape big = new Shape(1, 1, 128, 129), small = new Shape(1, 1, 8, 8);
        float[] xb = new float[big.size()], xs = new float[small.size()];
        assertEquals(null, Zonotope.ball(big, xb, 0.1, 2, Box.around(big, xb, 0.1, -1, 1)));
        assertNotNull(Zonotope.ball(small, xs, 0.1, 2, Box.around(small, xs, 0.1, -1, 1)));
        assertEquals(null, Zonotope.ball(small, xs, 0, 2, Box.around(small, xs, 0, -1, 1)));
    }
}
