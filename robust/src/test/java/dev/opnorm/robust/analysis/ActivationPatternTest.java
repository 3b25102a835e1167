package dev.opnorm.robust.analysis;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.PreActBlock;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import org.junit.jupiter.api.Test;

import java.util.List;
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

    @Test
    void pattern_residualBlocks_exposeTheirInnerRelus() {
        var k = new VectorKernels(1);
        Sequential net = new Sequential("n", new PreActBlock("b", 2, 3, 2, k), new ReLU("r", k));
        net.initParameters(new SplittableRandom(1));
        Tensor x = random(new Shape(1, 2, 6, 6), 2);
        ActivationPattern a = ActivationPattern.of(net, x);
        // relu1 (2x6x6) and relu2 (3x3x3) inside the block, then the final relu (3x3x3)
        assertEquals(List.of("b.relu1", "b.relu2", "r"), a.sites().stream().map(ActivationPattern.Site::layer).toList());
        assertEquals(72 + 27 + 27, a.reluUnitsPerExample());
        assertArrayEquals(new double[] {1.0}, a.sharedReluFraction(ActivationPattern.of(net, x.copy())));
        Tensor neg = x.copy();
        for (int j = 0; j < neg.data.length; j++) {
            neg.data[j] = -neg.data[j];
        }
        assertTrue(a.sharedReluFraction(ActivationPattern.of(net, neg))[0] < 1);
    }

    @Test
    void sharedReluFraction_countsUnitsWithTheSameState_perExample() {
        var k = new VectorKernels(1);
        Sequential net = new Sequential("n", new ReLU("a", k), new Flatten("f", k), new ReLU("b", k));
        // example 0: (1, -1, 0, 2), example 1: (-1, -2, 3, 4)
        Tensor x = Tensor.of(2, 4, 1, 1, 1, -1, 0, 2, -1, -2, 3, 4);
        // example 0 flips unit 1 (off -> on); unit 2 stays off (0 is off); example 1 unchanged
        Tensor z = Tensor.of(2, 4, 1, 1, 1, 5, -3, 2, -1, -2, 3, 4);
        double[] f = ActivationPattern.of(net, x).sharedReluFraction(ActivationPattern.of(net, z));
        // 8 units per example (two ReLU layers of 4); example 0 differs in unit 1 in both layers
        assertArrayEquals(new double[] {6.0 / 8, 1.0}, f);
        assertArrayEquals(new int[] {2, 0}, ActivationPattern.of(net, x).differences(ActivationPattern.of(net, z)));
    }

    @Test
    void sharedReluFraction_rejectsDifferentNetworks_andNetworksWithoutRelus() {
        var k = new VectorKernels(1);
        Tensor x = Tensor.of(1, 2, 1, 1, 1, -1);
        ActivationPattern a = ActivationPattern.of(new Sequential("n", new ReLU("a", k)), x);
        ActivationPattern b = ActivationPattern.of(new Sequential("n", new ReLU("a", k), new ReLU("b", k)), x);
        assertThrows(IllegalArgumentException.class, () -> a.sharedReluFraction(b));
        ActivationPattern none = ActivationPattern.of(new Sequential("n", new Flatten("f", k)), x);
        assertThrows(IllegalArgumentException.class, () -> none.sharedReluFraction(none));
    }
}
