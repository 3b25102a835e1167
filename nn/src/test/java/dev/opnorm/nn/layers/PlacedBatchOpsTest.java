package dev.opnorm.nn.layers;

import dev.opnorm.linalg.HostBatchOps;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.ScalarKernels;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * nn's one implementation of linalg's {@code BatchOps} ({@link PlacedBatchOps} over a model's {@code Ops})
 * on host arrays against linalg's reference {@link HostBatchOps}: every vector bit for bit given the same
 * scalars, the norms as HostBatchOps' rounded to float, and whole power-method and (p,q) runs to float
 * rounding. The OpenCL side is checked in gpu-kernels against the host.
 */
class PlacedBatchOpsTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final int ROWS = 4, COLS = 17;
    private static final HostBatchOps HOST = HostBatchOps.INSTANCE;

    private static PlacedModel<float[], int[]> model() {
        return new PlacedModel<>(new ScalarKernels(), new Sequential("net", new Flatten("flat"),
                new Linear("lin", 12, 5, true)));
    }

    /** Random rows, row 1 all zero, row 2 with a tie of its largest magnitudes (dual-map tie rules). */
    private static float[] rows(long seed) {
        float[] a = TestData.randn(new Random(seed), ROWS * COLS);
        java.util.Arrays.fill(a, COLS, 2 * COLS, 0f);
        a[2 * COLS + 3] = 4f;
        a[2 * COLS + 9] = -4f;
        return a;
    }

    @Test
    void vectorOps_areHostBatchOpsBitForBit() {
        try (PlacedModel<float[], int[]> m = model()) {
            PlacedBatchOps<float[], int[]> ops = PlacedBatchOps.of(m);
            float[] a = rows(1);
            float[] v = ops.allocate(ROWS, COLS);
            ops.upload(a, v, ROWS, COLS);
            assertArrayEquals(a, ops.download(v, ROWS, COLS), "upload / download");
            for (double q : new double[] {1, 1.5, 2, 3, INF}) {
                float[] want = new float[ROWS * COLS], got = ops.allocate(ROWS, COLS);
                HOST.dualRows(want, a, ROWS, COLS, q);
                ops.dualRows(got, v, ROWS, COLS, q);
                assertArrayEquals(want, got, "dualRows q=" + q);
            }
            float[] z = rows(2);
            for (double p : new double[] {1, 1.5, 2, INF}) {
                float[] want = a.clone(), got = a.clone();
                HOST.sphereStep(want, z, 0.5, ROWS, COLS, p);
                ops.sphereStep(got, z, 0.5, ROWS, COLS, p);
                assertArrayEquals(want, got, "sphereStep p=" + p);
            }
            float[] want = a.clone(), got = a.clone();
            for (boolean[] pick : new boolean[][] {{true, false, false, true}, {false, true, true, false}}) {
                HOST.copyRowsWhere(want, z, pick, COLS);
                ops.copyRowsWhere(got, z, pick, COLS);
                assertArrayEquals(want, got, "copyRowsWhere (the second pattern uploads new flags)");
            }
            ops.release(v);
        }
    }

    @Test
    void norms_areHostBatchOpsRoundedToFloat_andDivisionMatchesGivenThoseNorms() {
        try (PlacedModel<float[], int[]> m = model()) {
            PlacedBatchOps<float[], int[]> ops = PlacedBatchOps.of(m);
            float[] a = rows(3);
            for (double p : new double[] {1, 2, 3, INF}) {
                double[] want = HOST.scalars(ROWS + 1);
                HOST.rowNorms(want, 1, a, ROWS, COLS, p);
                float[] s = ops.scalars(ROWS + 1);
                ops.rowNorms(s, 1, a, ROWS, COLS, p);
                double[] got = ops.read(s, ROWS + 1);
                for (int r = 0; r < ROWS; r++) {
                    assertEquals((double) (float) want[1 + r], got[1 + r], 0.0, "rowNorms p=" + p + " row " + r);
                }
                ops.releaseScalars(s);
            }
            float[] norms = {9f, 0.75f, 0f, Float.NaN, 3.5f}; // rows with norm 0 or NaN stay as they are
            double[] hostNorms = {9, 0.75, 0, Double.NaN, 3.5};
            float[] want = rows(4), got = want.clone();
            HOST.divideRows(want, a, hostNorms, 1, ROWS, COLS);
            ops.divideRows(got, a, norms, 1, ROWS, COLS);
            assertArrayEquals(want, got, "divideRows");
        }
    }

    @Test
    void wholeRuns_agreeWithHostBatchOps_toFloatRounding() {
        Tensor x = TestData.randn(new Random(5), new Shape(3, 3, 2, 2));
        try (PlacedModel<float[], int[]> m = model();
             PlacedLinearization<float[]> lin = m.linearize(x, BnMode.EVAL)) {
            PowerMethod.Options po = new PowerMethod.Options(200, 1e-9, 7);
            try (PowerMethod.BatchResult<float[]> want = PowerMethod.sigmaMax(lin.asBatchMap(), HOST, po, null, false);
                 PowerMethod.BatchResult<float[]> got = PowerMethod.sigmaMax(lin.asBatchMap(), PlacedBatchOps.of(m), po,
                         null, false)) {
                assertRelative(want.sigma(), got.sigma(), "sigma_max");
            }
            OperatorNorm.Options oo = OperatorNorm.Options.defaults().withAlpha(1);
            try (OperatorNorm.BatchResult<float[]> want = OperatorNorm.estimate(lin.asBatchMap(), HOST, 1.5, 3, oo, null,
                    false);
                 OperatorNorm.BatchResult<float[]> got = OperatorNorm.estimate(lin.asBatchMap(), PlacedBatchOps.of(m), 1.5,
                         3, oo, null, false)) {
                assertRelative(want.value(), got.value(), "(1.5, 3) norm");
            }
        }
    }

    @Test
    void closedModel_refusesNewBuffers() {
        PlacedModel<float[], int[]> m = model();
        PlacedBatchOps<float[], int[]> ops = PlacedBatchOps.of(m);
        m.close();
        assertThrows(IllegalStateException.class, () -> ops.allocate(ROWS, COLS));
    }

    private static void assertRelative(double[] want, double[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-4 * Math.abs(want[i]), what + " of example " + i);
        }
    }
}
