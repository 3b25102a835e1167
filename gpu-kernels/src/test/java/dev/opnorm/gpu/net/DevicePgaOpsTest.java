package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModels;
import dev.opnorm.nn.layers.PlacedModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.robust.attack.AdversarialLoss;
import dev.opnorm.robust.attack.Attack;
import dev.opnorm.robust.attack.AttackResult;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.attack.PgaBackend;
import dev.opnorm.robust.attack.RobustAccuracy;

import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * robust's PGA on the device ({@code PgaBackend.placed} on a device model) against the same PGA on the host network
 * (ScalarKernels): l1, l2 and l_inf, restarts, targeted, predicted labels, the logit loss, alpha = inf; the
 * transfers of an attack (nothing per iteration); the robust accuracy on the device; iterates; bad input.
 */
class DevicePgaOpsTest {
    /** The OpenCL PGA backend: a host network runs as its cached device mirror. */
    private static PgaBackend backend(OpenCl cl) {
        return net -> PgaBackend.placed(PlacedModels.model(cl.ops(), net));
    }

    private final OpenCl cl = NetTesting.runtime();
    private Sequential used;

    @AfterEach
    void release() {
        if (used != null) {
            PlacedModels.release(used);
        }
    }

    /** Flatten -> Linear(192, 24) -> BatchNorm (1x1) -> ReLU -> Linear(24, 10): an MLP on (n, 3, 8, 8). */
    private static Sequential mlp(long seed) {
        ScalarKernels k = new ScalarKernels();
        Sequential net = new Sequential("mlp", new Flatten("0", k), new Linear("1", 192, 24, true, k),
                new BatchNorm2d("2", 24, true, k), new ReLU("3", k), new Linear("4", 24, 10, true, k));
        Random rnd = new Random(seed);
        for (Param p : net.params()) {
            for (int i = 0; i < p.value.length; i++) {
                p.value[i] = 0.3f * (float) rnd.nextGaussian();
            }
        }
        return NetTesting.withRandomStatistics(net, seed + 1);
    }

    private static Tensor uniform(long seed, int n, int c, int h, int w) {
        Random rnd = new Random(seed);
        float[] a = new float[n * c * h * w];
        for (int i = 0; i < a.length; i++) {
            a[i] = 2 * rnd.nextFloat() - 1;
        }
        return Tensor.of(n, c, h, w, a);
    }

    private Sequential use(Sequential net) {
        used = net;
        return net;
    }

    /**
     * Device vs host: per-example outcome (prediction, success, restart) identical, loss and x* to
     * NET_REL; {@code maxMismatch} elements of x* may differ by more (sign / argmax decisions on a gradient
     * entry within rounding of a tie, p = inf and 1), none by more than the ball's diameter.
     */
    private static void assertAgrees(AttackResult host, AttackResult dev, int maxMismatch, double eps, String what) {
        assertArrayEquals(host.cleanPredictions(), dev.cleanPredictions(), what + ": clean predictions");
        assertArrayEquals(host.labels(), dev.labels(), what + ": reference labels");
        assertArrayEquals(host.predictions(), dev.predictions(), what + ": predictions");
        assertArrayEquals(host.success(), dev.success(), what + ": success");
        assertArrayEquals(host.restart(), dev.restart(), what + ": restart");
        for (int i = 0; i < host.size(); i++) {
            double l = host.loss()[i];
            assertEquals(l, dev.loss()[i], NetTesting.NET_REL * Math.max(1, Math.abs(l)), what + ": loss " + i);
            double nm = host.perturbationNorm()[i];
            assertEquals(nm, dev.perturbationNorm()[i], NetTesting.ATTACK_NORM_REL * Math.max(eps, nm), what + ": norm " + i);
        }
        NetTesting.assertNear(host.logits(), dev.logits(), Math.max(1, NetTesting.maxAbs(host.logits())),
                what + ": logits");
        float[] h = host.adversarial().data, d = dev.adversarial().data;
        int mismatched = 0;
        for (int i = 0; i < h.length; i++) {
            double err = Math.abs((double) h[i] - d[i]);
            if (err > NetTesting.NET_REL) {
                mismatched++;
                assertTrue(err <= 2 * eps + 1e-6, what + ": x* element " + i + " off by " + err);
            }
        }
        if (mismatched > maxMismatch) {
            fail(what + ": " + mismatched + " elements of x* differ by more than " + NetTesting.NET_REL
                    + " (allowed " + maxMismatch + ")");
        }
    }

    @Test
    void l2_onCnn7_withRestarts_matchesHostPga() {
        Sequential net = use(NetTesting.cnn7(71L));
        Tensor x = uniform(72, 3, 3, 32, 32);
        int[] labels = {1, 4, 7};
        Pga pga = Pga.l2(1.0).iterations(3).restarts(2).seed(5);
        AttackResult host = pga.attack(net, x, labels, 10);
        AttackResult dev = pga.on(backend(cl)).attack(net, x, labels, 10);
        assertAgrees(host, dev, 0, 1.0, "l2 cnn7");
    }

    @Test
    void linf_onCnn7_matchesHostPga() {
        Sequential net = use(NetTesting.cnn7(73L));
        Tensor x = uniform(74, 2, 3, 32, 32);
        int[] labels = {2, 9};
        Pga pga = Pga.linf(0.03).iterations(3).seed(6);
        AttackResult host = pga.attack(net, x, labels, 0);
        AttackResult dev = pga.on(backend(cl)).attack(net, x, labels, 0);
        // a gradient entry within float rounding of 0 may take the other sign
        assertAgrees(host, dev, (int) (NetTesting.LINF_MISMATCH_FRACTION * x.data.length), 0.03, "linf cnn7");
    }

    @Test
    void l1_onMlp_andUnitDomain_matchesHostPga() {
        Sequential net = use(mlp(75L));
        Tensor x = uniform(76, 4, 3, 8, 8);
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = 0.5f * (x.data[i] + 1); // in [0, 1]; some at the boundary below
        }
        x.data[3] = 0f;
        x.data[200] = 1f;
        int[] labels = {0, 3, 5, 8};
        Pga pga = Pga.l1(2.0).iterations(5).restarts(2).seed(7).domain(Domain.UNIT);
        AttackResult host = pga.attack(net, x, labels, 3);
        AttackResult dev = pga.on(backend(cl)).attack(net, x, labels, 3);
        assertAgrees(host, dev, 0, 2.0, "l1 mlp");
    }

    @Test
    void targetedPredictedLogitLossAndInfiniteStep_onMlp_matchHostPga() {
        Sequential net = use(mlp(77L));
        Tensor x = uniform(78, 3, 3, 8, 8);
        int[] targets = {6, 6, 2};
        for (double p : new double[]{1, 2, Double.POSITIVE_INFINITY}) {
            Pga pga = Pga.lp(p, p == 1 ? 3 : p == 2 ? 1 : 0.1).iterations(4).seed(8);
            Attack dev = pga.on(backend(cl));
            int tol = p == Double.POSITIVE_INFINITY ? (int) Math.ceil(NetTesting.LINF_MISMATCH_FRACTION * x.data.length) : 0;
            assertAgrees(pga.attackTargeted(net, x, targets, 1), dev.attackTargeted(net, x, targets, 1), tol,
                    pga.eps(), "targeted p=" + p);
            assertAgrees(pga.attackPredicted(net, x, 2), dev.attackPredicted(net, x, 2), tol, pga.eps(),
                    "predicted p=" + p);
            Pga logit = pga.loss(AdversarialLoss.logitLq(2)).restarts(2);
            assertAgrees(logit.attack(net, x, targets, 0), logit.on(backend(cl)).attack(net, x, targets, 0), tol,
                    pga.eps(), "logit loss p=" + p);
            Pga inf = pga.alpha(Double.POSITIVE_INFINITY).randomStart(false);
            assertAgrees(inf.attack(net, x, targets, 0), inf.on(backend(cl)).attack(net, x, targets, 0), tol,
                    pga.eps(), "alpha inf p=" + p);
        }
    }

    @Test
    void run_movesNothingPerIteration_onlyStartsAndOneStatsDownload() {
        Sequential net = use(NetTesting.cnn7(79L));
        Tensor x = uniform(80, 2, 3, 32, 32);
        PlacedModel<DeviceTensor, DeviceInts> model = PlacedModels.model(cl.ops(), net);
        try (DeviceTensor dx = DeviceTensor.of(cl, x); DeviceInts labels = DeviceInts.of(cl, new int[]{3, 1});
             DeviceTensor xAdv = DeviceTensor.allocate(cl, x.shape)) {
            for (int iterations : new int[]{1, 4}) {
                Pga pga = Pga.l2(0.5).iterations(iterations).restarts(2).seed(3);
                long up = cl.uploads(), down = cl.downloads(), downBytes = cl.downloadedBytes();
                long allocs = cl.allocations();
                Pga.Outcome o = pga.run(PgaBackend.placed(model), dx, x.shape, labels, Pga.Target.LABELS, 0, xAdv, null);
                if (iterations > 1) {
                    assertEquals(0, cl.allocations() - allocs, "device buffers created by a second attack (pooled)");
                }
                assertEquals(2, cl.uploads() - up, "uploads: one start per restart, nothing per iteration");
                assertEquals(1, cl.downloads() - down, "downloads: the statistics once");
                assertEquals(4L * 2 * 8, cl.downloadedBytes() - downBytes, "8 floats per example");
                assertEquals(2, o.size());
                // a clean start uploads nothing at all
                Pga clean = Pga.l2(0.5).iterations(iterations).randomStart(false);
                up = cl.uploads();
                clean.run(PgaBackend.placed(model), dx, x.shape, labels, Pga.Target.LABELS, 0, null, null);
                assertEquals(0, cl.uploads() - up, "clean start: no upload");
            }
            // the host entry point: x and labels up, the starts, stats + x* + logits down
            Attack pga = Pga.linf(0.01).iterations(3).seed(2).on(backend(cl));
            long up = cl.uploads(), down = cl.downloads();
            pga.attack(net, x, new int[]{3, 1}, 0);
            assertEquals(3, cl.uploads() - up, "x, labels, one start");
            assertEquals(3, cl.downloads() - down, "statistics, x*, logits");
            // the outcome alone: x, labels, one start up, the statistics down
            up = cl.uploads();
            down = cl.downloads();
            Pga.linf(0.01).iterations(3).seed(2).outcome(backend(cl), net, x, new int[]{3, 1},
                    Pga.Target.LABELS, 0);
            assertEquals(3, cl.uploads() - up, "outcome: x, labels, one start");
            assertEquals(1, cl.downloads() - down, "outcome: the statistics only");
        }
    }

    @Test
    void iterateListener_onDevice_seesTheHostIterates_oneDownloadEach() {
        Sequential net = use(mlp(86L));
        Tensor x = uniform(87, 2, 3, 8, 8);
        int[] labels = {1, 2};
        java.util.List<float[]> host = new java.util.ArrayList<>(), dev = new java.util.ArrayList<>();
        Pga pga = Pga.l2(0.5).iterations(3).restarts(2).seed(9);
        pga.onIterate((r, k, xk) -> host.add(xk.data.clone())).attack(net, x, labels, 0);
        Attack onDevice = pga.onIterate((r, k, xk) -> dev.add(xk.data.clone())).on(backend(cl));
        PlacedModels.model(cl.ops(), net);
        long down = cl.downloads();
        onDevice.attack(net, x, labels, 0);
        assertEquals(2 * 4, dev.size(), "iterates 0..3 of two restarts");
        assertEquals(2 * 4 + 3, cl.downloads() - down, "one download per iterate, then statistics, x*, logits");
        assertEquals(host.size(), dev.size());
        for (int i = 0; i < host.size(); i++) {
            NetTesting.assertNear(host.get(i), dev.get(i), 1, "iterate " + i);
        }
    }

    @Test
    void deviceRobustAccuracy_equalsHostRobustAccuracy_inBatches() {
        Sequential net = use(mlp(81L));
        Tensor x = uniform(82, 7, 3, 8, 8);
        int[] labels = {0, 1, 2, 3, 4, 5, 6};
        // label each example with its clean prediction half of the time, so that clean accuracy is not 0
        float[] logits = net.forward(x).data;
        for (int i = 0; i < labels.length; i += 2) {
            int arg = 0;
            for (int j = 1; j < 10; j++) {
                arg = logits[i * 10 + j] > logits[i * 10 + arg] ? j : arg;
            }
            labels[i] = arg;
        }
        Dataset data = new Dataset("tiny", x, labels, 10, Domain.SYMMETRIC);
        Pga pga = Pga.l2(0.5).iterations(3).restarts(2).seed(4);
        RobustAccuracy host = RobustAccuracy.of(net, data, pga, 3);
        PlacedModels.model(cl.ops(), net);
        long up = cl.uploads(), down = cl.downloads();
        RobustAccuracy dev = RobustAccuracy.of(net, data, pga, backend(cl), 4);
        // two batches (4 + 3): images, labels and two starts up, the statistics down, per batch
        assertEquals(2 * 4, cl.uploads() - up, "uploads of the device robust accuracy");
        assertEquals(2, cl.downloads() - down, "downloads of the device robust accuracy");
        assertEquals(host, dev);
        assertTrue(host.cleanCorrect() >= 4, "clean correct " + host.cleanCorrect());
    }

    @Test
    void badInput_isClearError() {
        Sequential net = use(mlp(83L));
        Tensor x = uniform(84, 2, 3, 8, 8);
        Attack pga = Pga.l2(0.5).on(backend(cl));
        Tensor nan = uniform(84, 2, 3, 8, 8);
        nan.data[5] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> pga.attack(net, nan, new int[]{0, 1}, 0));
        assertTrue(e.getMessage().contains("NaN at element 5"), e.getMessage());
        Tensor outside = uniform(84, 2, 3, 8, 8);
        outside.data[9] = 1.5f;
        e = assertThrows(IllegalArgumentException.class, () -> pga.attack(net, outside, new int[]{0, 1}, 0));
        assertTrue(e.getMessage().contains("domain"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pga.attack(net, x, new int[]{0, 10}, 0));
        assertTrue(e.getMessage().contains("labels[1] = 10"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pga.attack(net, x, new int[]{0}, 0));
        assertTrue(e.getMessage().contains("1 labels for a batch of 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Pga.l2(0.5).loss(AdversarialLoss.logitLq(2))
                .on(backend(cl)).attackTargeted(net, x, new int[]{0, 1}, 0));
        assertTrue(e.getMessage().contains("targeted attack needs the cross-entropy"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pga.attack(net, uniform(85, 2, 3, 9, 9), new int[]{0, 1}, 0));
        assertTrue(e.getMessage().contains("Linear"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pga.attack(net, x, new int[]{0, 1}, -1));
        assertTrue(e.getMessage().contains("firstExample"), e.getMessage());
    }
}
