package dev.opnorm.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

class JacobiansSvdTest {

    /** Counts calls, to check which direction extract() chooses. */
    private static final class Counting implements LinearMap {
        final LinearMap inner;
        int applies, transposes;
        Counting(LinearMap inner) { this.inner = inner; }
        @Override public int inDim() { return inner.inDim(); }
        @Override public int outDim() { return inner.outDim(); }
        @Override public void apply(float[] v, float[] out) { applies++; inner.apply(v, out); }
        @Override public void applyTranspose(float[] u, float[] out) { transposes++; inner.applyTranspose(u, out); }
    }

    @Test
    void byRows_equalsByColumns_andTheMatrix() {
        DMatrixRMaj a = Fixtures.gaussian(9, 5, 1);
        LinearMap m = LinearMaps.of(a);
        assertArrayEquals(a.data, Jacobians.byColumns(m).data, 0);
        assertArrayEquals(a.data, Jacobians.byRows(m).data, 0);
    }

    @Test
    void batchedExtraction_ofReplicas_matchesTheMatrix_inFewCalls() {
        for (int[] shape : new int[][] {{9, 5}, {4, 11}}) {
            DMatrixRMaj a = Fixtures.gaussian(shape[0], shape[1], 40 + shape[0]);
            LinearMap m = LinearMaps.of(a);
            PowerMethodTest.CountingBatch replicas = new PowerMethodTest.CountingBatch(BatchLinearMaps.of(java.util.List.of(m, m, m)));
            assertArrayEquals(a.data, Jacobians.byColumns(replicas).data, 0);
            assertEquals((shape[1] + 2) / 3, replicas.applies, "ceil(inDim / batch) applies");
            assertArrayEquals(a.data, Jacobians.byRows(replicas).data, 0);
            assertEquals((shape[0] + 2) / 3, replicas.transposes, "ceil(outDim / batch) transposes");
            assertArrayEquals(a.data, Jacobians.extract(replicas).data, 0);
        }
    }

    @Test
    void extract_usesTheCheaperDirection() {
        Counting tall = new Counting(LinearMaps.of(Fixtures.gaussian(9, 4, 2)));
        Jacobians.extract(tall);
        assertEquals(4, tall.applies);
        assertEquals(0, tall.transposes);
        Counting wide = new Counting(LinearMaps.of(Fixtures.gaussian(3, 8, 3)));
        Jacobians.extract(wide);
        assertEquals(0, wide.applies);
        assertEquals(3, wide.transposes);
    }

    @Test
    void svd_reconstructsTheMatrix_withOrthonormalFactors() {
        for (int[] shape : new int[][] {{12, 5}, {5, 12}, {7, 7}}) {
            DMatrixRMaj a = Fixtures.gaussian(shape[0], shape[1], shape[0] * 31L + shape[1]);
            DMatrixRMaj copy = a.copy();
            Svd.Result s = Svd.of(a);
            assertArrayEquals(copy.data, a.data, 0, "input untouched");
            int r = Math.min(shape[0], shape[1]);
            assertEquals(r, s.singularValues().length);
            for (int i = 1; i < r; i++) assertEquals(true, s.singularValues()[i - 1] >= s.singularValues()[i], "descending");
            DMatrixRMaj us = s.u().copy();
            for (int i = 0; i < us.numRows; i++) for (int j = 0; j < r; j++) us.set(i, j, us.get(i, j) * s.singularValues()[j]);
            DMatrixRMaj back = new DMatrixRMaj(shape[0], shape[1]);
            CommonOps_DDRM.multTransB(us, s.v(), back);
            for (int i = 0; i < a.data.length; i++) assertEquals(a.data[i], back.data[i], 1e-12);
            DMatrixRMaj vtv = new DMatrixRMaj(r, r);
            CommonOps_DDRM.multTransA(s.v(), s.v(), vtv);
            for (int i = 0; i < r; i++) for (int j = 0; j < r; j++) assertEquals(i == j ? 1 : 0, vtv.get(i, j), 1e-12);
            assertArrayEquals(s.singularValues(), Svd.values(a), 1e-12);
        }
    }

    @Test
    void svd_knownSpectrum_isRecovered_fromALinearMap() {
        double[] spectrum = {3, 2, 0.5};
        DMatrixRMaj a = Fixtures.withSpectrum(10, 6, spectrum, 9);
        Svd.Result s = Svd.of(LinearMaps.of(a));
        for (int i = 0; i < 3; i++) assertEquals(spectrum[i], s.singularValues()[i], 1e-6);
        for (int i = 3; i < 6; i++) assertEquals(0, s.singularValues()[i], 1e-6);
    }

    @Test
    void svd_rejectsNonFiniteInput() {
        DMatrixRMaj a = new DMatrixRMaj(2, 2);
        a.set(0, 1, Double.NaN);
        assertThrows(IllegalArgumentException.class, () -> Svd.of(a));
    }
}
