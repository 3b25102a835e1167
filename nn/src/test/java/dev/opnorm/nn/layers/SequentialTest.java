package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SequentialTest {

    /** conv-bn-relu-pool-(conv-bn-relu)-flatten-linear, nested like a small model. */
    static Sequential smallNet() {
        Sequential body = new Sequential("features",
                new Conv2d("0", 2, 3, 3, 1, 1, true),
                new BatchNorm2d("1", 3, true),
                new ReLU("2"),
                new MaxPool2d("3", 2),
                new Sequential("4", new Conv2d("0", 3, 4, 3, 1, 0, false), new BatchNorm2d("1", 4, false), new ReLU("2")),
                new Flatten("5"));
        Sequential net = new Sequential("net", body, new Linear("classifier", 4 * 2 * 1, 3, true));
        net.initParameters(new SplittableRandom(99));
        return net;
    }

    static Tensor smallInput() {
        return TestData.randn(new Random(31), new Shape(3, 2, 8, 6));
    }

    @Nested
    class NetworkContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return smallNet();
        }

        @Override
        protected Tensor input() {
            return smallInput();
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
    }

    @AfterEach
    void checksOff() {
        FiniteChecks.setEnabled(false);
    }

    @Test
    void params_haveStateDictNames() {
        Sequential net = smallNet();
        List<String> names = net.params().stream().map(Param::name).toList();
        assertEquals(List.of("features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
                "features.4.0.weight", "classifier.weight", "classifier.bias"), names);
        List<String> buffers = net.buffers().stream().map(Param::name).toList();
        assertEquals(List.of("features.1.running_mean", "features.1.running_var",
                "features.4.1.running_mean", "features.4.1.running_var"), buffers);
    }

    @Test
    void params_areTheSameObjectsOnEveryCall() {
        Sequential net = smallNet();
        for (int i = 0; i < net.params().size(); i++) {
            assertSame(net.params().get(i), net.params().get(i));
        }
        assertSame(net.buffers().get(0), net.buffers().get(0));
    }

    @Test
    void renamedParams_shareGradientBuffers() {
        Sequential net = smallNet();
        Linearization l = net.linearize(smallInput(), BnMode.EVAL);
        ParamGrads g = new ParamGrads();
        l.vjpParams(TestData.randn(new Random(1), l.outShape().size()), g);
        Conv2d conv = (Conv2d) ((Sequential) net.child("features")).child("0");
        assertSame(g.of(conv.weight()), g.of(net.params().get(0)));
        assertTrue(TestData.maxAbs(g.of(net.params().get(0))) > 0);
    }

    @Test
    void upTo_isThePrefixOfTheChain() {
        Sequential net = smallNet();
        Tensor x = smallInput();
        SequentialLinearization l = (SequentialLinearization) net.linearize(x, BnMode.EVAL);
        SequentialLinearization features = l.upTo("features");
        assertEquals(Shape.features(3, 8), features.outShape());
        assertArrayEquals(net.forwardUpTo(x, "features").data, features.output().data);
        float[] dx = TestData.randn(new Random(2), x.data.length);
        float[] phi = new float[features.outShape().size()], viaParts = new float[phi.length];
        features.jvp(dx, phi);
        l.part("features").jvp(dx, viaParts);
        assertArrayEquals(viaParts, phi);
        // J = J_classifier J_features
        float[] full = new float[l.outShape().size()], composed = new float[full.length];
        l.jvp(dx, full);
        l.part("classifier").jvp(phi, composed);
        assertArrayEquals(full, composed, (float) Tolerances.REORDERED_F32);
        // nested path: after the inner conv of child "4"
        SequentialLinearization inner = l.upTo("features.4.0");
        assertEquals(new Shape(3, 4, 2, 1), inner.outShape());
        assertArrayEquals(net.forwardUpTo(x, "features.4.0").data, inner.output().data, (float) Tolerances.REORDERED_F32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> l.upTo("nope"));
        assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("classifier"), e.getMessage());
    }

    @Test
    void badInput_namesQualifiedLayerAndShapes() {
        Sequential net = smallNet();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> net.forward(new Tensor(new Shape(1, 3, 8, 6))));
        assertTrue(e.getMessage().startsWith("Conv2d 'features.0'"), e.getMessage());
        assertTrue(e.getMessage().contains("(1, 3, 8, 6)"), e.getMessage());
        // too small for the inner conv after pooling: 2x2 -> 1x1 cannot take a 3x3 kernel with padding 0
        e = assertThrows(IllegalArgumentException.class,
                () -> net.linearize(new Tensor(new Shape(2, 2, 4, 4)), BnMode.EVAL));
        assertTrue(e.getMessage().startsWith("Conv2d 'features.4.0'"), e.getMessage());
        assertTrue(e.getMessage().contains("(2, 3, 2, 2)"), e.getMessage());
    }

    @Test
    void finiteChecks_nameLayerAndIndex_onlyWhenEnabled() {
        Sequential net = smallNet();
        Tensor x = smallInput();
        x.data[2 * 96 + 50] = Float.NaN;
        net.forward(x); // off by default: NaN propagates silently
        FiniteChecks.setEnabled(true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> net.linearize(x, BnMode.TRAIN));
        assertTrue(e.getMessage().startsWith("Conv2d 'features.0'"), e.getMessage());
        assertTrue(e.getMessage().contains("element " + (2 * 96 + 50)) && e.getMessage().contains("example 2")
                && e.getMessage().contains("NaN"), e.getMessage());
        // an infinity produced inside the network is reported by the layer that receives it
        Conv2d conv = (Conv2d) ((Sequential) net.child("features")).child("0");
        conv.bias().value[1] = Float.POSITIVE_INFINITY;
        e = assertThrows(IllegalArgumentException.class, () -> net.forward(smallInput()));
        assertTrue(e.getMessage().startsWith("BatchNorm2d 'features.1'"), e.getMessage());
    }

    @Test
    void construction_rejectsDuplicateNamesAndSharedChildren() {
        ReLU r = new ReLU("a");
        assertThrows(IllegalArgumentException.class, () -> new Sequential("s", r, new ReLU("a")));
        new Sequential("s", r);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Sequential("t", r));
        assertTrue(e.getMessage().contains("one container"), e.getMessage());
    }

    @Test
    void commit_updatesEveryBatchNorm() {
        Sequential net = smallNet();
        BatchNorm2d bn1 = (BatchNorm2d) ((Sequential) net.child("features")).child("1");
        BatchNorm2d bn2 = (BatchNorm2d) ((Sequential) ((Sequential) net.child("features")).child("4")).child("1");
        float[] m1 = bn1.runningMean().value.clone(), m2 = bn2.runningVar().value.clone();
        Linearization l = net.linearize(smallInput(), BnMode.TRAIN);
        l.commit();
        assertTrue(m1[0] != bn1.runningMean().value[0]);
        assertTrue(m2[0] != bn2.runningVar().value[0]);
    }
}
