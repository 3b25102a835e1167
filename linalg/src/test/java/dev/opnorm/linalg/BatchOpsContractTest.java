package dev.opnorm.linalg;

import static dev.opnorm.linalg.Fixtures.INF;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The batched iterations through the {@link BatchOps} seam, on a backend that counts what crosses it:
 * what a device backend would transfer (one read of b or 2-3 b scalars per iteration, the start vectors
 * up once per run, nothing down), that every buffer goes back, and that the generic methods are the
 * host methods bit for bit. Also the deferred stop of an example whose A^T u is zero.
 */
class BatchOpsContractTest {
    /** HostBatchOps with counters on the calls a device backend pays a transfer for. */
    static final class CountingOps implements BatchOps<float[], double[]> {
        final HostBatchOps host = HostBatchOps.INSTANCE;
        int reads, uploads, downloads, live;
        long scalarsRead;
        final List<Integer> readSizes = new ArrayList<>();

        @Override public float[] allocate(int rows, int cols) { live++; return host.allocate(rows, cols); }
        @Override public void release(float[] v) { live--; }
        @Override public double[] scalars(int count) { live++; return host.scalars(count); }
        @Override public void releaseScalars(double[] s) { live--; }
        @Override public void upload(float[] src, float[] dst, int rows, int cols) { uploads++; host.upload(src, dst, rows, cols); }
        @Override public float[] download(float[] src, int rows, int cols) { downloads++; return host.download(src, rows, cols); }
        @Override public void rowNorms(double[] out, int off, float[] a, int rows, int cols, double p) { host.rowNorms(out, off, a, rows, cols, p); }

        @Override
        public double[] read(double[] s, int count) {
            reads++;
            scalarsRead += count;
            readSizes.add(count);
            return host.read(s, count);
        }

        @Override public void divideRows(float[] y, float[] x, double[] n, int off, int rows, int cols) { host.divideRows(y, x, n, off, rows, cols); }
        @Override public void dualRows(float[] out, float[] a, int rows, int cols, double q) { host.dualRows(out, a, rows, cols, q); }
        @Override public void sphereStep(float[] v, float[] z, double alpha, int rows, int cols, double p) { host.sphereStep(v, z, alpha, rows, cols, p); }
        @Override public void checkSphereStep(double p) { host.checkSphereStep(p); }
        @Override public void copyRowsWhere(float[] dst, float[] src, boolean[] rows, int cols) { host.copyRowsWhere(dst, src, rows, cols); }
    }

    /** Four maps whose spectral gaps differ, so examples converge at different iterations. */
    private static BatchLinearMap batch() {
        List<LinearMap> maps = new ArrayList<>();
        double[][] spectra = {{3, 1, 0.5}, {3, 2.9, 1}, {1, 0.2, 0.1}, {2, 1.9, 1.8}};
        for (int i = 0; i < spectra.length; i++) maps.add(LinearMaps.of(Fixtures.withSpectrum(6, 8, spectra[i], 40 + i)));
        return BatchLinearMaps.of(maps);
    }

    @Test
    void powerMethod_readsOneScalarPerExamplePerIteration_andEqualsTheHostMethod() {
        BatchLinearMap a = batch();
        int b = a.batch(), n = a.inDim(), m = a.outDim();
        PowerMethod.Options o = new PowerMethod.Options(200, 1e-6, 3);
        List<PowerMethod.Result> want = PowerMethod.sigmaMax(a, o);
        CountingOps ops = new CountingOps();
        int iterations;
        try (PowerMethod.BatchResult<float[]> got = PowerMethod.sigmaMax(a, ops, o, null, true)) {
            iterations = java.util.Arrays.stream(got.iterations()).max().orElseThrow();
            int fewest = java.util.Arrays.stream(got.iterations()).min().orElseThrow();
            assertTrue(fewest < iterations, "examples stop at different iterations: " + fewest + " vs " + iterations);
            assertEquals(iterations, ops.reads, "one read per iteration");
            assertEquals((long) b * iterations, ops.scalarsRead, "one scalar per example per read");
            assertEquals(1, ops.uploads, "the start vectors, once");
            assertEquals(0, ops.downloads, "no vector comes back");
            for (int i = 0; i < b; i++) {
                PowerMethod.Result w = want.get(i);
                assertEquals(w.sigma(), got.sigma()[i], 0, "sigma " + i);
                assertEquals(w.iterations(), got.iterations()[i], "iterations " + i);
                assertEquals(w.converged(), got.converged()[i], "converged " + i);
                // the vectors of an example that stopped early are its own, frozen when it stopped
                assertArrayEquals(w.v(), java.util.Arrays.copyOfRange(got.v(), i * n, (i + 1) * n), 0f, "v " + i);
                assertArrayEquals(w.u(), java.util.Arrays.copyOfRange(got.u(), i * m, (i + 1) * m), 0f, "u " + i);
            }
            assertEquals(1 + 1, ops.live, "only the result's u and v are held");
        }
        assertEquals(0, ops.live, "every buffer given back");
        try (PowerMethod.BatchResult<float[]> bare = PowerMethod.sigmaMax(a, ops, o, null, false)) {
            assertThrows(IllegalStateException.class, bare::v, "vectors not kept");
        }
        assertEquals(0, ops.live);
    }

    @Test
    void operatorNorm_readsTwoThenThreeScalarsPerExample_andEqualsTheHostMethod() {
        BatchLinearMap a = batch();
        int b = a.batch(), n = a.inDim();
        for (double[] c : new double[][] {{INF, 2, INF}, {2, 1, INF}, {1, 2, 0.5}, {3, 2, 0.2}}) {
            OperatorNorm.Options o = new OperatorNorm.Options(40, 1e-7, c[2], 3, 8);
            String what = java.util.Arrays.toString(c);
            List<OperatorNorm.Result> want = OperatorNorm.estimate(a, c[0], c[1], o);
            CountingOps ops = new CountingOps();
            try (OperatorNorm.BatchResult<float[]> got = OperatorNorm.estimate(a, ops, c[0], c[1], o, null, true)) {
                assertEquals(o.restarts(), ops.uploads, what + ": the start vectors, once per run");
                assertEquals(0, ops.downloads, what);
                int firsts = 0;
                for (int size : ops.readSizes) {
                    assertTrue(size == 2 * b || size == 3 * b, what + ": read of " + size);
                    if (size == 2 * b) firsts++;
                }
                assertEquals(o.restarts(), firsts, what + ": 2 scalars per example in each run's first iteration");
                for (int i = 0; i < b; i++) {
                    OperatorNorm.Result w = want.get(i);
                    assertEquals(w.value(), got.value()[i], 0, what + " value " + i);
                    assertEquals(w.restart(), got.restart()[i], what + " restart " + i);
                    assertEquals(w.iterations(), got.iterations()[i], what + " iterations " + i);
                    assertArrayEquals(w.v(), java.util.Arrays.copyOfRange(got.v(), i * n, (i + 1) * n), 0f, what + " v " + i);
                }
                // u = D_q(A v) of the maximizers
                float[] av = new float[b * a.outDim()], u = new float[av.length];
                a.apply(got.v(), av);
                HostBatchOps.INSTANCE.dualRows(u, av, b, a.outDim(), c[1]);
                assertArrayEquals(u, got.u(), 0f, what + " u");
            }
            assertEquals(0, ops.live, what + ": every buffer given back");
        }
    }

    /**
     * A "transpose" that is zero for example 1 (not a real transpose: it stands for underflow): that
     * example stops as converged after one iteration, read one iteration later, while example 0 runs on.
     */
    @Test
    void operatorNorm_zeroTranspose_stopsThatExampleOnly() {
        BatchLinearMap inner = batch();
        BatchLinearMap a = new BatchLinearMap() {
            @Override public int batch() { return 2; }
            @Override public int inDim() { return inner.inDim(); }
            @Override public int outDim() { return inner.outDim(); }

            @Override
            public void apply(float[] v, float[] out) {
                float[] vv = java.util.Arrays.copyOf(v, inner.batch() * inDim()), o = new float[inner.batch() * outDim()];
                inner.apply(vv, o);
                System.arraycopy(o, 0, out, 0, out.length);
            }

            @Override
            public void applyTranspose(float[] u, float[] out) {
                float[] uu = java.util.Arrays.copyOf(u, inner.batch() * outDim()), o = new float[inner.batch() * inDim()];
                inner.applyTranspose(uu, o);
                System.arraycopy(o, 0, out, 0, inDim());
                java.util.Arrays.fill(out, inDim(), 2 * inDim(), 0f);
            }
        };
        OperatorNorm.Options o = new OperatorNorm.Options(30, 1e-7, INF, 1, 5);
        List<OperatorNorm.Result> r = OperatorNorm.estimate(a, 2, 2, o);
        assertEquals(1, r.get(1).iterations(), "stopped in the iteration whose transpose was zero");
        assertTrue(r.get(1).converged(), "a zero A^T u counts as converged");
        float[] start = StartVectors.batch(2, a.inDim(), 5, 0);
        double first = Norms.lp(start, a.inDim(), a.inDim(), 2);
        for (int j = a.inDim(); j < 2 * a.inDim(); j++) start[j] = (float) (start[j] / first);
        assertArrayEquals(java.util.Arrays.copyOfRange(start, a.inDim(), 2 * a.inDim()), r.get(1).v(), 0f,
                "its maximizer is the normalized start");
        assertTrue(r.get(0).iterations() > 1, "the other example runs on: " + r.get(0).iterations());
    }
}
