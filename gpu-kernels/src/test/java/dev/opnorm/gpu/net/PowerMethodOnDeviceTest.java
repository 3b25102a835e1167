package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModels;
import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.gpu.DeviceInts;
import static dev.opnorm.gpu.net.NetTesting.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Sequential;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * linalg's per-example (2,2) power method run on the device (PlacedLinearization.asBatchMap with
 * PlacedBatchOps) against the same method on the host network, and its transfers: k iterations
 * download k times b floats and upload nothing but the start vectors.
 */
class PowerMethodOnDeviceTest {
    private static final int BATCH = 2;

    private static Tensor input(long seed) {
        return Tensor.of(BATCH, 3, 32, 32, randn(new Random(seed), BATCH * 3 * 32 * 32));
    }

    @Test
    void devicePowerMethod_matchesHostPowerMethod_andMovesOnlyScalars() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(11L);
        Tensor x = input(23);
        int k = 15;
        PowerMethod.Options o = new PowerMethod.Options(k, 0, 4L);
        List<PowerMethod.Result> host = PowerMethod.sigmaMax(net.linearize(x, BnMode.EVAL).asBatchLinearMap(), o);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL)) {
            long up = cl.uploads(), down = cl.downloads(), downBytes = cl.downloadedBytes();
            PowerMethod.BatchResult<DeviceTensor> dev = PowerMethod.sigmaMax(lin.asBatchMap(), PlacedBatchOps.of(model), o,
                    null, false);
            assertEquals(1, cl.uploads() - up, "uploads: the start vectors only");
            assertEquals(k, cl.downloads() - down, "downloads: one per iteration");
            assertEquals(4L * BATCH * k, cl.downloadedBytes() - downBytes, "bytes: one float per example per iteration");
            // the vectors kept: the same device iteration plus one upload of the stop flags (all stop at k)
            long up2 = cl.uploads(), down2 = cl.downloads();
            try (PowerMethod.BatchResult<DeviceTensor> kept = PowerMethod.sigmaMax(lin.asBatchMap(), PlacedBatchOps.of(model),
                    o, null, true)) {
                assertEquals(k, cl.downloads() - down2, "downloads with the vectors kept: one per iteration");
                assertEquals(2, cl.uploads() - up2, "uploads with the vectors kept: start vectors and stop flags");
                assertArrayEquals(dev.sigma(), kept.sigma(), 0, "the same device run");
            }
            for (int i = 0; i < BATCH; i++) {
                double want = host.get(i).sigma();
                assertTrue(want > 0);
                assertEquals(want, dev.sigma()[i], NetTesting.NET_REL * want, "sigma of example " + i);
                assertEquals(k, dev.iterations()[i]);
            }
        }
    }

    @Test
    void batchLinearMap_onDevice_givesHostPowerMethodResult() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(12L);
        Tensor x = input(29);
        PowerMethod.Options o = new PowerMethod.Options(10, 0, 9L);
        List<PowerMethod.Result> host = PowerMethod.sigmaMax(net.linearize(x, BnMode.EVAL).asBatchLinearMap(), o);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL)) {
            List<PowerMethod.Result> viaMap = PowerMethod.sigmaMax(lin.asBatchLinearMap(), o);
            for (int i = 0; i < BATCH; i++) {
                double want = host.get(i).sigma();
                assertEquals(want, viaMap.get(i).sigma(), NetTesting.NET_REL * want, "sigma of example " + i);
            }
            try (PlacedLinearization<DeviceTensor> train = model.linearize(x, BnMode.TRAIN)) {
                assertThrows(IllegalArgumentException.class, train::asBatchLinearMap);
                assertThrows(IllegalArgumentException.class, train::asBatchMap);
            }
        }
    }

    @Test
    void deviceNetworks_sigmaMax_convergesLikeHost() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(13L, Engine.kernels()); // the default host kernels: many iterations
        Tensor x = input(31);
        PowerMethod.Options o = new PowerMethod.Options(200, 1e-5, 2L);
        List<PowerMethod.Result> host = PowerMethod.sigmaMax(net.linearize(x, BnMode.EVAL).asBatchLinearMap(), o);
        PowerMethod.BatchResult<DeviceTensor> dev = PlacedModels.sigmaMax(PlacedModels.model(cl.ops(), net), x, o, null);
        PlacedModel<DeviceTensor, DeviceInts> cached = PlacedModels.model(cl.ops(), net);
        assertTrue(cached == PlacedModels.model(cl.ops(), net), "the device model is cached");
        PlacedModels.release(net);
        assertThrows(IllegalStateException.class, () -> cached.value(net.params().get(0)), "released: closed");
        assertTrue(cached != PlacedModels.model(cl.ops(), net), "a fresh model after release");
        PlacedModels.release(net);
        for (int i = 0; i < BATCH; i++) {
            assertTrue(host.get(i).converged() && dev.converged()[i], "example " + i + " converged");
            double want = host.get(i).sigma();
            assertEquals(want, dev.sigma()[i], NetTesting.NET_REL * want, "sigma of example " + i);
        }
    }
}
