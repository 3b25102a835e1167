package dev.opnorm.gpu.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.optim.Sgd;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * On a real GPU only ({@code ./mvnw -Pgpu -pl gpu-kernels -am test}): the full-size 7-layer CNN (width
 * 1.0, batch 128) on the device. The device power method agrees with linalg's PowerMethod driving the
 * same device linearization through its BatchLinearMap (so the host does the norms in double), and
 * moves one float per example per iteration; training steps move 8 bytes each, create no buffers in
 * steady state, and lower the loss on a fixed batch.
 */
@Tag("gpu")
class DeviceNetworkGpuTest {
    private static final int BATCH = 128;

    @Test
    void cnn7FullSize_onGpu_powerMethodAndTrainingSteps() {
        OpenCl cl = NetTesting.runtime();
        assertTrue(cl.device().isGpu(), "the gpu profile needs a GPU device, got " + cl.device());
        Sequential net = Cnn7.create(1.0, 3, 10, 3L);
        Random rnd = new Random(8);
        Tensor x = Tensor.of(BATCH, 3, 32, 32, NetTesting.randn(rnd, BATCH * 3 * 32 * 32));
        int[] labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            labels[i] = rnd.nextInt(10);
        }
        int k = 20;
        PowerMethod.Options o = new PowerMethod.Options(k, 0, 1L);
        try (DeviceModel model = new DeviceModel(cl, net)) {
            try (DeviceLinearization lin = model.linearize(x, BnMode.EVAL)) {
                List<PowerMethod.Result> viaMap = PowerMethod.sigmaMax(lin.asBatchLinearMap(), o);
                long down = cl.downloadedBytes();
                DevicePowerMethod.Result dev = DevicePowerMethod.sigmaMax(lin, o);
                assertEquals(4L * BATCH * k, cl.downloadedBytes() - down, "bytes downloaded by the device iteration");
                for (int i = 0; i < BATCH; i++) {
                    double want = viaMap.get(i).sigma();
                    assertEquals(want, dev.sigma()[i], NetTesting.NET_REL * want, "sigma of example " + i);
                }
            }
            try (DeviceSgdTrainer trainer = new DeviceSgdTrainer(model, Sgd.Config.of(0.01).withMomentum(0.9));
                 DeviceTensor dx = DeviceTensor.of(cl, x); DeviceInts dy = DeviceInts.of(cl, labels)) {
                double first = trainer.step(dx, dy).loss();
                double last = first;
                for (int s = 0; s < 5; s++) {
                    long up = cl.uploads(), down = cl.downloadedBytes(), allocs = cl.allocations();
                    last = trainer.step(dx, dy).loss();
                    assertEquals(0, cl.uploads() - up, "uploads of a step");
                    assertEquals(8, cl.downloadedBytes() - down, "bytes downloaded by a step");
                    assertEquals(0, cl.allocations() - allocs, "buffers created by a steady-state step");
                }
                assertTrue(last < first, "loss on a fixed batch went from " + first + " to " + last);
            }
        }
    }
}
