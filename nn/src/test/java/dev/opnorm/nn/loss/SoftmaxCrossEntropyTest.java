package dev.opnorm.nn.loss;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Tolerances;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SoftmaxCrossEntropyTest {

    @Test
    void loss_ofUniformLogitsIsLogK() {
        Tensor z = new Tensor(Shape.features(3, 10));
        assertEquals(Math.log(10), SoftmaxCrossEntropy.loss(z, new int[]{0, 4, 9}), Tolerances.LOSS);
    }

    @Test
    void loss_matchesHandComputedValue() {
        // one example, logits (1, 2, 3), label 2: log(e^1 + e^2 + e^3) - 3
        Tensor z = Tensor.of(1, 3, 1, 1, 1, 2, 3);
        double expected = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3;
        assertEquals(expected, SoftmaxCrossEntropy.loss(z, new int[]{2}), Tolerances.LOSS);
    }

    @Test
    void gradient_matchesCentralDifferences() {
        Random r = new Random(3);
        int n = 4, k = 7;
        Tensor z = new Tensor(Shape.features(n, k));
        for (int i = 0; i < z.data.length; i++) {
            z.data[i] = (float) (3 * r.nextGaussian());
        }
        int[] labels = {1, 6, 0, 3};
        float[] g = new float[n * k];
        SoftmaxCrossEntropy.lossAndGradient(z, labels, g);
        double h = 1e-2;
        for (int i = 0; i < z.data.length; i++) {
            float old = z.data[i];
            z.data[i] = (float) (old + h);
            double lp = SoftmaxCrossEntropy.loss(z, labels);
            z.data[i] = (float) (old - h);
            double lm = SoftmaxCrossEntropy.loss(z, labels);
            z.data[i] = old;
            assertEquals((lp - lm) / (2 * h), g[i], Tolerances.LOSS_FD, "dL/dz[" + i + "]");
        }
        // each example's gradient sums to zero (softmax minus one-hot)
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) {
                s += g[i * k + j];
            }
            assertEquals(0, s, Tolerances.LOSS);
        }
    }

    @Test
    void loss_isStableForLargeLogits() {
        Tensor z = Tensor.of(1, 2, 1, 1, 1000f, -1000f);
        float[] g = new float[2];
        assertEquals(0, SoftmaxCrossEntropy.lossAndGradient(z, new int[]{0}, g), Tolerances.LOSS);
        assertEquals(2000, SoftmaxCrossEntropy.loss(z, new int[]{1}), Tolerances.LOSS);
        assertTrue(Float.isFinite(g[0]) && Float.isFinite(g[1]));
    }

    @Test
    void badInput_isRejectedWithMessage() {
        Tensor z = new Tensor(Shape.features(2, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SoftmaxCrossEntropy.loss(z, new int[]{0, 3}));
        assertTrue(e.getMessage().contains("label 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropy.loss(z, new int[]{0}));
        assertThrows(IllegalArgumentException.class,
                () -> SoftmaxCrossEntropy.loss(new Tensor(new Shape(2, 3, 2, 1)), new int[]{0, 1}));
        z.data[4] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> SoftmaxCrossEntropy.loss(z, new int[]{0, 1}));
    }
}
