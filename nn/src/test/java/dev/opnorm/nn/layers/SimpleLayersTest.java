package dev.opnorm.nn.layers;

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

/** Contract and behaviour tests of the parameter-free layers and Linear. */
class SimpleLayersTest {

    @Nested
    class ReluContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return new ReLU("relu");
        }

        @Override
        protected Tensor input() {
            return TestData.awayFromZero(new Random(5), new Shape(2, 3, 5, 7), 0.1f);
        }
    }

    @Nested
    class LinearContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            Linear l = new Linear("fc", 7, 5, true);
            l.initParameters(new SplittableRandom(3));
            return l;
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(6), Shape.features(3, 7));
        }
    }

    @Nested
    class LinearNoBiasContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            Linear l = new Linear("fc", 4, 9, false);
            l.initParameters(new SplittableRandom(4));
            return l;
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(7), Shape.features(2, 4));
        }
    }

    @Nested
    class MaxPoolContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return new MaxPool2d("pool", 2);
        }

        @Override
        protected Tensor input() {
            return TestData.distinct(new Random(8), new Shape(2, 3, 6, 5), 0.05f);
        }

        @Override
        protected double fdStep() {
            return 1e-3; // perturbations stay far below the 0.05 gap between window values
        }
    }

    @Nested
    class MaxPoolPaddedContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return new MaxPool2d("pool", 3, 2, 1, dev.opnorm.nn.Engine.kernels());
        }

        @Override
        protected Tensor input() {
            return TestData.distinct(new Random(9), new Shape(2, 2, 7, 6), 0.05f);
        }

        @Override
        protected double fdStep() {
            return 1e-3;
        }
    }

    @Nested
    class AvgPoolContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return new AvgPool2d("pool", 3, 2, 1, dev.opnorm.nn.Engine.kernels());
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(10), new Shape(2, 3, 7, 6));
        }
    }

    @Nested
    class GlobalAvgPoolContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return AvgPool2d.global("pool");
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(11), new Shape(3, 4, 5, 3));
        }
    }

    @Nested
    class FlattenContract extends LinearizationContractTest {
        @Override
        protected Layer layer() {
            return new Flatten("flat");
        }

        @Override
        protected Tensor input() {
            return TestData.randn(new Random(12), new Shape(2, 3, 2, 5));
        }
    }

    @Test
    void relu_derivativeAtZeroIsZero() {
        Linearization l = new ReLU("relu").linearize(Tensor.of(1, 1, 1, 3, -1f, 0f, 2f), BnMode.EVAL);
        float[] dy = new float[3];
        l.jvp(new float[]{1, 1, 1}, dy);
        assertArrayEquals(new float[]{0, 0, 1}, dy);
        l.vjp(new float[]{1, 1, 1}, dy);
        assertArrayEquals(new float[]{0, 0, 1}, dy);
        assertArrayEquals(new float[]{0, 0, 2}, l.output().data);
    }

    @Test
    void maxPool_forwardAndGradientPickTheWindowMaximum() {
        // 1x1x2x4 input, 2x2 windows: maxima 5 (index 1) and 7 (index 6)
        Linearization l = new MaxPool2d("pool", 2).linearize(Tensor.of(1, 1, 2, 4, 1, 5, 2, 3, 4, 0, 7, 6), BnMode.EVAL);
        assertArrayEquals(new float[]{5, 7}, l.output().data);
        float[] gx = new float[8];
        l.vjp(new float[]{10, 20}, gx);
        assertArrayEquals(new float[]{0, 10, 0, 0, 0, 0, 20, 0}, gx);
    }

    @Test
    void globalAvgPool_averagesEachPlane() {
        Tensor y = AvgPool2d.global("gap").forward(Tensor.of(1, 2, 1, 3, 1, 2, 3, 4, 5, 9));
        assertEquals(Shape.features(1, 2), y.shape);
        assertArrayEquals(new float[]{2, 6}, y.data, (float) Tolerances.REORDERED_F32);
    }

    @Test
    void linear_forwardIsXWTransposePlusB() {
        Linear fc = new Linear("fc", 2, 3, true);
        System.arraycopy(new float[]{1, 2, 3, 4, 5, 6}, 0, fc.weight().value, 0, 6);
        System.arraycopy(new float[]{0.5f, -1, 0}, 0, fc.bias().value, 0, 3);
        Tensor y = fc.forward(Tensor.of(1, 2, 1, 1, 1, -1));
        assertArrayEquals(new float[]{-0.5f, -2, -1}, y.data);
    }

    @Test
    void linear_rejectsUnflattenedInput_namingLayerAndShape() {
        Linear fc = new Linear("classifier", 12, 3, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fc.forward(new Tensor(new Shape(2, 3, 2, 2))));
        assertTrue(e.getMessage().contains("Linear 'classifier'"), e.getMessage());
        assertTrue(e.getMessage().contains("(2, 3, 2, 2)"), e.getMessage());
        assertTrue(e.getMessage().contains("flatten"), e.getMessage());
    }

    @Test
    void flatten_keepsNchwOrder() {
        Tensor x = Tensor.of(2, 2, 1, 2, 1, 2, 3, 4, 5, 6, 7, 8);
        Tensor y = new Flatten("f").forward(x);
        assertEquals(Shape.features(2, 4), y.shape);
        assertArrayEquals(x.data, y.data);
        assertTrue(x.data != y.data, "flatten output must not alias its input");
    }
}
