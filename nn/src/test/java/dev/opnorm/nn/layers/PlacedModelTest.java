package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A network placed on a backend runs the layers' own linearizations: placed on host arrays (a backend
 * like any other, with a buffer pool and parameter bindings) it gives the host linearization's bits, in
 * both BatchNorm modes, and a layer that only has a host linearization is refused with its name.
 */
class PlacedModelTest {
    private static final Shape IN = new Shape(3, 2, 8, 8);

    private static Sequential net() {
        Sequential net = new Sequential("net",
                new Conv2d("conv", 2, 4, 3, 1, 1, true),
                new BatchNorm2d("bn", 4, true),
                new ReLU("relu"),
                new MaxPool2d("pool", 2),
                new PreActBlock("block", 4, 6, 2),
                AvgPool2d.global("gap"),
                new Flatten("flat"),
                new Linear("fc", 6, 5, true));
        net.initParameters(new SplittableRandom(7));
        return net;
    }

    private static float[] randn(Random rnd, int n) {
        return TestData.randn(rnd, n);
    }

    @Test
    void placedOnHostArrays_givesTheHostLinearizationsBits() {
        for (BnMode mode : BnMode.values()) {
            Sequential host = net(), placed = net();
            Tensor x = TestData.randn(new Random(1), IN);
            TestNets.calibrateBatchNorm(host, x, 3);
            TestNets.calibrateBatchNorm(placed, x, 3);
            Kernels k = Engine.kernels();
            Linearization h = host.linearize(x, mode);
            try (PlacedModel<float[], int[]> model = new PlacedModel<>(k, placed);
                 PlacedLinearization<float[]> p = model.linearize(x, mode)) {
                assertArrayEquals(h.output().data, p.output(), mode + " output");
                Shape out = h.outShape();
                float[] dx = randn(new Random(2), IN.size()), gy = randn(new Random(3), out.size());
                float[] dyH = new float[out.size()], dyP = new float[out.size()];
                h.jvp(dx, dyH);
                p.jvp(dx, dyP);
                assertArrayEquals(dyH, dyP, mode + " jvp");
                float[] gxH = new float[IN.size()], gxP = new float[IN.size()];
                ParamGrads gh = new ParamGrads();
                try (Gradients<float[]> gp = new Gradients<>(k)) {
                    h.vjpAll(gy, gxH, gh);
                    p.vjpAll(gy, gxP, gp);
                    assertArrayEquals(gxH, gxP, mode + " vjp");
                    List<Param> ph = host.params(), pp = placed.params();
                    for (int i = 0; i < ph.size(); i++) {
                        assertArrayEquals(gh.of(ph.get(i)), gp.download(pp.get(i)), mode + " gradient of " + ph.get(i));
                    }
                }
                h.commit();
                p.commit();
                assertThrows(IllegalStateException.class, p::commit);
                for (int i = 0; i < host.buffers().size(); i++) {
                    assertArrayEquals(host.buffers().get(i).value, placed.buffers().get(i).value,
                            mode + " " + host.buffers().get(i));
                }
            }
        }
    }

    @Test
    void closedLinearizationsGiveTheirBuffersToTheNextOne() {
        Sequential net = net();
        Tensor x = TestData.randn(new Random(4), IN);
        try (PlacedModel<float[], int[]> model = new PlacedModel<>(Engine.kernels(), net)) {
            PlacedLinearization<float[]> first = model.linearize(x, BnMode.EVAL);
            float[] out1 = first.output().clone();
            Set<float[]> used = Collections.newSetFromMap(new IdentityHashMap<>());
            first.linearized().visit(l -> used.add(l.output()));
            first.close();
            assertThrows(IllegalStateException.class, first::output);
            try (PlacedLinearization<float[]> second = model.linearize(x, BnMode.EVAL)) {
                assertTrue(used.contains(second.output()), "the second linearization's output is a pooled buffer");
                assertArrayEquals(out1, second.output());
            }
        }
    }

    @Test
    void parametersMoveOnlyThroughUploadAndDownload() {
        Sequential net = net();
        // an Ops whose upload copies, so the placed copies are not the host arrays
        Kernels copying = copying(Engine.kernels());
        try (PlacedModel<float[], int[]> model = new PlacedModel<>(copying, net)) {
            Param w = net.params().get(0);
            float[] saved = w.value.clone();
            w.value[0] += 1f;
            assertEquals(saved[0], model.value(w)[0], "a host change is not seen before uploadParameters");
            model.uploadParameters();
            assertEquals(saved[0] + 1f, model.value(w)[0]);
            model.value(w)[1] = 42f;
            model.downloadParameters();
            assertEquals(42f, w.value[1]);
        }
    }

    @Test
    void aHostOnlyLayerComposesOnTheHostAndIsRefusedElsewhere() {
        Sequential net = new Sequential("net", new ReLU("0"), new Negate("neg"));
        Tensor x = TestData.randn(new Random(5), new Shape(2, 1, 3, 3));
        Linearization lin = net.linearize(x, BnMode.EVAL);
        float[] dx = randn(new Random(6), x.shape.size()), dy = new float[dx.length];
        lin.jvp(dx, dy);
        for (int i = 0; i < dx.length; i++) {
            assertEquals(x.data[i] > 0 ? -dx[i] : 0f, dy[i], 0f); // -0 from negating a masked 0 is 0
        }
        assertSame(lin.chain().get(1), ((SequentialLinearization) lin).part("neg"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PlacedModel<>(Engine.kernels(), net));
        assertTrue(e.getMessage().contains("'neg'") && e.getMessage().contains("Negate"), e.getMessage());
    }

    /** The kernels of k, except that an upload makes a copy (as a device does) instead of using the array. */
    private static Kernels copying(Kernels k) {
        return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[]{Kernels.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("upload") && args.length == 2 && args[1] instanceof Shape s) {
                        return Arrays.copyOf((float[]) args[0], s.size());
                    }
                    try {
                        return method.invoke(k, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** y = -x, with a host linearization only. */
    private static final class Negate extends AbstractLayer {
        Negate(String name) {
            super(name);
        }

        @Override
        public Shape outputShape(Shape in) {
            return in;
        }

        @Override
        protected Tensor forwardImpl(Tensor x, Shape out) {
            Tensor y = new Tensor(out);
            kernels().scale(y.data, -1f, x.data, out.size());
            return y;
        }

        @Override
        protected Linearization linearizeImpl(Tensor x, BnMode mode, Shape out) {
            Tensor y = forwardImpl(x, out);
            return new AbstractLinearization(describe(), x.shape, out, mode) {
                @Override
                public Tensor output() {
                    return y;
                }

                @Override
                protected void jvpImpl(float[] dx, float[] dy) {
                    kernels().scale(dy, -1f, dx, out.size());
                }

                @Override
                protected void vjpImpl(float[] gy, float[] gx, ParamGrads grads) {
                    if (gx != null) {
                        kernels().scale(gx, -1f, gy, out.size());
                    }
                }
            };
        }
    }
}
