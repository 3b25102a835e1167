package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.robust.reg.DdOperatorNorm;

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
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net)) {
            try (PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL)) {
                List<PowerMethod.Result> viaMap = PowerMethod.sigmaMax(lin.asBatchLinearMap(), o);
                long down = cl.downloadedBytes();
                PowerMethod.BatchResult<DeviceTensor> dev = PowerMethod.sigmaMax(lin.asBatchMap(), PlacedBatchOps.of(model), o,
                        null, false);
                assertEquals(4L * BATCH * k, cl.downloadedBytes() - down, "bytes downloaded by the device iteration");
                for (int i = 0; i < BATCH; i++) {
                    double want = viaMap.get(i).sigma();
                    assertEquals(want, dev.sigma()[i], NetTesting.NET_REL * want, "sigma of example " + i);
                }
            }
            try (DeviceTraining trainer = new DeviceTraining(model, Objective.standard(),
                    new Sgd(net.params(), Sgd.Config.of(0.01).withMomentum(0.9)));
                 DeviceTensor dx = DeviceTensor.of(cl, x); DeviceInts dy = DeviceInts.of(cl, labels)) {
                double first = trainer.step(dx, dy, new Rng(0)).loss();
                double last = first;
                for (int s = 0; s < 5; s++) {
                    long up = cl.uploads(), down = cl.downloadedBytes(), allocs = cl.allocations();
                    last = trainer.step(dx, dy, new Rng(s + 1)).loss();
                    assertEquals(0, cl.uploads() - up, "uploads of a step");
                    assertEquals(8, cl.downloadedBytes() - down, "bytes downloaded by a step");
                    assertEquals(0, cl.allocations() - allocs, "buffers created by a steady-state step");
                }
                assertTrue(last < first, "loss on a fixed batch went from " + first + " to " + last);
            }
        }
    }

    /**
     * The (inf,2) iteration at full size: the device values agree with linalg's OperatorNorm driving the
     * same device linearization through its BatchLinearMap, and each iteration downloads at most 3 floats
     * per example; a regularized training step (sum-of-squares d.d. SNR, TRAIN penalty mode) creates no
     * buffer in steady state and downloads only per-example scalars.
     */
    @Test
    void cnn7FullSize_onGpu_operatorNormAndRegularizedStep() {
        OpenCl cl = NetTesting.runtime();
        assertTrue(cl.device().isGpu(), "the gpu profile needs a GPU device, got " + cl.device());
        checkOperatorNormAndRegularizedStep(cl, 1.0, BATCH);
    }

    static void checkOperatorNormAndRegularizedStep(OpenCl cl, double width, int batch) {
        Sequential net = Cnn7.create(width, 3, 10, 4L);
        Random rnd = new Random(9);
        Tensor x = Tensor.of(batch, 3, 32, 32, NetTesting.randn(rnd, batch * 3 * 32 * 32));
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = rnd.nextInt(10);
        }
        int k = 10;
        OperatorNorm.Options o = new OperatorNorm.Options(k, 0, Double.POSITIVE_INFINITY, 1, 2L);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net)) {
            try (PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL)) {
                List<OperatorNorm.Result> viaMap = OperatorNorm.estimate(lin.asBatchLinearMap(), Double.POSITIVE_INFINITY, 2, o);
                long down = cl.downloads(), downBytes = cl.downloadedBytes();
                try (OperatorNorm.BatchResult<DeviceTensor> dev = OperatorNorm.estimate(lin.asBatchMap(), PlacedBatchOps.of(model),
                        Double.POSITIVE_INFINITY, 2, o, null, false)) {
                    int iters = java.util.Arrays.stream(dev.iterations()).max().orElseThrow();
                    assertEquals(iters, cl.downloads() - down, "downloads: one per iteration");
                    assertTrue(cl.downloadedBytes() - downBytes <= 12L * batch * iters, "bytes: per-example norms only");
                    for (int i = 0; i < batch; i++) {
                        double want = viaMap.get(i).value();
                        assertEquals(want, dev.value()[i], NetTesting.NET_REL * want, "(inf,2) value of example " + i);
                    }
                }
            }
            DdOperatorNorm reg = DdOperatorNorm.sumOfSquares(0.1, 0.1, 5, BnMode.TRAIN);
            try (DeviceTraining trainer = new DeviceTraining(model, Objective.regularized(reg),
                    new Sgd(net.params(), Sgd.Config.of(0.01).withMomentum(0.9)));
                 DeviceTensor dx = DeviceTensor.of(cl, x); DeviceInts dy = DeviceInts.of(cl, labels)) {
                trainer.step(dx, dy, new Rng(1));
                long up = cl.uploadedBytes(), downBytes = cl.downloadedBytes(), allocs = cl.allocations();
                double loss = trainer.step(dx, dy, new Rng(2)).loss();
                assertTrue(Double.isFinite(loss), "loss " + loss);
                assertEquals(0, cl.allocations() - allocs, "buffers created by a steady-state regularized step");
                assertTrue(cl.downloadedBytes() - downBytes <= 12L * batch * 5 + 4L * batch + 8,
                        "bytes downloaded by a regularized step: per-example scalars");
                assertTrue(cl.uploadedBytes() - up <= 4L * x.shape.size() + 4L * batch * 5,
                        "bytes uploaded by a regularized step: the start vectors and flags");
            }
        }
    }
}
