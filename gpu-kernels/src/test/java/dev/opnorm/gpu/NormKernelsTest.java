package dev.opnorm.gpu;

import static dev.opnorm.gpu.OpenClTesting.assertClose;
import static dev.opnorm.gpu.OpenClTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * norms.cl (per-example norms, dual maps, row division, best-row copies, the q-power gradient) against its Java twins
 * (exactly where no pow is involved) and the twins against linalg's Norms and DualMaps, on rows shorter
 * and longer than the reduction work-group, with ties, zero rows, signed zeros and NaN.
 */
class NormKernelsTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double[] EXPONENTS = {1, 2, INF, 3, 1.5};
    private final OpenCl cl = OpenClTesting.runtime();
    private final OpenClOps ops = cl.ops();

    /** rows x cols of Gaussians; row 1 has tied maxima of both signs, row 2 (if any) is zero. */
    private static float[] rows(Random rnd, int rows, int cols) {
        float[] a = randn(rnd, rows * cols);
        if (rows > 1) {
            a[cols] = 4f;
            a[cols + cols - 1] = -4f;
            if (cols > 2) {
                a[cols + 1] = 0f;
                a[cols + 2] = -0f;
            }
        }
        if (rows > 2) {
            java.util.Arrays.fill(a, 2 * cols, 3 * cols, 0f);
        }
        return a;
    }

    private static double twinTolerance(double q) {
        return q == 1 || q == 2 || q == INF ? GpuTolerances.TWIN_F32 : GpuTolerances.TWIN_POW;
    }

    @Test
    void rowNorms_matchTwinAndLinalg_forEveryExponent() {
        Random rnd = new Random(61);
        int wg = cl.reduceWorkGroup();
        for (int cols : new int[]{1, 7, 300, 1027}) {
            int rows = 4;
            float[] a = rows(rnd, rows, cols);
            try (DeviceTensor da = DeviceTensor.of(cl, a); DeviceTensor dout = DeviceTensor.allocate(cl, rows + 2)) {
                for (double q : EXPONENTS) {
                    float[] twin = new float[rows + 2];
                    for (int r = 0; r < rows; r++) {
                        NormTwins.rowNormsAt(r, wg, twin, 2, a, cols, q);
                    }
                    ops.rowNorms(dout, 2, da, rows, cols, q);
                    float[] got = dout.download();
                    String what = "rowNorms q=" + q + " cols=" + cols;
                    assertClose(java.util.Arrays.copyOfRange(twin, 2, rows + 2),
                            java.util.Arrays.copyOfRange(got, 2, rows + 2), rows, twinTolerance(q), 1, what + " opencl vs twin");
                    float[] host = new float[rows];
                    for (int r = 0; r < rows; r++) {
                        host[r] = (float) Norms.lp(a, r * cols, cols, q);
                    }
                    assertClose(host, java.util.Arrays.copyOfRange(twin, 2, rows + 2), rows,
                            GpuTolerances.TWIN_VS_LINALG, 1, what + " twin vs Norms.lp");
                }
            }
        }
    }

    @Test
    void dualRows_matchTwinAndDualMaps_withTiesZerosAndAliasing() {
        Random rnd = new Random(62);
        int wg = cl.reduceWorkGroup();
        for (int cols : new int[]{1, 7, 300, 1027}) {
            int rows = 3;
            float[] a = rows(rnd, rows, cols);
            try (DeviceTensor da = DeviceTensor.of(cl, a); DeviceTensor dout = DeviceTensor.allocate(cl, rows * cols)) {
                for (double q : EXPONENTS) {
                    float[] twin = new float[rows * cols];
                    for (int r = 0; r < rows; r++) {
                        NormTwins.dualRowsAt(r, wg, twin, a, cols, q);
                    }
                    ops.dualRows(dout, da, rows, cols, q);
                    String what = "dualRows q=" + q + " cols=" + cols;
                    assertClose(twin, dout.download(), rows * cols, twinTolerance(q), 1, what + " opencl vs twin");
                    float[] host = new float[rows * cols];
                    for (int r = 0; r < rows; r++) {
                        DualMaps.dual(a, r * cols, cols, q, host, r * cols);
                    }
                    assertClose(host, twin, rows * cols, GpuTolerances.TWIN_VS_LINALG, 1, what + " twin vs DualMaps");
                    // in place: out aliases a
                    try (DeviceTensor inPlace = DeviceTensor.of(cl, a)) {
                        ops.dualRows(inPlace, inPlace, rows, cols, q);
                        assertClose(twin, inPlace.download(), rows * cols, twinTolerance(q), 1, what + " in place");
                    }
                }
            }
        }
        // ties share the mass: row 1 of a 7-wide input has +4 and -4 as its maxima
        float[] tie = new float[7];
        NormTwins.dualRowsAt(0, wg, tie, new float[]{4, 0, -0f, 1, 2, 3, -4}, 7, INF);
        assertEquals(0.5f, tie[0]);
        assertEquals(-0.5f, tie[6]);
        assertEquals(0f, tie[3]);
    }

    @Test
    void rowMaps_propagateNaN_likeTheTwin() {
        int wg = cl.reduceWorkGroup(), cols = 9;
        float[] a = randn(new Random(63), cols);
        a[4] = Float.NaN;
        try (DeviceTensor da = DeviceTensor.of(cl, a); DeviceTensor dn = DeviceTensor.allocate(cl, 1);
             DeviceTensor dd = DeviceTensor.allocate(cl, cols)) {
            for (double q : EXPONENTS) {
                float[] n = new float[1], d = new float[cols];
                NormTwins.rowNormsAt(0, wg, n, 0, a, cols, q);
                NormTwins.dualRowsAt(0, wg, d, a, cols, q);
                ops.rowNorms(dn, 0, da, 1, cols, q);
                ops.dualRows(dd, da, 1, cols, q);
                assertEquals(Float.isNaN(n[0]), Float.isNaN(dn.readScalar(0)), "NaN norm q=" + q);
                float[] got = dd.download();
                for (int i = 0; i < cols; i++) {
                    assertEquals(Float.isNaN(d[i]), Float.isNaN(got[i]), "NaN dual q=" + q + " element " + i);
                }
            }
        }
    }

    @Test
    void copyRowsWhere_scaleDouble_qPowerGrad_matchTwins() {
        Random rnd = new Random(64);
        int rows = 5, cols = 37, len = rows * cols;
        float[] src = randn(rnd, len), dst = randn(rnd, len);
        int[] flags = {1, 0, 0, 3, 1};
        try (DeviceTensor dsrc = DeviceTensor.of(cl, src); DeviceTensor ddst = DeviceTensor.of(cl, dst);
             DeviceInts dflags = DeviceInts.of(cl, flags); DeviceTensor dy = DeviceTensor.allocate(cl, len)) {
            ops.copyRowsWhere(ddst, dsrc, dflags, rows, cols);
            for (int e = 0; e < len; e++) {
                NormTwins.copyRowsWhereAt(e, dst, src, flags, cols);
            }
            assertClose(dst, ddst.download(), len, GpuTolerances.TWIN_F32, 1, "copyRowsWhere");
            float[] y = new float[len];
            ops.scaleDouble(dy, 0.1 / 3, dsrc, len);
            for (int i = 0; i < len; i++) {
                NormTwins.scaleDoubleAt(i, y, 0.1 / 3, src);
            }
            assertClose(y, dy.download(), len, GpuTolerances.TWIN_F32, 1, "scaleDouble");
            for (double q : new double[]{2, 1, 3, 1.5}) {
                ops.qPowerGrad(dy, dsrc, 0.7, q, len);
                for (int i = 0; i < len; i++) {
                    NormTwins.qPowerGradAt(i, y, src, 0.7, q);
                }
                assertClose(y, dy.download(), len, twinTolerance(q), 1, "qPowerGrad q=" + q);
            }
            assertThrows(IllegalArgumentException.class, () -> ops.qPowerGrad(dy, dsrc, 1, INF, len));
            assertThrows(IllegalArgumentException.class, () -> ops.dualRows(dy, dsrc, rows, cols, 0.5));
            assertThrows(IllegalArgumentException.class, () -> ops.rowNorms(dy, 0, dsrc, rows, cols, Double.NaN));
            assertThrows(IllegalArgumentException.class, () -> ops.dualRows(dy, dsrc, rows + 1, cols, 2));
            assertThrows(IllegalArgumentException.class, () -> ops.rowNorms(dy, 0, dy, rows, cols, 2), "aliasing");
        }
    }

    @Test
    void divideRows_matchesTwinAndHostBatchOps_exactly_inPlaceToo() {
        Random rnd = new Random(65);
        int rows = 5, cols = 37, len = rows * cols, off = 2;
        float[] x = randn(rnd, len), y0 = randn(rnd, len);
        // positive, zero, NaN, tiny and negative norms: only the positive ones divide
        float[] norms = {9f, 9f, 2.5f, 0f, Float.NaN, 1e-3f, -1f};
        float[] twin = y0.clone();
        for (int e = 0; e < len; e++) {
            NormTwins.divideRowsAt(e, twin, x, norms, off, cols);
        }
        float[] host = y0.clone();
        double[] hostNorms = new double[norms.length];
        for (int i = 0; i < norms.length; i++) {
            hostNorms[i] = norms[i];
        }
        dev.opnorm.linalg.HostBatchOps.INSTANCE.divideRows(host, x, hostNorms, off, rows, cols);
        org.junit.jupiter.api.Assertions.assertArrayEquals(twin, host, 0f, "twin vs HostBatchOps");
        try (DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor dy = DeviceTensor.of(cl, y0);
             DeviceTensor dn = DeviceTensor.of(cl, norms)) {
            ops.divideRows(dy, dx, dn, off, rows, cols);
            org.junit.jupiter.api.Assertions.assertArrayEquals(twin, dy.download(), 0f, "divideRows");
            ops.divideRows(dx, dx, dn, off, rows, cols); // in place: rows with norm 0 or NaN keep x
            float[] inPlace = x.clone();
            for (int e = 0; e < len; e++) {
                NormTwins.divideRowsAt(e, inPlace, x, norms, off, cols);
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(inPlace, dx.download(), 0f, "divideRows in place");
            assertThrows(IllegalArgumentException.class, () -> ops.divideRows(dy, dx, dn, 3, rows, cols), "short norms");
        }
    }
}
