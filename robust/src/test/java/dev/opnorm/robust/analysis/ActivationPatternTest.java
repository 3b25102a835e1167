package dev.opnorm.robust.analysis;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationPatternTest {
    private static Tensor random(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = new Tensor(s);
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) (2 * r.nextDouble() - 1);
        }
        return x;
    }

    @Test
    void pattern_mlp_matchesReluSignsOfPreActivations() {
        var k = new VectorKernels(1);
        Linear l1 = new Linear("1", 6, 5, true, k);
        Sequential net = new Sequential("mlp", new Flatten("0", k), l1, new ReLU("2", k), new Linear("3", 5, 3, true, k));
        net.initParameters(new SplittableRandom(1));
        Tensor x = random(new Shape(4, 6, 1, 1), 2);
        ActivationPattern a = ActivationPattern.of(net, x);
        assertEquals(1, a.sites().size());
        assertEquals("2", a.sites().get(0).layer());
        float[] pre = l1.forward(x).data;
        int[] expect = new int[pre.length];
        for (int j = 0; j < pre.length; j++) {
            expect[j] = pre[j] > 0 ? 1 : 0;
        }
        assertArrayEquals(expect, a.sites().get(0).states());
    }

    @Test
    void pattern_cnn7_sameCellNearby_differentFarAway() {
        Sequential net = Cnn7.create(1.0 / 16, 1, 10, 3, new VectorKernels(1));
        Tensor x = random(new Shape(2, 1, 32, 32), 4);
        ActivationPattern a = ActivationPattern.of(net, x);
        assertEquals(7 + 4, a.sites().size(), "7 ReLU and 4 max-pooling sites");
        assertTrue(a.sites().get(3).layer().startsWith("features."), a.sites().get(3).layer());
        Tensor same = x.copy();
        assertArrayEquals(new boolean[] {true, true}, a.sameCell(ActivationPattern.of(net, same)));
        Tensor far = random(x.shape, 5);
        ActivationPattern b = ActivationPattern.of(net, far);
        int[] d = a.differences(b);
        assertTrue(d[0] > 0 && d[1] > 0);
        double[] shared = a.sharedReluFraction(b);
        for (double s : shared) {
            assertTrue(s > 0 && s < 1, "shared fraction " + s);
        }
        assertArrayEquals(new double[] {1, 1}, a.sharedReluFraction(a));
        assertThrows(IllegalArgumentException.class, () -> a.differences(ActivationPattern.of(net, x.slice(0, 1))));
    }
}
