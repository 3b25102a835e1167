package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.gpu.DeviceInts;
import static dev.opnorm.gpu.net.NetTesting.assertNear;
import static dev.opnorm.gpu.net.NetTesting.maxAbs;
import static dev.opnorm.gpu.net.NetTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.linalg.BatchLinearMap;
import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Sequential;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * linalg's (p,q) iteration run on the device (PlacedLinearization.asBatchMap with PlacedBatchOps) against
 * the same iteration on the host network (CNN7 width 1/16,
 * ScalarKernels) for every kind of exponent pair (alpha = inf, and finite alpha for p = 1, 2, inf), its device-resident maximizers (checked by
 * recomputing ||J v||_q on the host from the downloaded v), u = D_q(J v), restarts, its transfers, and
 * the (2,2) power method's kept vectors against PowerMethod's u and v.
 */
class OperatorNormOnDeviceTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final int BATCH = 2;

    private static Tensor input(int batch, long seed) {
        return Tensor.of(batch, 3, 32, 32, randn(new Random(seed), batch * 3 * 32 * 32));
    }

    /** ||J_i v_i||_q / ||v_i||_p on the host map for the rows of v. */
    private static double[] hostValues(BatchLinearMap map, float[] v, double p, double q) {
        int b = map.batch(), n = map.inDim(), m = map.outDim();
        float[] w = new float[b * m];
        map.apply(v, w);
        double[] out = new double[b];
        for (int i = 0; i < b; i++) {
            out[i] = Norms.lp(w, i * m, m, q) / Norms.lp(v, i * n, n, p);
        }
        return out;
    }

    @Test
    void deviceIteration_matchesOperatorNorm_forEveryExponentPair() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(41L);
        Tensor x = input(BATCH, 43);
        BatchLinearMap host = net.linearize(x, BnMode.EVAL).asBatchLinearMap();
        double[][] pairs = {{2, 2}, {INF, 2}, {1, 2}, {2, 1}, {2, INF}, {INF, 1}, {3, 1.5}};
        OperatorNorm.Options o = new OperatorNorm.Options(8, 0, INF, 1, 5L);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL)) {
            for (double[] pq : pairs) {
                double p = pq[0], q = pq[1];
                String what = "(" + Norms.format(p) + "," + Norms.format(q) + ")";
                List<OperatorNorm.Result> want = OperatorNorm.estimate(host, p, q, o);
                try (OperatorNorm.BatchResult<DeviceTensor> got = OperatorNorm.estimate(lin.asBatchMap(), PlacedBatchOps.of(model), p, q,
                        o, null, true)) {
                    float[] v = got.v().download();
                    double[] recomputed = hostValues(host, v, p, q);
                    int n = host.inDim(), m = host.outDim();
                    float[] w = new float[BATCH * m], u = new float[BATCH * m];
                    host.apply(v, w);
                    for (int i = 0; i < BATCH; i++) {
                        double value = want.get(i).value();
                        assertTrue(value > 0, what + " host value");
                        assertEquals(value, got.value()[i], NetTesting.NET_REL * value, what + " value of example " + i);
                        assertEquals(got.value()[i], recomputed[i], NetTesting.NET_REL * value,
                                what + " the device v attains the device value, example " + i);
                        assertEquals(1, Norms.lp(v, i * n, n, p), 1e-5, what + " ||v||_p, example " + i);
                        assertEquals(want.get(i).iterations(), got.iterations()[i], what + " iterations");
                        DualMaps.dual(w, i * m, m, q, u, i * m);
                    }
                    if (p != 1 && p != INF) { // sign / one-hot maximizers may flip on float-rounding ties
                        float[] hostV = new float[BATCH * n];
                        for (int i = 0; i < BATCH; i++) {
                            System.arraycopy(want.get(i).v(), 0, hostV, i * n, n);
                        }
                        assertNear(hostV, v, maxAbs(hostV), what + " maximizer v");
                    }
                    if (q != 1 && q != INF) {
                        assertNear(u, got.u().download(), maxAbs(u), what + " u = D_q(J v)");
                    }
                }
            }
        }
    }

    @Test
    void finiteAlphaIteration_matchesOperatorNorm_forP1P2Inf() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(53L);
        Tensor x = input(BATCH, 54);
        BatchLinearMap host = net.linearize(x, BnMode.EVAL).asBatchLinearMap();
        // {p, q, alpha}: alpha from small (many projected steps, inside and outside the ball) to large
        double[][] cases = {{2, 2, 0.5}, {2, 1, 1}, {2, 3, 0.05}, {INF, 2, 0.05}, {INF, 1, 2}, {1, 2, 0.5},
                {1, INF, 0.1}};
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL)) {
            int n = host.inDim();
            for (double[] c : cases) {
                double p = c[0], q = c[1];
                OperatorNorm.Options o = new OperatorNorm.Options(10, 0, c[2], 2, 9L);
                String what = "(" + Norms.format(p) + "," + Norms.format(q) + ") alpha " + c[2];
                List<OperatorNorm.Result> want = OperatorNorm.estimate(host, p, q, o);
                try (OperatorNorm.BatchResult<DeviceTensor> got = OperatorNorm.estimate(lin.asBatchMap(), PlacedBatchOps.of(model), p, q, o, null,
                        false)) {
                    float[] v = got.v().download();
                    double[] recomputed = hostValues(host, v, p, q);
                    for (int i = 0; i < BATCH; i++) {
                        double value = want.get(i).value();
                        assertTrue(value > 0, what + " host value");
                        assertEquals(value, got.value()[i], NetTesting.NET_REL * value, what + " value of example " + i);
                        assertEquals(got.value()[i], recomputed[i], NetTesting.NET_REL * value,
                                what + " the device v attains the device value, example " + i);
                        assertEquals(1, Norms.lp(v, i * n, n, p), 1e-5, what + " ||v||_p, example " + i);
                        assertEquals(want.get(i).iterations(), got.iterations()[i], what + " iterations");
                        assertEquals(want.get(i).restart(), got.restart()[i], what + " best restart");
                    }
                    // with q = 2 (or 3) every step is Lipschitz in v: the radial rescale, and from outside the ball
                    // the l_inf clip and the l1 soft threshold; with q = 1 or inf, D_q takes signs / one-hots
                    if (q != 1 && q != INF) {
                        float[] hostV = new float[BATCH * n];
                        for (int i = 0; i < BATCH; i++) {
                            System.arraycopy(want.get(i).v(), 0, hostV, i * n, n);
                        }
                        assertNear(hostV, v, maxAbs(hostV), what + " maximizer v");
                    }
                }
            }
        }
    }

    @Test
    void deviceIteration_movesOnlyPerExampleScalars() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(44L);
        int b = 3, k = 6;
        Tensor x = input(b, 45);
        OperatorNorm.Options o = new OperatorNorm.Options(k, 0, INF, 1, 6L);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL)) {
            int n = lin.inShape().perExample();
            // {p, q, alpha}: the finite-alpha step (sphere projection) moves nothing either
            for (double[] pq : new double[][]{{2, 2, INF}, {INF, 1, INF}, {1, 2, 0.5}, {INF, 2, 0.05}}) {
                long up = cl.uploads(), upBytes = cl.uploadedBytes(), down = cl.downloads(),
                        downBytes = cl.downloadedBytes();
                try (OperatorNorm.BatchResult<DeviceTensor> r = OperatorNorm.estimate(lin.asBatchMap(), PlacedBatchOps.of(model),
                        pq[0], pq[1], o.withAlpha(pq[2]), null, false)) {
                    // (inf,1) may stop early: its sign iterates repeat exactly, so relTol 0 is met
                    int iters = Arrays.stream(r.iterations()).max().orElseThrow();
                    assertTrue(iters >= 2 && iters <= k, "iterations " + iters);
                    assertEquals(iters, cl.downloads() - down, "downloads: one per iteration");
                    assertEquals(4L * b * (2 + 3 * (iters - 1)), cl.downloadedBytes() - downBytes,
                            "bytes: 2 floats per example, then 3 (with ||J^T u||_inf)");
                    long ups = cl.uploads() - up;
                    // flags go up only when they differ from the ones on the device (possibly left by the previous run)
                    assertTrue(ups >= 1 && ups <= 1 + iters, "uploads: the start vectors and changed flags, got " + ups);
                    assertEquals(4L * b * n + 4L * b * (ups - 1), cl.uploadedBytes() - upBytes,
                            "upload bytes: start vectors, then one int per example per flag upload");
                }
            }
        }
    }

    @Test
    void restarts_keepTheBestRun_likeOperatorNorm() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(46L);
        Tensor x = input(BATCH, 47);
        BatchLinearMap host = net.linearize(x, BnMode.EVAL).asBatchLinearMap();
        OperatorNorm.Options o = new OperatorNorm.Options(30, 1e-6, INF, 3, 8L);
        int n = host.inDim();
        float[] start = randn(new Random(48), BATCH * n);
        List<OperatorNorm.Result> want = OperatorNorm.estimate(host, INF, 2, o, start);
        float[] startCopy = start.clone();
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL);
             OperatorNorm.BatchResult<DeviceTensor> got = OperatorNorm.estimate(lin.asBatchMap(), PlacedBatchOps.of(model), INF, 2, o,
                     start, false)) {
            assertTrue(Arrays.equals(startCopy, start), "start vectors are not modified");
            double[] recomputed = hostValues(host, got.v().download(), INF, 2);
            for (int i = 0; i < BATCH; i++) {
                double value = want.get(i).value();
                assertEquals(value, got.value()[i], NetTesting.NET_REL * value, "value of example " + i);
                assertEquals(want.get(i).restart(), got.restart()[i], "best restart of example " + i);
                assertEquals(want.get(i).converged(), got.converged()[i], "converged, example " + i);
                assertEquals(got.value()[i], recomputed[i], NetTesting.NET_REL * value, "v attains the value");
            }
            assertThrows(IllegalStateException.class, got::u, "u was not asked for");
        }
    }

    @Test
    void deviceIteration_rejectsTrainModeFiniteAlphaForOtherPAndBadStarts() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(49L);
        Tensor x = input(BATCH, 50);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> eval = model.linearize(x, BnMode.EVAL);
             PlacedLinearization<DeviceTensor> train = model.linearize(x, BnMode.TRAIN)) {
            OperatorNorm.Options o = OperatorNorm.Options.defaults().withMaxIterations(2);
            assertThrows(IllegalArgumentException.class, () -> OperatorNorm.estimate(train.asBatchMap(), PlacedBatchOps.of(model), 2, 2, o,
                    null, false));
            IllegalArgumentException alpha = assertThrows(IllegalArgumentException.class,
                    () -> OperatorNorm.estimate(eval.asBatchMap(), PlacedBatchOps.of(model), 3, 2, o.withAlpha(1), null, false));
            assertTrue(alpha.getMessage().contains("p = 3"), alpha.getMessage());
            assertThrows(IllegalArgumentException.class, () -> OperatorNorm.estimate(eval.asBatchMap(), PlacedBatchOps.of(model), 0.5, 2, o,
                    null, false));
            assertThrows(IllegalArgumentException.class,
                    () -> OperatorNorm.estimate(eval.asBatchMap(), PlacedBatchOps.of(model), 2, 2, o, new float[3], false));
            int len = eval.inShape().size();
            assertThrows(IllegalArgumentException.class,
                    () -> OperatorNorm.estimate(eval.asBatchMap(), PlacedBatchOps.of(model), 2, 2, o, new float[len], false), "zero start vector");
        }
    }

    @Test
    void powerMethodWithVectors_matchesPowerMethodVectors() {
        OpenCl cl = NetTesting.runtime();
        Sequential net = NetTesting.cnn7(51L);
        Tensor x = input(BATCH, 52);
        PowerMethod.Options o = new PowerMethod.Options(12, 0, 3L);
        BatchLinearMap host = net.linearize(x, BnMode.EVAL).asBatchLinearMap();
        List<PowerMethod.Result> want = PowerMethod.sigmaMax(host, o);
        try (PlacedModel<DeviceTensor, DeviceInts> model = new PlacedModel<>(cl.ops(), net);
             PlacedLinearization<DeviceTensor> lin = model.linearize(x, BnMode.EVAL);
             PowerMethod.BatchResult<DeviceTensor> got = PowerMethod.sigmaMax(lin.asBatchMap(), PlacedBatchOps.of(model), o, null,
                     true)) {
            int n = host.inDim(), m = host.outDim();
            float[] v = got.v().download(), u = got.u().download();
            for (int i = 0; i < BATCH; i++) {
                double s = want.get(i).sigma();
                assertEquals(s, got.sigma()[i], NetTesting.NET_REL * s, "sigma of example " + i);
                float[] wv = want.get(i).v(), wu = want.get(i).u();
                assertNear(wv, Arrays.copyOfRange(v, i * n, (i + 1) * n), maxAbs(wv), "v of example " + i);
                assertNear(wu, Arrays.copyOfRange(u, i * m, (i + 1) * m), maxAbs(wu), "u of example " + i);
            }
        }
    }
}
