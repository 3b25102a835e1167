package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.gpu.DeviceInts;
import static dev.opnorm.gpu.net.NetTesting.assertNear;
import static dev.opnorm.gpu.net.NetTesting.maxAbs;
import static dev.opnorm.gpu.net.NetTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The device-resident linearization of the 7-layer CNN (width 1/16) and of the Wide ResNet 10-1
 * (PreActBlocks: residual adds, 1x1 shortcut convs, affine BatchNorm) against the host
 * {@link Linearization} on ScalarKernels: output, JVP, VJP and parameter gradients (accumulated) in
 * both BatchNorm modes.
 */
class DeviceLinearizationTest {

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void cnn7_deviceLinearization_matchesHost(BnMode mode) {
        compareWithHost(NetTesting.cnn7(5L), 3, mode);
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void wideResNet_deviceLinearization_matchesHost(BnMode mode) {
        compareWithHost(NetTesting.wrn(6L), 2, mode);
    }

    private static void compareWithHost(Sequential net, int batch, BnMode mode) {
        OpenCl cl = NetTesting.runtime();
        Random rnd = new Random(17);
        Tensor x = Tensor.of(batch, 3, 32, 32, randn(rnd, batch * 3 * 32 * 32));
        Linearization ref = net.linearize(x, mode);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> lin = model.linearize(x, mode);
             DeviceTensor dx = DeviceTensor.of(cl, randn(rnd, x.shape.size()));
             DeviceTensor dy = DeviceTensor.allocate(cl, lin.outShape());
             DeviceTensor gy = DeviceTensor.of(cl, randn(rnd, lin.outShape().size()));
             DeviceTensor gx = DeviceTensor.allocate(cl, x.shape);
             Gradients<DeviceTensor> grads = new Gradients<>(cl.ops())) {
            assertEquals(ref.outShape(), lin.outShape());
            assertNear(ref.output().data, lin.output().download(), "output " + mode);

            float[] dyRef = new float[ref.outShape().size()];
            ref.jvp(dx.download(), dyRef);
            lin.jvp(dx, dy);
            assertNear(dyRef, dy.download(), "jvp " + mode);

            float[] gxRef = new float[x.shape.size()];
            ref.vjp(gy.download(), gxRef);
            lin.vjp(gy, gx);
            assertNear(gxRef, gx.download(), "vjp " + mode);

            // twice: vjpParams accumulates
            ParamGrads gRef = new ParamGrads();
            ref.vjpParams(gy.download(), gRef);
            ref.vjpParams(gy.download(), gRef);
            lin.vjpParams(gy, grads);
            lin.vjpParams(gy, grads);
            List<Param> params = net.params();
            // a conv bias before BatchNorm has gradient 0 up to rounding in TRAIN mode: compare on the
            // scale of all gradients
            double scale = 0;
            for (Param p : params) {
                scale = Math.max(scale, maxAbs(gRef.of(p)));
            }
            assertTrue(scale > 0);
            for (Param p : params) {
                assertNear(gRef.of(p), grads.download(p), scale, "gradient of " + p.name() + " " + mode);
            }

            // vjpAll: both parts in one sweep
            float[] gxAll;
            grads.zero();
            try (DeviceTensor gx2 = DeviceTensor.allocate(cl, x.shape)) {
                lin.vjpAll(gy, gx2, grads);
                gxAll = gx2.download();
            }
            assertNear(gxRef, gxAll, "vjpAll gx " + mode);
            ParamGrads once = new ParamGrads();
            ref.vjpParams(gy.download(), once);
            Param first = params.get(0);
            assertNear(once.of(first), grads.download(first), scale, "vjpAll gradient of " + first.name());
        }
    }

    @Test
    void deviceLinearization_rejectsAliasAndShortTensors() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(6L);
        Tensor x = Tensor.of(1, 3, 32, 32, randn(new Random(1), 3 * 32 * 32));
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL);
             DeviceTensor small = DeviceTensor.allocate(cl, 5);
             DeviceTensor in = DeviceTensor.allocate(cl, x.shape)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lin.jvp(small, small));
            assertTrue(e.getMessage().contains("dx"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> lin.jvp(in, in));
            assertThrows(IllegalArgumentException.class, () -> lin.vjp(small, in));
        }
    }

    @Test
    void deviceModel_unsupportedLayer_namesIt() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = new Sequential("net", new ReLU("0", new ScalarKernels()), new Doubling("twice"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PlacedModel<>(cl.ops(), net));
        assertTrue(e.getMessage().contains("twice") && e.getMessage().contains("Doubling"), e.getMessage());
    }

    /** A layer type the device path does not know (y = 2x on the host). */
    private record Doubling(String name) implements Layer {
        @Override
        public Shape outputShape(Shape in) {
            return in;
        }

        @Override
        public Tensor forward(Tensor x) {
            float[] y = x.data.clone();
            for (int i = 0; i < y.length; i++) {
                y[i] *= 2;
            }
            return new Tensor(x.shape, y);
        }

        @Override
        public Linearization linearize(Tensor x, BnMode mode) {
            throw new IllegalStateException("Doubling is only built, never linearized, in this test");
        }
    }

    @Test
    void deviceModel_parametersComeBackAfterUpload() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(8L);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net)) {
            Param w = net.params().get(0);
            float[] saved = w.value.clone();
            w.value[0] += 1f;
            model.uploadParameters();
            w.value[0] = 0f;
            model.downloadParameters();
            assertEquals(saved[0] + 1f, w.value[0]);
        }
    }
}
