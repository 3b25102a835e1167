package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Conv2dTest {

    /** A conv with random weights on a random (2, 3, 7, 6) input. */
    abstract static class Config extends LinearizationContractTest {
        abstract Conv2d conv();

        @Override
        protected Layer layer() {
            Conv2d c = conv();
            c.initParameters(new SplittableRandom(7));
            return c;
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(3), new Shape(2, 3, 7, 6));
        }
    }

    @Nested
    class Kernel3Stride1Pad1Bias extends Config {
        @Override
        Conv2d conv() {
            return new Conv2d("c", 3, 4, 3, 1, 1, true);
        }
    }

    @Nested
    class Kernel3Stride2Pad1NoBias extends Config {
        @Override
        Conv2d conv() {
            return new Conv2d("c", 3, 5, 3, 2, 1, false);
        }
    }

    @Nested
    class Kernel1Stride1Pad0Bias extends Config {
        @Override
        Conv2d conv() {
            return new Conv2d("c", 3, 2, 1, 1, 0, true);
        }
    }

    @Nested
    class Kernel2x3Stride2Pad0Bias extends Config {
        @Override
        Conv2d conv() {
            return new Conv2d("c", 3, 4, 2, 3, 2, 0, true, Engine.kernels());
        }
    }

    @Test
    void forward_isCrossCorrelationWithBias_onHandComputedExample() {
        // 1 input channel 3x3, 2x2 kernel, no padding: y[p][q] = sum w[r][s] x[p+r][q+s] + b
        Conv2d c = new Conv2d("c", 1, 1, 2, 1, 0, true);
        System.arraycopy(new float[]{1, 2, 3, 4}, 0, c.weight().value, 0, 4);
        c.bias().value[0] = 0.5f;
        Tensor y = c.forward(Tensor.of(1, 1, 3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        assertEquals(new Shape(1, 1, 2, 2), y.shape);
        assertArrayEquals(new float[]{37.5f, 47.5f, 67.5f, 77.5f}, y.data);
    }

    @Test
    void outputShape_followsPyTorchFormula() {
        Conv2d c = new Conv2d("c", 3, 8, 3, 2, 1, true);
        assertEquals(new Shape(4, 8, 16, 16), c.outputShape(new Shape(4, 3, 32, 32)));
        assertEquals(new Shape(4, 8, 4, 3), c.outputShape(new Shape(4, 3, 7, 6)));
    }

    @Test
    void forward_rejectsWrongChannelCount_namingLayerAndShape() {
        Conv2d c = new Conv2d("conv1", 3, 8, 3, 1, 1, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> c.forward(new Tensor(new Shape(2, 1, 5, 5))));
        assertTrue(e.getMessage().contains("Conv2d 'conv1'"), e.getMessage());
        assertTrue(e.getMessage().contains("(2, 1, 5, 5)"), e.getMessage());
        assertTrue(e.getMessage().contains("3 input channels"), e.getMessage());
    }

    @Test
    void forward_rejectsInputSmallerThanKernel() {
        Conv2d c = new Conv2d("c", 1, 1, 3, 1, 0, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> c.linearize(new Tensor(new Shape(1, 1, 2, 2)), BnMode.EVAL));
        assertTrue(e.getMessage().contains("(1, 1, 2, 2)"), e.getMessage());
    }

    @Test
    void initParameters_usesPyTorchBound_andIsReproducible() {
        Conv2d a = new Conv2d("c", 4, 6, 3, 1, 1, true), b = new Conv2d("c", 4, 6, 3, 1, 1, true);
        a.initParameters(new SplittableRandom(11));
        b.initParameters(new SplittableRandom(11));
        assertArrayEquals(a.weight().value, b.weight().value);
        assertArrayEquals(a.bias().value, b.bias().value);
        double bound = 1 / Math.sqrt(4 * 9);
        double max = 0;
        for (float v : a.weight().value) {
            assertTrue(Math.abs(v) <= bound, "weight outside the bound: " + v);
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max > 0.9 * bound, "weights do not fill U(-b, b): max " + max);
        for (float v : a.bias().value) {
            assertTrue(Math.abs(v) <= bound);
        }
    }
}
