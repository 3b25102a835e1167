package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationPatternsTest {

    @Test
    void sharedFraction_countsUnitsWithTheSameState_perExample() {
        Sequential net = new Sequential("n", new ReLU("a"), new Flatten("f"), new ReLU("b"));
        // example 0: (1, -1, 0, 2), example 1: (-1, -2, 3, 4)
        Tensor x = Tensor.of(2, 4, 1, 1, 1, -1, 0, 2, -1, -2, 3, 4);
        // example 0 flips unit 1 (off -> on) and unit 2 stays off (0 is off); example 1 unchanged
        Tensor z = Tensor.of(2, 4, 1, 1, 1, 5, -3, 2, -1, -2, 3, 4);
        double[] f = ActivationPatterns.sharedFraction(net.linearize(x, BnMode.EVAL), net.linearize(z, BnMode.EVAL));
        // 8 units per example (two ReLU layers of 4); example 0 differs in unit 1 in both layers
        assertArrayEquals(new double[]{6.0 / 8, 1.0}, f);
        assertEquals(8, ActivationPatterns.unitsPerExample(net.linearize(x, BnMode.EVAL)));
    }

    @Test
    void residualBlocks_exposeTheirInnerRelus() {
        Sequential net = new Sequential("n", new PreActBlock("b", 2, 3, 2), new ReLU("r"));
        net.initParameters(new java.util.SplittableRandom(1));
        Tensor x = TestData.randn(new Random(2), new Shape(1, 2, 6, 6));
        Linearization l = net.linearize(x, BnMode.EVAL);
        // relu1 (2x6x6), relu2 (3x3x3), final relu (3x3x3)
        assertEquals(72 + 27 + 27, ActivationPatterns.unitsPerExample(l));
        assertArrayEquals(new double[]{1.0}, ActivationPatterns.sharedFraction(l, net.linearize(x, BnMode.EVAL)));
        Tensor neg = TestData.shifted(x, x.data, -2); // -x
        assertTrue(ActivationPatterns.sharedFraction(l, net.linearize(neg, BnMode.EVAL))[0] < 1);
    }

    @Test
    void sharedFraction_rejectsDifferentNetworks() {
        Tensor x = Tensor.of(1, 2, 1, 1, 1, -1);
        Linearization a = new Sequential("n", new ReLU("a")).linearize(x, BnMode.EVAL);
        Linearization b = new Sequential("n", new ReLU("a"), new ReLU("b")).linearize(x, BnMode.EVAL);
        assertThrows(IllegalArgumentException.class, () -> ActivationPatterns.sharedFraction(a, b));
    }
}
