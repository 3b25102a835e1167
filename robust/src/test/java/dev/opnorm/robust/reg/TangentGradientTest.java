package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import org.junit.jupiter.api.Test;

import static dev.opnorm.robust.reg.RegTestSupport.checkAgainstDouble;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TangentGradientTest {

    private static void check(Sequential net, Tensor x, long seed) {
        Linearization lin = net.linearize(x, BnMode.EVAL);
        float[] t = RegTestSupport.gaussian(lin.inShape().size(), seed);
        float[] c = RegTestSupport.gaussian(lin.outShape().size(), seed + 1);
        ParamGrads grads = new ParamGrads();
        TangentGradient.accumulate(net, lin, t, c, grads);
        checkAgainstDouble(net, grads, ref -> {
            double[] jt = RegTestSupport.jvp(ref, net, x.data, x.shape, t, BnMode.EVAL);
            return RegTestSupport.dot(c, 0, jt, 0, jt.length);
        }, RegTestSupport.FD_DOUBLE_STEP_JVP, 4, seed + 2);
    }

    @Test
    void accumulate_matchesCentralDifferenceOfJvp_convBnPoolNet() {
        Sequential net = RegTestSupport.smallCnn(11);
        check(net, RegTestSupport.gaussian(RegTestSupport.smallCnnInput(3), 12), 13);
    }

    @Test
    void accumulate_matchesCentralDifferenceOfJvp_mlp() {
        Sequential net = RegTestSupport.mlp(21);
        check(net, RegTestSupport.gaussian(new dev.opnorm.nn.Shape(4, 3, 2, 2), 22), 23);
    }

    @Test
    void accumulate_leavesBiasGradientsZero_biasesDoNotEnterJ() {
        Sequential net = RegTestSupport.smallCnn(31);
        Tensor x = RegTestSupport.gaussian(RegTestSupport.smallCnnInput(2), 32);
        Linearization lin = net.linearize(x, BnMode.EVAL);
        ParamGrads grads = new ParamGrads();
        TangentGradient.accumulate(net, lin, RegTestSupport.gaussian(lin.inShape().size(), 1),
                RegTestSupport.gaussian(lin.outShape().size(), 2), grads);
        int biases = 0;
        for (Param p : net.params()) {
            if (p.name().endsWith("bias") && grads.has(p)) {
                for (float g : grads.of(p)) {
                    assertTrue(g == 0f, p.name());
                }
            }
            if (p.name().endsWith("weight")) {
                assertTrue(grads.has(p) && Norms.lp(grads.of(p), 2) > 0, "no gradient for " + p.name());
            }
            biases += p.name().endsWith("bias") ? 1 : 0;
        }
        assertTrue(biases == 4, "expected 4 bias parameters, saw " + biases);
    }

    @Test
    void accumulate_rejectsTrainModeLinearization() {
        Sequential net = RegTestSupport.smallCnn(41);
        Tensor x = RegTestSupport.gaussian(RegTestSupport.smallCnnInput(2), 42);
        Linearization lin = net.linearize(x, BnMode.TRAIN);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TangentGradient.accumulate(net, lin, new float[lin.inShape().size()],
                        new float[lin.outShape().size()], new ParamGrads()));
        assertTrue(e.getMessage().contains("EVAL"), e.getMessage());
    }

    @Test
    void accumulate_rejectsALinkWithParametersButNoRule_beforeAccumulatingAnything() {
        // the block first: the backward sweep would reach the conv's rule before the block's missing one
        dev.opnorm.nn.layers.Conv2d head = new dev.opnorm.nn.layers.Conv2d("head", 2, 1, 3, 1, 1, false);
        Sequential net = new Sequential("net", new dev.opnorm.nn.layers.PreActBlock("block", 1, 2, 1), head);
        net.initParameters(new java.util.SplittableRandom(51));
        Tensor x = RegTestSupport.gaussian(new dev.opnorm.nn.Shape(1, 1, 4, 4), 52);
        Linearization lin = net.linearize(x, BnMode.EVAL);
        ParamGrads grads = new ParamGrads();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TangentGradient.accumulate(net, lin, new float[lin.inShape().size()],
                        new float[lin.outShape().size()], grads));
        assertTrue(e.getMessage().contains("'block'") && e.getMessage().contains("no tangent-gradient rule"),
                e.getMessage());
        assertTrue(!grads.has(head.weight()), "nothing accumulated before the check");
    }

    @Test
    void accumulate_rejectsALinearizationOfAnotherModel() {
        Sequential net = RegTestSupport.smallCnn(61);
        Sequential mlp = RegTestSupport.mlp(62);
        Linearization lin = mlp.linearize(RegTestSupport.gaussian(new dev.opnorm.nn.Shape(2, 3, 2, 2), 63), BnMode.EVAL);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TangentGradient.accumulate(net, lin, new float[lin.inShape().size()],
                        new float[lin.outShape().size()], new ParamGrads()));
        assertTrue(e.getMessage().contains("is not a linearization of"), e.getMessage());
    }
}
