package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreActBlockTest {

    /** A block with random BN affine parameters and running statistics, so that every term matters. */
    static PreActBlock block(int in, int out, int stride, long seed) {
        PreActBlock b = new PreActBlock("blk", in, out, stride);
        SplittableRandom r = new SplittableRandom(seed);
        b.initParameters(r);
        for (BatchNorm2d bn : List.of(b.bn1(), b.bn2())) {
            for (int c = 0; c < bn.channels(); c++) {
                bn.weight().value[c] = (float) (0.5 + r.nextDouble());
                bn.bias().value[c] = (float) (r.nextDouble() - 0.5);
                bn.runningMean().value[c] = (float) (0.3 * (r.nextDouble() - 0.5));
                bn.runningVar().value[c] = (float) (0.2 + r.nextDouble() * 0.3);
            }
        }
        return b;
    }

    abstract static class Config extends LinearizationContractTest {
        @Override
        protected boolean hasBatchNorm() {
            return true;
        }

        @Override
        protected double fdStep() {
            return Tolerances.FD_STEP_NETWORK;
        }

        @Override
        protected double fdTolerance() {
            return Tolerances.FD_NETWORK;
        }
    }

    @Nested
    class IdentityShortcutContract extends Config {
        @Override
        protected Layer layer() {
            return block(3, 3, 1, 1);
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(41), new Shape(2, 3, 6, 5));
        }
    }

    @Nested
    class ProjectionShortcutContract extends Config {
        @Override
        protected Layer layer() {
            return block(3, 5, 2, 2);
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(42), new Shape(2, 3, 7, 6));
        }
    }

    @Nested
    class WideningStride1Contract extends Config {
        @Override
        protected Layer layer() {
            return block(2, 4, 1, 3);
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(43), new Shape(3, 2, 5, 5));
        }
    }

    @Test
    void params_followWrnStateDictNames() {
        assertEquals(List.of("bn1.weight", "bn1.bias", "conv1.weight", "bn2.weight", "bn2.bias", "conv2.weight",
                        "convShortcut.weight"),
                new PreActBlock("b", 2, 4, 2).params().stream().map(Param::name).toList());
        assertEquals(6, new PreActBlock("b", 4, 4, 1).params().size());
        assertEquals(4, new PreActBlock("b", 4, 4, 1).buffers().size());
    }

    @Test
    void forward_isMainPathPlusShortcut() {
        PreActBlock b = block(3, 3, 1, 4);
        Tensor x = TestData.randn(new Random(5), new Shape(2, 3, 4, 4));
        Tensor a = new ReLU("r").forward(b.bn1().forward(x));
        Tensor main = b.conv2().forward(new ReLU("r").forward(b.bn2().forward(b.conv1().forward(a))));
        float[] expected = new float[main.data.length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = main.data[i] + x.data[i];
        }
        assertArrayEquals(expected, b.forward(x).data, (float) Tolerances.REORDERED_F32);
    }

    @Test
    void construction_rejectsStridedIdentity() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PreActBlock("b", 4, 4, 2));
        assertTrue(e.getMessage().contains("stride"), e.getMessage());
    }

    @Test
    void wrongChannels_namesTheInnerBatchNorm() {
        Sequential s = new Sequential("net", new Sequential("block1", new PreActBlock("0", 4, 8, 2)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.forward(new Tensor(new Shape(1, 3, 8, 8))));
        assertTrue(e.getMessage().startsWith("BatchNorm2d 'block1.0.bn1'"), e.getMessage());
        assertTrue(e.getMessage().contains("(1, 3, 8, 8)"), e.getMessage());
    }

    @Test
    void commit_updatesBothBatchNorms() {
        PreActBlock b = block(2, 4, 2, 6);
        float[] m1 = b.bn1().runningMean().value.clone(), m2 = b.bn2().runningMean().value.clone();
        b.linearize(TestData.randn(new Random(7), new Shape(2, 2, 4, 4)), BnMode.TRAIN).commit();
        assertTrue(m1[0] != b.bn1().runningMean().value[0]);
        assertTrue(m2[0] != b.bn2().runningMean().value[0]);
    }
}
