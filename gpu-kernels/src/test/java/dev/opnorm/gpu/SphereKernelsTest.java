package dev.opnorm.gpu;

import static dev.opnorm.gpu.OpenClTesting.assertClose;
import static dev.opnorm.gpu.OpenClTesting.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.Projections;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The finite-alpha step of the (p,q) iteration (norms.cl sphere_step_l1 / l2 / linf) against its Java
 * twin SphereTwins (exactly) and the twin against linalg's Projections.ontoSphere of
 * (float) (v + alpha z), on rows outside and inside the unit ball, zero rows and rows with tied
 * magnitudes of both signs, shorter and longer than the reduction work-group.
 */
class SphereKernelsTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double[] PS = {1, 2, INF};
    private final OpenCl cl = OpenClTesting.runtime();
    private final OpenClOps ops = cl.ops();

    /**
     * Rows of v and z: row 0 Gaussian (outside the unit ball for every p once cols > 1 or alpha is
     * large), row 1 tiny (inside), row 2 zero, row 3 tied maxima of both signs and zeros, row 4 small with
     * ties (inside for l_inf, ties decide the argmax).
     */
    private static float[][] rows(Random rnd, int cols) {
        int rows = 5;
        float[] v = randn(rnd, rows * cols), z = randn(rnd, rows * cols);
        for (int i = cols; i < 2 * cols; i++) {
            v[i] *= 1e-3f / cols;
            z[i] *= 1e-3f / cols;
        }
        Arrays.fill(v, 2 * cols, 3 * cols, 0f);
        Arrays.fill(z, 2 * cols, 3 * cols, 0f);
        for (int i = 3 * cols; i < 4 * cols; i++) {
            v[i] = (i % 3 == 0) ? 2f : (i % 3 == 1) ? -2f : 0f;
            z[i] = 0f;
        }
        for (int i = 4 * cols; i < 5 * cols; i++) {
            v[i] = (i % 2 == 0) ? -0.25f : 0.25f;
            z[i] = 0f;
        }
        return new float[][]{v, z};
    }

    @Test
    void sphereStep_matchesTwinExactly_andProjectionsOntoSphere() {
        Random rnd = new Random(71);
        int wg = cl.reduceWorkGroup();
        for (int cols : new int[]{1, 7, 300, 1027}) {
            float[][] vz = rows(rnd, cols);
            float[] v = vz[0], z = vz[1];
            int rows = v.length / cols;
            for (double p : PS) {
                for (double alpha : new double[]{0.05, 3}) {
                    String what = "p " + Norms.format(p) + ", alpha " + alpha + ", cols " + cols;
                    float[] twin = v.clone();
                    SphereTwins.step(twin, z, alpha, rows, cols, p, wg);
                    float[] got;
                    try (DeviceTensor dv = DeviceTensor.of(cl, v); DeviceTensor dz = DeviceTensor.of(cl, z)) {
                        ops.sphereStep(dv, dz, alpha, rows, cols, p);
                        got = dv.download();
                    }
                    assertClose(twin, got, got.length, GpuTolerances.TWIN_F32, 1, what + ": kernel vs twin");
                    for (int r = 0; r < rows; r++) {
                        float[] y = new float[cols], want = new float[cols];
                        for (int i = 0; i < cols; i++) {
                            y[i] = (float) (v[r * cols + i] + alpha * z[r * cols + i]);
                        }
                        Projections.ontoSphere(y, p, 1, want);
                        float[] row = Arrays.copyOfRange(twin, r * cols, (r + 1) * cols);
                        for (int i = 0; i < cols; i++) {
                            assertEquals(want[i], row[i], GpuTolerances.SPHERE_STEP_VS_HOST,
                                    what + ": twin vs Projections, row " + r + " element " + i);
                        }
                        assertEquals(1, Norms.lp(row, 0, cols, p), 1e-5, what + ": ||v||_p, row " + r);
                    }
                }
            }
        }
    }

    @Test
    void sphereStep_branchesAreTheIntendedOnes() {
        // the rows above must exercise both sides of the ball for every p, or the test above proves less
        Random rnd = new Random(71);
        int cols = 300;
        float[][] vz = rows(rnd, cols);
        for (double p : PS) {
            double outside = Norms.lp(vz[0], 0, cols, p), inside = Norms.lp(vz[0], cols, cols, p);
            assertTrue(outside > 1, "row 0 outside for p " + p + ": " + outside);
            assertTrue(inside < 1, "row 1 inside for p " + p + ": " + inside);
        }
        assertTrue(Norms.lp(vz[0], 4 * cols, cols, INF) < 1, "row 4 inside for inf");
    }

    @Test
    void sphereStep_rejectsOtherExponentsAndInfiniteAlpha() {
        try (DeviceTensor v = DeviceTensor.allocate(cl, 8); DeviceTensor z = DeviceTensor.allocate(cl, 8)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ops.sphereStep(v, z, 0.5, 2, 4, 3));
            assertTrue(e.getMessage().contains("p = 3"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ops.sphereStep(v, z, INF, 2, 4, 2));
            assertThrows(IllegalArgumentException.class, () -> ops.sphereStep(v, z, 0, 2, 4, 2));
            assertThrows(IllegalArgumentException.class, () -> ops.sphereStep(v, z, 0.5, 3, 4, 2), "short buffers");
        }
    }
}
