package dev.opnorm.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

class LinearMapsTest {

    @Test
    void adapters_agree_andMatchHandProduct() {
        DMatrixRMaj a = new DMatrixRMaj(new double[][] {{1, 2, 3}, {-1, 0, 4}});
        float[][] rows = {{1, 2, 3}, {-1, 0, 4}};
        List<LinearMap> maps = List.of(LinearMaps.of(a), LinearMaps.of(rows), LinearMaps.of(new double[][] {{1, 2, 3}, {-1, 0, 4}}),
                LinearMaps.ofRowMajor(new float[] {1, 2, 3, -1, 0, 4}, 2, 3));
        for (LinearMap m : maps) {
            assertEquals(3, m.inDim());
            assertEquals(2, m.outDim());
            float[] out = new float[2], back = new float[3];
            m.apply(new float[] {1, 1, 2}, out);
            assertArrayEquals(new float[] {9, 7}, out, 0f);
            m.applyTranspose(new float[] {1, -2}, back);
            assertArrayEquals(new float[] {3, 2, -5}, back, 0f);
        }
    }

    @Test
    void adjointIdentity_holds_forDenseAdapters() {
        DMatrixRMaj a = Fixtures.gaussian(13, 7, 21);
        for (LinearMap m : List.of(LinearMaps.of(a), LinearMaps.ofRowMajor(Fixtures.toFloats(a), 13, 7))) {
            float[] v = Fixtures.gaussianVector(7, 1), u = Fixtures.gaussianVector(13, 2);
            float[] av = new float[13], atu = new float[7];
            m.apply(v, av);
            m.applyTranspose(u, atu);
            double lhs = Norms.dot(av, u), rhs = Norms.dot(v, atu);
            assertEquals(lhs, rhs, Tolerances.F32 * (Math.abs(lhs) + 1));
        }
    }

    @Test
    void transpose_swapsTheDirections() {
        DMatrixRMaj a = Fixtures.gaussian(4, 6, 3);
        LinearMap t = LinearMaps.transpose(LinearMaps.of(a));
        assertEquals(4, t.inDim());
        assertEquals(6, t.outDim());
        DMatrixRMaj back = Jacobians.extract(t);
        for (int i = 0; i < 4; i++) for (int j = 0; j < 6; j++) assertEquals(a.get(i, j), back.get(j, i), 1e-6);
    }

    @Test
    void apply_rejectsWrongLengthsAndAliasing() {
        LinearMap m = LinearMaps.of(Fixtures.gaussian(3, 3, 1));
        float[] x = new float[3];
        assertThrows(IllegalArgumentException.class, () -> m.apply(new float[2], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> m.applyTranspose(new float[3], new float[4]));
        assertThrows(IllegalArgumentException.class, () -> m.apply(x, x));
        assertThrows(IllegalArgumentException.class, () -> LinearMaps.ofRowMajor(new float[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> LinearMaps.of(new float[][] {{1, 2}, {3}}));
    }

    @Test
    void batchAdapters_roundTrip_exampleByExample() {
        List<LinearMap> maps = List.of(LinearMaps.of(Fixtures.gaussian(3, 2, 1)), LinearMaps.of(Fixtures.gaussian(3, 2, 2)));
        BatchLinearMap b = BatchLinearMaps.of(maps);
        assertEquals(2, b.batch());
        for (int i = 0; i < 2; i++) {
            DMatrixRMaj want = Jacobians.byColumns(maps.get(i));
            DMatrixRMaj got = Jacobians.byColumns(BatchLinearMaps.example(b, i));
            DMatrixRMaj gotRows = Jacobians.byRows(BatchLinearMaps.example(b, i));
            assertArrayEquals(want.data, got.data, 0);
            assertArrayEquals(want.data, gotRows.data, 1e-6);
        }
        assertThrows(IllegalArgumentException.class,
                () -> BatchLinearMaps.of(List.of(LinearMaps.of(Fixtures.gaussian(3, 2, 1)), LinearMaps.of(Fixtures.gaussian(2, 2, 1)))));
        assertThrows(IllegalArgumentException.class, () -> BatchLinearMaps.example(b, 2));
    }
}
