package dev.opnorm.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

class PowerMethodTest {
    private static final PowerMethod.Options TIGHT = PowerMethod.Options.defaults().withRelTol(1e-9).withMaxIterations(3000);

    @Test
    void sigmaMax_matchesEjmlSvd_onRandomMatrices() {
        for (long seed = 0; seed < 20; seed++) {
            int rows = 5 + (int) (seed * 7 % 40), cols = 3 + (int) (seed * 11 % 30);
            DMatrixRMaj a = Fixtures.gaussian(rows, cols, seed);
            double want = Svd.values(a)[0];
            PowerMethod.Result r = PowerMethod.sigmaMax(LinearMaps.of(a), TIGHT.withSeed(seed));
            assertEquals(want, r.sigma(), Tolerances.SIGMA * want, "seed " + seed + " " + rows + "x" + cols);
        }
    }

    @Test
    void sigmaMax_reportsConsistentVectors_andConverges() {
        DMatrixRMaj a = Fixtures.withSpectrum(30, 20, new double[] {5, 3, 2, 1}, 4);
        LinearMap map = LinearMaps.of(a);
        PowerMethod.Result r = PowerMethod.sigmaMax(map, TIGHT);
        assertTrue(r.converged());
        assertTrue(r.iterations() > 1 && r.iterations() < 200, "iterations " + r.iterations());
        assertEquals(5, r.sigma(), 5 * Tolerances.SIGMA);
        assertEquals(1, Norms.lp(r.v(), 2), Tolerances.F32);
        assertEquals(1, Norms.lp(r.u(), 2), Tolerances.F32);
        float[] av = new float[30];
        map.apply(r.v(), av);
        assertEquals(r.sigma(), Norms.dot(r.u(), av), Tolerances.F32 * r.sigma(), "sigma = u^T A v");
        // v is the top right singular vector up to sign
        Svd.Result svd = Svd.of(a);
        double cos = 0;
        for (int i = 0; i < 20; i++) cos += svd.v().get(i, 0) * r.v()[i];
        assertEquals(1, Math.abs(cos), 1e-5);
    }

    @Test
    void sigmaMax_stopsAtCap_andSaysNotConverged() {
        DMatrixRMaj a = Fixtures.withSpectrum(20, 20, new double[] {1, 0.999, 0.5}, 5);
        PowerMethod.Result r = PowerMethod.sigmaMax(LinearMaps.of(a), TIGHT.withMaxIterations(3));
        assertFalse(r.converged());
        assertEquals(3, r.iterations());
        assertTrue(r.sigma() <= 1 + Tolerances.F32);
    }

    @Test
    void sigmaMax_ofZeroMap_isZeroWithoutNaN() {
        PowerMethod.Result r = PowerMethod.sigmaMax(LinearMaps.of(new DMatrixRMaj(4, 3)), TIGHT);
        assertEquals(0, r.sigma());
        assertTrue(r.converged());
        for (float x : r.u()) assertEquals(0f, x);
        for (float x : r.v()) assertTrue(Float.isFinite(x));
    }

    @Test
    void sigmaMax_isDeterministic_forASeed() {
        LinearMap map = LinearMaps.of(Fixtures.gaussian(17, 9, 3));
        PowerMethod.Result a = PowerMethod.sigmaMax(map, TIGHT.withSeed(42)), b = PowerMethod.sigmaMax(map, TIGHT.withSeed(42));
        assertEquals(a.sigma(), b.sigma(), 0);
        assertArrayEquals(a.v(), b.v(), 0f);
    }

    @Test
    void sigmaMax_batched_equalsPerExampleRuns() {
        List<LinearMap> maps = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            // different gaps: the examples converge after different numbers of iterations
            maps.add(LinearMaps.of(Fixtures.withSpectrum(12, 8, new double[] {2, 2 - 0.3 * (i + 1), 0.1}, 100 + i)));
        }
        PowerMethod.Options o = PowerMethod.Options.defaults().withRelTol(1e-7).withSeed(9);
        CountingBatch batch = new CountingBatch(BatchLinearMaps.of(maps));
        List<PowerMethod.Result> got = batch.run(b -> PowerMethod.sigmaMax(b, o));
        int maxIters = 0;
        for (int i = 0; i < 5; i++) {
            PowerMethod.Result single = PowerMethod.sigmaMax(maps.get(i), o.withSeed(StartVectors.exampleSeed(9, i)));
            assertEquals(single.sigma(), got.get(i).sigma(), 0, "example " + i);
            assertEquals(single.iterations(), got.get(i).iterations(), "example " + i);
            assertArrayEquals(single.v(), got.get(i).v(), 0f);
            assertArrayEquals(single.u(), got.get(i).u(), 0f);
            maxIters = Math.max(maxIters, single.iterations());
        }
        assertTrue(got.get(0).iterations() != got.get(4).iterations(), "examples should stop at different times");
        assertEquals(maxIters, batch.applies, "one batched apply per iteration");
        assertEquals(maxIters - 1, batch.transposes, "one batched applyTranspose per iteration");
    }

    @Test
    void topK_matchesEjmlSvd() {
        DMatrixRMaj a = Fixtures.withSpectrum(60, 40, new double[] {10, 8, 6, 4, 3, 2, 1.5, 1, 0.5, 0.2}, 6);
        PowerMethod.Spectrum s = PowerMethod.topK(LinearMaps.of(a), 4, TIGHT);
        assertTrue(s.converged());
        Svd.Result svd = Svd.of(a);
        for (int j = 0; j < 4; j++) {
            assertEquals(svd.singularValues()[j], s.sigmas()[j], 1e-6 * svd.singularValues()[0], "sigma_" + j);
            double cv = 0, cu = 0;
            for (int i = 0; i < 40; i++) cv += svd.v().get(i, j) * s.v()[j][i];
            for (int i = 0; i < 60; i++) cu += svd.u().get(i, j) * s.u()[j][i];
            assertEquals(1, Math.abs(cv), 1e-5, "v_" + j);
            assertEquals(1, Math.abs(cu), 1e-5, "u_" + j);
            assertEquals(cv, cu, 2e-5, "u_j and v_j signs agree");
        }
        DMatrixRMaj g = Fixtures.gaussian(25, 7, 8); // k = full rank: exact after one block step
        PowerMethod.Spectrum all = PowerMethod.topK(LinearMaps.of(g), 7, TIGHT);
        double[] want = Svd.values(g);
        for (int j = 0; j < 7; j++) assertEquals(want[j], all.sigmas()[j], 1e-6 * want[0]);
        assertThrows(IllegalArgumentException.class, () -> PowerMethod.topK(LinearMaps.of(g), 8, TIGHT));
    }

    @Test
    void sigmaMax_rejectsBadOptionsAndStart() {
        assertThrows(IllegalArgumentException.class, () -> new PowerMethod.Options(0, 1e-6, 0));
        assertThrows(IllegalArgumentException.class, () -> new PowerMethod.Options(10, -1, 0));
        LinearMap map = LinearMaps.of(Fixtures.gaussian(3, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> PowerMethod.sigmaMax(map, TIGHT, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> PowerMethod.sigmaMax(map, TIGHT, new float[3]));
    }

    /** Counts the batch calls an algorithm makes. */
    static final class CountingBatch implements BatchLinearMap {
        final BatchLinearMap inner;
        int applies, transposes;

        CountingBatch(BatchLinearMap inner) { this.inner = inner; }

        <T> T run(java.util.function.Function<BatchLinearMap, T> f) { return f.apply(this); }

        @Override public int batch() { return inner.batch(); }
        @Override public int inDim() { return inner.inDim(); }
        @Override public int outDim() { return inner.outDim(); }
        @Override public void apply(float[] v, float[] out) { applies++; inner.apply(v, out); }
        @Override public void applyTranspose(float[] u, float[] out) { transposes++; inner.applyTranspose(u, out); }
    }
}
