package dev.opnorm.nn.models;

import dev.opnorm.linalg.LinearMap;
import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.LinearizationContractTest;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.layers.SequentialLinearization;
import dev.opnorm.nn.layers.TestData;
import dev.opnorm.nn.layers.TestNets;
import dev.opnorm.nn.layers.Tolerances;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Cnn7Test {
    static final double WIDTH = 1.0 / 16;

    static Tensor input(int n, int c, long seed) {
        // inputs in [-1, 1] like the paper's scaled images
        Random r = new Random(seed);
        Tensor x = new Tensor(new Shape(n, c, 32, 32));
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = 2 * r.nextFloat() - 1;
        }
        return x;
    }

    /** A fresh CNN whose BN running statistics were calibrated once (cached) on the test input. */
    static Sequential calibrated(int channels, long seed, Tensor x) {
        Sequential net = Cnn7.create(WIDTH, channels, 10, seed);
        String key = channels + "/" + seed;
        Sequential template = CALIBRATED.computeIfAbsent(key, k -> {
            Sequential t = Cnn7.create(WIDTH, channels, 10, seed);
            TestNets.calibrateBatchNorm(t, x, 20);
            return t;
        });
        TestNets.copyBuffers(template, net);
        return net;
    }

    private static final java.util.Map<String, Sequential> CALIBRATED = new java.util.concurrent.ConcurrentHashMap<>();

    @Nested
    class GreyContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return calibrated(1, 42, input());
        }

        @Override
        protected Tensor input() {
            return Cnn7Test.input(2, 1, 5);
        }

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

        @Override
        protected int paramSamples() {
            return 2;
        }
    }

    @Nested
    class ColourContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return calibrated(3, 43, input());
        }

        @Override
        protected Tensor input() {
            return Cnn7Test.input(3, 3, 6);
        }

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

        @Override
        protected int paramSamples() {
            return 1;
        }
    }

    @Test
    void structure_matchesThePaper() {
        Sequential net = Cnn7.create(1.0, 3, 10, 1);
        assertEquals(Shape.features(4, 10), net.outputShape(new Shape(4, 3, 32, 32)));
        Sequential f = (Sequential) net.child(Cnn7.FEATURES);
        assertEquals(Shape.features(4, 1024), f.outputShape(new Shape(4, 3, 32, 32)));
        List<String> names = net.params().stream().map(Param::toString).toList();
        assertEquals(List.of("features.0.weight[128, 3, 3, 3]", "features.0.bias[128]",
                "features.3.weight[128, 128, 3, 3]", "features.3.bias[128]",
                "features.7.weight[256, 128, 3, 3]", "features.7.bias[256]",
                "features.10.weight[256, 256, 3, 3]", "features.10.bias[256]",
                "features.14.weight[512, 256, 3, 3]", "features.14.bias[512]",
                "features.17.weight[512, 512, 3, 3]", "features.17.bias[512]",
                "features.21.weight[1024, 512, 3, 3]", "features.21.bias[1024]",
                "classifier.weight[10, 1024]", "classifier.bias[10]"), names);
        assertEquals(14, net.buffers().size(), "running mean and var of 7 BN layers");
        assertEquals("features.1.running_mean", net.buffers().get(0).name());
        assertEquals(26, f.children().size());
    }

    @Test
    void widthFactor_scalesChannelsWithMinimumOne() {
        Sequential net = Cnn7.create(WIDTH, 1, 10, 1);
        assertEquals(Shape.features(2, 64), ((Sequential) net.child("features")).outputShape(new Shape(2, 1, 32, 32)));
        assertEquals(1, Cnn7.width(128, 1e-3));
        assertEquals(32, Cnn7.width(128, 0.25));
        assertThrows(IllegalArgumentException.class, () -> Cnn7.create(0, 3, 10, 1));
    }

    @Test
    void seed_determinesWeights() {
        List<Param> a = Cnn7.create(WIDTH, 3, 10, 7).params(), b = Cnn7.create(WIDTH, 3, 10, 7).params(),
                c = Cnn7.create(WIDTH, 3, 10, 8).params();
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).value, b.get(i).value, a.get(i).name());
        }
        assertTrue(a.get(0).value[0] != c.get(0).value[0]);
        // the first conv: fan_in 3*3*3 = 27, bound 1/sqrt(27)
        for (float v : a.get(0).value) {
            assertTrue(Math.abs(v) <= 1 / Math.sqrt(27));
        }
    }

    @Test
    void seed0_givesTheDocumentedFirstWeights() {
        // SplittableRandom's sequence is fixed by the JDK specification: these values must never change
        // (a change means checkpoints and results seeded the same way are no longer reproducible);
        // bound 1/sqrt(27) for a 3-channel 3x3 conv, U = bound * (2 * nextDouble() - 1)
        float[] w = Cnn7.create(WIDTH, 3, 10, 0).params().get(0).value;
        assertArrayEquals(new float[]{0.1475364f, -0.026354887f, -0.18227573f}, java.util.Arrays.copyOf(w, 3));
    }

    @Test
    void unpadded28x28Input_isRejectedByTheLayerThatCannotTakeIt() {
        Sequential net = Cnn7.create(WIDTH, 1, 10, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> net.forward(new Tensor(new Shape(1, 1, 28, 28))));
        assertTrue(e.getMessage().startsWith("MaxPool2d 'features.24'"), e.getMessage());
        assertTrue(e.getMessage().contains("(1, 64, 1, 1)"), e.getMessage());
    }

    @Test
    void wrongInputChannels_namesFirstConvAndShape() {
        Sequential net = Cnn7.create(WIDTH, 3, 10, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> net.linearize(new Tensor(new Shape(2, 1, 32, 32)), BnMode.EVAL));
        assertTrue(e.getMessage().startsWith("Conv2d 'features.0'"), e.getMessage());
        assertTrue(e.getMessage().contains("(2, 1, 32, 32)"), e.getMessage());
    }

    /**
     * The logits Jacobian of one example (10 x 1024 for a grey 32x32 input), built column by column
     * from jvp and row by row from vjp: the two must be transposes of each other. EVAL: every column
     * of a batch-1 linearization; TRAIN (batch 2, the other example held fixed): 128 random columns,
     * to keep the test fast with the scalar kernels.
     */
    @ParameterizedTest
    @EnumSource(BnMode.class)
    void jacobianFromJvpColumns_equalsTransposeOfVjpRows(BnMode mode) {
        Sequential net = calibrated(1, 42, input(2, 1, 5));
        int batch = mode == BnMode.EVAL ? 1 : 2;
        Linearization l = net.linearize(input(batch, 1, 9), mode);
        LinearMap m = l.asLinearMap(batch - 1);
        int n = m.inDim(), k = m.outDim();
        assertEquals(1024, n);
        assertEquals(10, k);
        int[] cols = mode == BnMode.EVAL ? java.util.stream.IntStream.range(0, n).toArray()
                : new Random(3).ints(128, 0, n).toArray();
        float[][] byCols = new float[k][cols.length];
        float[] e = new float[n], col = new float[k];
        for (int j = 0; j < cols.length; j++) {
            e[cols[j]] = 1;
            m.apply(e, col);
            e[cols[j]] = 0;
            for (int i = 0; i < k; i++) {
                byCols[i][j] = col[i];
            }
        }
        double max = 0;
        for (float[] row : byCols) {
            max = Math.max(max, TestData.maxAbs(row));
        }
        assertTrue(max > 0);
        float[] u = new float[k], row = new float[n], picked = new float[cols.length];
        for (int i = 0; i < k; i++) {
            u[i] = 1;
            m.applyTranspose(u, row);
            u[i] = 0;
            for (int j = 0; j < cols.length; j++) {
                picked[j] = row[cols[j]];
            }
            assertArrayEquals(byCols[i], picked, (float) (Tolerances.JACOBIAN_TRANSPOSE * max), "row " + i);
        }
    }

    @Test
    void features_isThePenultimateLayer() {
        Sequential net = Cnn7.create(WIDTH, 3, 10, 3);
        Tensor x = input(2, 3, 4);
        SequentialLinearization l = (SequentialLinearization) net.linearize(x, BnMode.EVAL);
        SequentialLinearization phi = l.upTo(Cnn7.FEATURES);
        assertEquals(Shape.features(2, 64), phi.outShape());
        assertArrayEquals(net.forwardUpTo(x, Cnn7.FEATURES).data, phi.output().data);
        LinearMap m = phi.asLinearMap(0);
        assertEquals(3 * 1024, m.inDim());
        assertEquals(64, m.outDim());
    }

    @Test
    void defaultKernels_agreeWithScalarReference() {
        Sequential ref = Cnn7.create(WIDTH, 3, 10, 12, new ScalarKernels());
        Sequential def = Cnn7.create(WIDTH, 3, 10, 12, Engine.kernels());
        Tensor x = input(3, 3, 13);
        for (BnMode mode : BnMode.values()) {
            Linearization a = ref.linearize(x, mode), b = def.linearize(x, mode);
            double scale = TestData.maxAbs(a.output().data);
            assertArrayEquals(a.output().data, b.output().data, (float) (Tolerances.BACKEND * scale), "output " + mode);
            float[] dx = TestData.randn(new Random(1), x.data.length);
            float[] ya = new float[a.outShape().size()], yb = new float[ya.length];
            a.jvp(dx, ya);
            b.jvp(dx, yb);
            assertArrayEquals(ya, yb, (float) (Tolerances.BACKEND * TestData.maxAbs(ya)), "jvp " + mode);
            float[] gy = TestData.randn(new Random(2), ya.length);
            float[] ga = new float[x.data.length], gb = new float[ga.length];
            a.vjp(gy, ga);
            b.vjp(gy, gb);
            assertArrayEquals(ga, gb, (float) (Tolerances.BACKEND * TestData.maxAbs(ga)), "vjp " + mode);
        }
    }
}
