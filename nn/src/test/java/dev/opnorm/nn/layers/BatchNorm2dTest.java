package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchNorm2dTest {

    /** A BN layer with non-trivial running statistics (and affine parameters). */
    static BatchNorm2d bn(boolean affine, int channels, long seed) {
        Random r = new Random(seed);
        BatchNorm2d b = new BatchNorm2d("bn", channels, affine);
        for (int c = 0; c < channels; c++) {
            b.runningMean().value[c] = (float) r.nextGaussian() * 0.5f;
            b.runningVar().value[c] = 0.5f + r.nextFloat();
            if (affine) {
                b.weight().value[c] = 0.5f + r.nextFloat();
                b.bias().value[c] = (float) r.nextGaussian();
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
        protected Tensor input() {
            // per-channel offsets and scales, so that mean/variance terms matter
            Tensor x = TestData.randn(new Random(21), new Shape(3, 4, 3, 5));
            for (int i = 0; i < x.data.length; i++) {
                int c = (i / 15) % 4;
                x.data[i] = x.data[i] * (0.5f + c) + c - 1.5f;
            }
            return x;
        }
    }

    @Nested
    class AffineContract extends Config {
        @Override
        protected Layer layer() {
            return bn(true, 4, 1);
        }
    }

    @Nested
    class PlainContract extends Config {
        @Override
        protected Layer layer() {
            return bn(false, 4, 2);
        }
    }

    @Nested
    class OneByOneSpatialContract extends LinearizationContractTest {
        // the 7-layer CNN's last BN sees (n, c, 1, 1): statistics over the batch only
        @Override
        protected Layer layer() {
            return bn(true, 5, 3);
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(22), new Shape(3, 5, 1, 1));
        }

        @Override
        protected boolean hasBatchNorm() {
            return true;
        }
    }

    @Test
    void eval_usesRunningStatistics() {
        BatchNorm2d b = bn(true, 2, 4);
        Tensor x = TestData.randn(new Random(1), new Shape(2, 2, 2, 2));
        Tensor y = b.forward(x);
        for (int i = 0; i < x.data.length; i++) {
            int c = (i / 4) % 2;
            double ref = b.weight().value[c] * (x.data[i] - b.runningMean().value[c])
                    / Math.sqrt(b.runningVar().value[c] + 1e-5) + b.bias().value[c];
            assertEquals(ref, y.data[i], Tolerances.FORWARD_F32 * Math.max(1, Math.abs(ref)));
        }
    }

    @Test
    void train_normalizesWithBatchStatistics() {
        BatchNorm2d b = bn(false, 3, 5);
        Tensor x = TestData.randn(new Random(2), new Shape(4, 3, 2, 3));
        float[] y = b.linearize(x, BnMode.TRAIN).output().data;
        for (int c = 0; c < 3; c++) {
            double s = 0, ss = 0;
            for (int n = 0; n < 4; n++) {
                for (int i = 0; i < 6; i++) {
                    double v = y[(n * 3 + c) * 6 + i];
                    s += v;
                    ss += v * v;
                }
            }
            assertEquals(0, s / 24, Tolerances.REORDERED_F32, "channel mean");
            // biased variance of the normalized output: var / (var + eps), about 1
            assertEquals(1, ss / 24, Tolerances.BN_MOMENTS, "channel variance");
        }
    }

    @Test
    void commit_updatesRunningStatisticsWithPyTorchFormula() {
        BatchNorm2d b = bn(true, 3, 6);
        float[] rm0 = b.runningMean().value.clone(), rv0 = b.runningVar().value.clone();
        Tensor x = TestData.randn(new Random(3), new Shape(4, 3, 2, 3));
        Linearization l = b.linearize(x, BnMode.TRAIN);
        assertArrayEquals(rm0, b.runningMean().value, "linearize alone must not touch running statistics");
        assertArrayEquals(rv0, b.runningVar().value);
        l.commit();
        int count = 4 * 6;
        for (int c = 0; c < 3; c++) {
            double s = 0;
            for (int n = 0; n < 4; n++) {
                for (int i = 0; i < 6; i++) {
                    s += x.data[(n * 3 + c) * 6 + i];
                }
            }
            double mean = s / count, ss = 0;
            for (int n = 0; n < 4; n++) {
                for (int i = 0; i < 6; i++) {
                    double d = x.data[(n * 3 + c) * 6 + i] - mean;
                    ss += d * d;
                }
            }
            double unbiased = ss / (count - 1);
            // torch: running_mean = (1 - momentum) * running_mean + momentum * mean, momentum = 0.1
            double rm = 0.9 * rm0[c] + 0.1 * mean, rv = 0.9 * rv0[c] + 0.1 * unbiased;
            assertEquals(rm, b.runningMean().value[c], Tolerances.RUNNING_STATS * Math.max(1, Math.abs(rm)));
            assertEquals(rv, b.runningVar().value[c], Tolerances.RUNNING_STATS * Math.max(1, Math.abs(rv)));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, l::commit);
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
    }

    @Test
    void commit_inEvalModeChangesNothing() {
        BatchNorm2d b = bn(true, 2, 7);
        float[] rm0 = b.runningMean().value.clone(), rv0 = b.runningVar().value.clone();
        b.linearize(TestData.randn(new Random(4), new Shape(2, 2, 3, 3)), BnMode.EVAL).commit();
        assertArrayEquals(rm0, b.runningMean().value);
        assertArrayEquals(rv0, b.runningVar().value);
    }

    @Test
    void evalLinearization_isFrozen_whenRunningStatisticsChangeLater() {
        BatchNorm2d b = bn(true, 3, 10);
        Tensor x = TestData.randn(new Random(5), new Shape(2, 3, 3, 3));
        Linearization eval = b.linearize(x, BnMode.EVAL);
        float[] gy = TestData.randn(new Random(6), eval.outShape().size());
        ParamGrads before = new ParamGrads();
        b.linearize(x, BnMode.EVAL).vjpParams(gy, before);
        b.linearize(TestData.randn(new Random(7), x.shape), BnMode.TRAIN).commit();
        ParamGrads after = new ParamGrads();
        eval.vjpParams(gy, after);
        assertArrayEquals(before.of(b.weight()), after.of(b.weight()));
        float[] dy = new float[gy.length], dyFresh = new float[gy.length];
        eval.jvp(gy, dy);
        b.linearize(x, BnMode.EVAL).jvp(gy, dyFresh);
        assertTrue(!java.util.Arrays.equals(dy, dyFresh), "the commit should have changed a fresh linearization");
    }

    @Test
    void train_rejectsSingleValuePerChannel() {
        BatchNorm2d b = bn(false, 2, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.linearize(new Tensor(new Shape(1, 2, 1, 1)), BnMode.TRAIN));
        assertTrue(e.getMessage().contains("BatchNorm2d 'bn'") && e.getMessage().contains("(1, 2, 1, 1)"),
                e.getMessage());
    }

    @Test
    void forward_rejectsWrongChannelCount_namingLayerAndShape() {
        BatchNorm2d b = bn(false, 4, 9);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.forward(new Tensor(new Shape(2, 3, 4, 4))));
        assertTrue(e.getMessage().contains("BatchNorm2d 'bn'"), e.getMessage());
        assertTrue(e.getMessage().contains("(2, 3, 4, 4)"), e.getMessage());
    }

    @Test
    void paramsAndBuffers_havePyTorchNames() {
        BatchNorm2d b = new BatchNorm2d("bn", 3, true);
        assertEquals("[weight[3], bias[3]]", b.params().toString());
        assertEquals("[running_mean[3], running_var[3]]", b.buffers().toString());
        assertEquals(0, new BatchNorm2d("bn", 3, false).params().size());
    }
}
