package dev.opnorm.nn.models;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.LinearizationContractTest;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.layers.SequentialLinearization;
import dev.opnorm.nn.layers.TestData;
import dev.opnorm.nn.layers.TestNets;
import dev.opnorm.nn.layers.Tolerances;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WideResNetTest {
    private static Sequential calibratedTemplate;

    static Tensor input() {
        // 16x16 keeps the test fast; global average pooling makes the network size-agnostic
        return TestData.randn(new Random(77), new Shape(2, 3, 16, 16));
    }

    static synchronized Sequential wrn10() {
        Sequential net = WideResNet.create(10, 1, 3, 10, 5);
        if (calibratedTemplate == null) {
            calibratedTemplate = WideResNet.create(10, 1, 3, 10, 5);
            TestNets.calibrateBatchNorm(calibratedTemplate, input(), 20);
        }
        TestNets.copyBuffers(calibratedTemplate, net);
        return net;
    }

    @Nested
    class Wrn10Contract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return wrn10();
        }

        @Override
        protected Tensor input() {
            return WideResNetTest.input();
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
    void wrn28x10_hasTheStandardShapesAndNames() {
        Sequential net = WideResNet.create(28, 10, 3, 10, 1);
        assertEquals(Shape.features(2, 10), net.outputShape(new Shape(2, 3, 32, 32)));
        List<Param> params = net.params();
        assertEquals("conv1.weight[16, 3, 3, 3]", params.get(0).toString());
        assertTrue(params.stream().anyMatch(p -> p.toString().equals("block1.layer.0.convShortcut.weight[160, 16, 1, 1]")));
        assertTrue(params.stream().anyMatch(p -> p.toString().equals("block3.layer.3.conv2.weight[640, 640, 3, 3]")));
        assertTrue(params.stream().noneMatch(p -> p.name().startsWith("block3.layer.1.convShortcut")));
        assertEquals("fc.weight[10, 640]", params.get(params.size() - 2).toString());
        long count = params.stream().mapToLong(Param::size).sum();
        assertEquals(36_479_194L, count, "WRN-28-10 parameter count (PyTorch reference: 36,479,194)");
        assertTrue(net.buffers().stream().anyMatch(p -> p.name().equals("bn1.running_var")));
    }

    @Test
    void wrn10_features_arePenultimate() {
        Sequential net = wrn10();
        Tensor x = input();
        SequentialLinearization l = (SequentialLinearization) net.linearize(x, BnMode.EVAL);
        SequentialLinearization phi = l.upTo(WideResNet.FEATURES);
        assertEquals(Shape.features(2, 64), phi.outShape());
        assertArrayEquals(net.forwardUpTo(x, WideResNet.FEATURES).data, phi.output().data);
    }

    @Test
    void depth_mustBe6nPlus4() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WideResNet.create(12, 1, 3, 10, 1));
        assertTrue(e.getMessage().contains("6n + 4"), e.getMessage());
    }

    @Test
    void seed_determinesWeights() {
        List<Param> a = WideResNet.create(10, 1, 3, 10, 9).params(), b = WideResNet.create(10, 1, 3, 10, 9).params();
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).value, b.get(i).value, a.get(i).name());
        }
    }
}
