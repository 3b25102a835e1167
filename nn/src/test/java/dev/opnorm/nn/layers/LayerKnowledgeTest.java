package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Conv2dDims;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the layers tell the algorithms about themselves: chains, tangent rules, linear weights and
 * activation sites. Every rule is checked against an independent reference (central differences of a
 * function that is exactly linear in the parameter, or a brute-force recomputation).
 */
class LayerKnowledgeTest {
    /** Relative error of a central difference of a function exactly linear in the parameter, in float. */
    private static final double LINEAR_FD = 1e-4;
    /** Step of those central differences: the function is linear, so any step is exact up to rounding. */
    private static final double STEP = 0.5;

    // ---- chain ------------------------------------------------------------------------------------------

    @Test
    void chain_expandsNestedSequentials_andTheLinearizationComposesToTheNetworkJvp() {
        Sequential net = SequentialTest.smallNet();
        List<String> names = new ArrayList<>();
        for (Layer l : net.chain()) {
            names.add(l.qualifiedName());
        }
        assertEquals(List.of("features.0", "features.1", "features.2", "features.3", "features.4.0", "features.4.1",
                "features.4.2", "features.5", "classifier"), names);

        Random rnd = new Random(1);
        Tensor x = TestData.randn(rnd, new Shape(2, 2, 8, 6));
        Linearization lin = net.linearize(x, BnMode.EVAL);
        List<Linearization> parts = lin.chain();
        assertEquals(net.chain().size(), parts.size());
        float[] dx = TestData.randn(rnd, x.shape.size());
        float[] t = dx;
        for (int i = 0; i < parts.size(); i++) {
            Linearization p = parts.get(i);
            assertEquals(net.chain().get(i).outputShape(p.inShape()), p.outShape(), "part " + i);
            float[] next = new float[p.outShape().size()];
            p.jvp(t, next);
            t = next;
        }
        float[] dy = new float[lin.outShape().size()];
        lin.jvp(dx, dy);
        assertArrayEquals(dy, t, "the chain's JVPs in order are the network's JVP, bit for bit");
    }

    @Test
    void chain_ofResidualBlockIsTheBlockItself_notItsChildren() {
        PreActBlock block = new PreActBlock("block", 2, 3, 1);
        block.initParameters(new SplittableRandom(2));
        Sequential net = new Sequential("net", new Conv2d("stem", 1, 2, 3, 1, 1, false), block);
        assertEquals(List.of(net.children().get(0), block), net.chain());
        assertEquals(7, block.children().size());
        assertEquals(List.of(block), block.chain());
        Tensor x = TestData.randn(new Random(3), new Shape(1, 1, 4, 4));
        Linearization lin = net.linearize(x, BnMode.EVAL);
        assertEquals(2, lin.chain().size());
        assertEquals(new Shape(1, 2, 4, 4), lin.chain().get(1).inShape());
    }

    @Test
    void upTo_refusesPathsIntoLayersThatAreNoChain_namingThem() {
        PreActBlock block = new PreActBlock("block", 2, 2, 1);
        Sequential net = new Sequential("net", new Conv2d("stem", 1, 2, 3, 1, 1, false), block);
        Tensor x = TestData.randn(new Random(4), new Shape(1, 1, 4, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> net.forwardUpTo(x, "block.conv1"));
        assertTrue(e.getMessage().contains("PreActBlock 'block'") && e.getMessage().contains("conv1"), e.getMessage());
        Linearization lin = net.linearize(x, BnMode.EVAL);
        e = assertThrows(IllegalArgumentException.class, () -> lin.upTo("block.conv1"));
        assertTrue(e.getMessage().contains("PreActBlock 'block'") && e.getMessage().contains("conv1"), e.getMessage());
        assertEquals(new Shape(1, 2, 4, 4), lin.upTo("stem").outShape());
        Conv2d leaf = new Conv2d("c", 1, 1, 1, 1, 0, false);
        assertThrows(IllegalArgumentException.class, () -> leaf.linearize(x, BnMode.EVAL).upTo("x"));
    }

    // ---- tangent rules ----------------------------------------------------------------------------------

    /** {@code <g, J(theta) t>} from a fresh EVAL linearization at x. */
    private static double tangentValue(Layer layer, Tensor x, float[] t, float[] g) {
        Linearization lin = layer.linearize(x, BnMode.EVAL);
        float[] y = new float[lin.outShape().size()];
        lin.jvp(t, y);
        return TestData.dot(g, y, y.length);
    }

    /**
     * The layer's tangent rule against central differences in every coordinate of {@code p} (J is linear
     * in p, so the difference is exact up to rounding), and zero for the parameters that do not enter J.
     */
    private static void checkTangentRule(Layer layer, Param p, Tensor x, long seed) {
        Random rnd = new Random(seed);
        Linearization lin = layer.linearize(x, BnMode.EVAL);
        float[] t = TestData.randn(rnd, lin.inShape().size());
        float[] g = TestData.randn(rnd, lin.outShape().size());
        TangentRule rule = lin.tangentRule();
        assertNotNull(rule, layer.qualifiedName());
        ParamGrads grads = new ParamGrads();
        rule.accumulate(t, g, grads);
        float[] got = grads.of(p).clone();
        for (int k = 0; k < p.size(); k++) {
            float saved = p.value[k];
            p.value[k] = (float) (saved + STEP);
            double plus = tangentValue(layer, x, t, g);
            p.value[k] = (float) (saved - STEP);
            double minus = tangentValue(layer, x, t, g);
            p.value[k] = saved;
            double fd = (plus - minus) / (2 * STEP);
            assertEquals(fd, got[k], LINEAR_FD * Math.max(1, Math.abs(fd)), p.name() + "[" + k + "]");
        }
        for (Param q : layer.params()) {
            if (q != p && grads.has(q)) {
                assertEquals(0, TestData.maxAbs(grads.of(q)), q.name() + " does not enter J");
            }
        }
        rule.accumulate(t, g, grads);
        for (int k = 0; k < p.size(); k++) {
            assertEquals(2 * got[k], grads.of(p)[k], 1e-6 * Math.max(1, Math.abs(got[k])), "accumulates (+=)");
        }
    }

    @Test
    void tangentRule_conv_isTheWeightGradientWithTheTangentAsInput() {
        Conv2d conv = new Conv2d("c", 2, 3, 3, 2, 1, true);
        conv.initParameters(new SplittableRandom(5));
        checkTangentRule(conv, conv.weight(), TestData.randn(new Random(6), new Shape(2, 2, 5, 4)), 7);
    }

    @Test
    void tangentRule_linear_isTheWeightGradientWithTheTangentAsInput() {
        Linear fc = new Linear("fc", 5, 3, true);
        fc.initParameters(new SplittableRandom(8));
        checkTangentRule(fc, fc.weight(), TestData.randn(new Random(9), Shape.features(4, 5)), 10);
    }

    @Test
    void tangentRule_evalBatchNorm_isTheGammaTermOverTheRunningScale() {
        BatchNorm2d bn = new BatchNorm2d("bn", 3, true);
        Random rnd = new Random(11);
        for (int c = 0; c < 3; c++) {
            bn.weight().value[c] = 0.5f + rnd.nextFloat();
            bn.bias().value[c] = (float) rnd.nextGaussian();
            bn.runningMean().value[c] = (float) rnd.nextGaussian();
            bn.runningVar().value[c] = 0.2f + 3 * rnd.nextFloat(); // a wrong or missing 1/sqrt(var + eps) shows
        }
        checkTangentRule(bn, bn.weight(), TestData.randn(rnd, new Shape(2, 3, 3, 2)), 12);
    }

    @Test
    void tangentRule_isAbsentWhereNoParameterEntersJOrTheRuleWouldMissTerms() {
        Tensor x = TestData.randn(new Random(13), new Shape(2, 3, 4, 4));
        BatchNorm2d affine = new BatchNorm2d("bn", 3, true);
        assertNull(affine.linearize(x, BnMode.TRAIN).tangentRule(), "TRAIN: J depends on gamma through batch statistics");
        assertNull(new BatchNorm2d("plain", 3, false).linearize(x, BnMode.EVAL).tangentRule());
        assertNull(new ReLU("r").linearize(x, BnMode.EVAL).tangentRule());
        assertNull(new MaxPool2d("m", 2).linearize(x, BnMode.EVAL).tangentRule());
        assertNull(new Flatten("f").linearize(x, BnMode.EVAL).tangentRule());
        Sequential net = new Sequential("net", new Conv2d("c", 3, 3, 1, 1, 0, false), new ReLU("r"));
        assertNull(net.linearize(x, BnMode.EVAL).tangentRule(), "a composite: its chain has the rules");
    }

    // ---- linear weights ---------------------------------------------------------------------------------

    /** {@code <y, A(W) x>} with the operator's own apply. */
    private static double bilinear(WeightOperator op, float[] y, float[] x) {
        float[] ax = new float[op.outShape().size()];
        op.apply(x, ax);
        return TestData.dot(y, ax, ax.length);
    }

    /** Adjointness, and the weight gradient of {@code <y, A(W) x>} against central differences in every W coordinate. */
    private static void checkOperator(WeightOperator op, Param w, long seed) {
        Random rnd = new Random(seed);
        float[] x = TestData.randn(rnd, op.inShape().size());
        float[] y = TestData.randn(rnd, op.outShape().size());
        float[] aty = new float[x.length];
        op.applyTranspose(y, aty);
        double lhs = bilinear(op, y, x), rhs = TestData.dot(aty, x, x.length);
        assertEquals(lhs, rhs, 1e-5 * Math.max(1, Math.abs(lhs)), "<y, A x> = <A^T y, x>");
        float[] gW = new float[w.size()];
        op.accumulateWeightGradient(gW, y, x);
        for (int k = 0; k < w.size(); k++) {
            float saved = w.value[k];
            w.value[k] = (float) (saved + STEP);
            double plus = bilinear(op, y, x);
            w.value[k] = (float) (saved - STEP);
            double minus = bilinear(op, y, x);
            w.value[k] = saved;
            double fd = (plus - minus) / (2 * STEP);
            assertEquals(fd, gW[k], LINEAR_FD * Math.max(1, Math.abs(fd)), w.name() + "[" + k + "]");
        }
    }

    @Test
    void linearWeights_conv_isTheBiasFreeConvolutionOnOneExampleOfTheShape() {
        Conv2d conv = new Conv2d("c", 2, 3, 3, 2, 1, true);
        conv.initParameters(new SplittableRandom(14));
        List<LinearWeight> ws = conv.linearWeights();
        assertEquals(1, ws.size());
        LinearWeight w = ws.get(0);
        assertSame(conv, w.layer());
        assertSame(conv.weight(), w.weight());
        assertEquals(3, w.rows());
        assertEquals(2 * 3 * 3, w.cols());
        assertFalse(w.actsAsMatrix());
        WeightOperator op = w.operatorOn(new Shape(7, 2, 5, 4)); // the batch size is ignored
        assertEquals(new Shape(1, 2, 5, 4), op.inShape());
        assertEquals(new Shape(1, 3, 3, 2), op.outShape());
        assertEquals(new Conv2dDims(1, 2, 5, 4, 3, 3, 3, 2, 1), op.convDims());
        // apply is the conv's JVP (bias excluded) on one example, the same kernel call
        Random rnd = new Random(15);
        Tensor x = TestData.randn(rnd, op.inShape());
        float[] v = TestData.randn(rnd, x.shape.size());
        float[] expected = new float[op.outShape().size()];
        conv.linearize(x, BnMode.EVAL).jvp(v, expected);
        float[] got = new float[expected.length];
        op.apply(v, got);
        assertArrayEquals(expected, got);
        checkOperator(op, conv.weight(), 16);
        assertThrows(IllegalArgumentException.class, () -> w.operatorOn(new Shape(1, 5, 5, 4)));
    }

    @Test
    void linearWeights_linear_isItsMatrixOnEveryInput() {
        Linear fc = new Linear("fc", 4, 3, true);
        fc.initParameters(new SplittableRandom(17));
        LinearWeight w = fc.linearWeights().get(0);
        assertSame(fc.weight(), w.weight());
        assertEquals(3, w.rows());
        assertEquals(4, w.cols());
        assertTrue(w.actsAsMatrix());
        WeightOperator op = w.operatorOn(Shape.features(9, 4));
        assertNull(op.convDims());
        float[] x = TestData.randn(new Random(18), 4);
        float[] y = new float[3];
        op.apply(x, y);
        for (int r = 0; r < 3; r++) {
            double s = 0;
            for (int c = 0; c < 4; c++) {
                s += (double) fc.weight().value[r * 4 + c] * x[c];
            }
            assertEquals(s, y[r], 1e-5 * Math.max(1, Math.abs(s)), "row " + r);
        }
        checkOperator(op, fc.weight(), 19);
    }

    @Test
    void linearWeights_areOnlyALeafsOwn() {
        assertTrue(new ReLU("r").linearWeights().isEmpty());
        assertTrue(new BatchNorm2d("bn", 2, true).linearWeights().isEmpty());
        assertTrue(SequentialTest.smallNet().linearWeights().isEmpty(), "a container reports none: walk its chain");
        assertTrue(new PreActBlock("b", 2, 3, 1).linearWeights().isEmpty());
    }

    // ---- activation sites -------------------------------------------------------------------------------

    @Test
    void activationSite_relu_isOnExactlyWhereTheInputIsPositive() {
        Sequential net = new Sequential("net", new Conv2d("c", 1, 1, 1, 1, 0, false), new ReLU("r"));
        Linearization lin = net.linearize(new Tensor(new Shape(1, 1, 1, 1)), BnMode.EVAL); // gives the name
        ReLU relu = (ReLU) net.child("r");
        Random rnd = new Random(20);
        Tensor x = TestData.randn(rnd, new Shape(3, 2, 3, 3));
        x.data[0] = 0f;  // ReLU'(0) = 0: off
        x.data[1] = -0f;
        ActivationSite site = relu.linearize(x, BnMode.EVAL).activationSite();
        assertEquals("r", site.layer());
        assertEquals(ActivationSite.Kind.ON_OFF, site.kind());
        assertEquals(18, site.perExample());
        for (int j = 0; j < x.data.length; j++) {
            assertEquals(x.data[j] > 0 ? 1 : 0, site.states()[j], "unit " + j);
        }
        assertNull(lin.chain().get(0).activationSite(), "an affine part has no site");
    }

    @Test
    void activationSite_maxPool_isOnePlusTheWindowsArgmaxPerExample() {
        MaxPool2d pool = new MaxPool2d("m", 3, 2, 1, Engine.kernels());
        Shape s = new Shape(2, 2, 5, 6);
        Tensor x = TestData.distinct(new Random(21), s, 0.01f);
        ActivationSite site = pool.linearize(x, BnMode.EVAL).activationSite();
        Shape out = pool.outputShape(s);
        assertEquals(ActivationSite.Kind.SELECTED_INDEX, site.kind());
        assertEquals(out.perExample(), site.perExample());
        int per = s.perExample();
        for (int n = 0; n < s.n(); n++) {
            for (int c = 0; c < s.c(); c++) {
                for (int p = 0; p < out.h(); p++) {
                    for (int q = 0; q < out.w(); q++) {
                        int best = -1;
                        for (int i = 0; i < 3; i++) {
                            for (int j = 0; j < 3; j++) {
                                int h = p * 2 - 1 + i, w = q * 2 - 1 + j;
                                if (h < 0 || h >= s.h() || w < 0 || w >= s.w()) {
                                    continue; // padding is -infinity
                                }
                                int idx = s.at(n, c, h, w);
                                if (best < 0 || x.data[idx] > x.data[best]) {
                                    best = idx;
                                }
                            }
                        }
                        assertEquals(best % per + 1, site.states()[out.at(n, c, p, q)],
                                "window (" + n + ", " + c + ", " + p + ", " + q + ")");
                    }
                }
            }
        }
    }
}
