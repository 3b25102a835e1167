package dev.opnorm.gpu;

import dev.opnorm.nn.kernels.Ops;
import dev.opnorm.nn.kernels.ScalarKernels;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The power-method / (p,q)-iteration row ops of the kernel contract on {@link OpenClOps} against
 * {@link ScalarKernels}, through the {@link Ops} interface, on odd row lengths with a zero row: 1e-4
 * relative where the maths is continuous (norms, division, the smooth dual maps and sphere steps), exact
 * for the flagged copy. Requires OpenCL: fails, not skips.
 */
class BatchRowOpsTest {
    private static final double TOL = 1e-4;
    private static final ScalarKernels REF = new ScalarKernels();
    private static final int ROWS = 3;

    private static float[] download(DeviceTensor t, int len) {
        float[] out = new float[len];
        t.download(out, 0, 0, len);
        t.close();
        return out;
    }

    @Test
    void rowOps_matchScalarKernels_onOddLengths() {
        OpenCl cl = OpenClTesting.runtime();
        Ops<DeviceTensor, DeviceInts> ops = cl.ops();
        for (int cols : new int[] {1, 7, 33, 1025}) {
            int len = ROWS * cols;
            Random rnd = new Random(cols);
            float[] a = OpenClTesting.randn(rnd, len), z = OpenClTesting.randn(rnd, len);
            Arrays.fill(a, cols, 2 * cols, 0f);
            DeviceTensor da = DeviceTensor.of(cl, a), dz = DeviceTensor.of(cl, z);
            for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
                float[] want = new float[ROWS + 1];
                REF.rowNorms(want, 1, a, ROWS, cols, p);
                DeviceTensor n = DeviceTensor.of(cl, new float[ROWS + 1]);
                ops.rowNorms(n, 1, da, ROWS, cols, p);
                OpenClTesting.assertClose(want, download(n, ROWS + 1), ROWS + 1, TOL, 1, "rowNorms p=" + p + " cols=" + cols);
                if (p != Double.POSITIVE_INFINITY) { // D_inf is a sign pattern on the maximal entries: not continuous
                    float[] wantD = new float[len];
                    REF.dualRows(wantD, a, ROWS, cols, p);
                    DeviceTensor d = DeviceTensor.of(cl, new float[len]);
                    ops.dualRows(d, da, ROWS, cols, p);
                    OpenClTesting.assertClose(wantD, download(d, len), len, TOL, 1, "dualRows q=" + p + " cols=" + cols);
                }
                if (p != 3) {
                    ops.checkSphereStep(p);
                    float[] wantS = a.clone();
                    REF.sphereStep(wantS, z, 0.5, ROWS, cols, p);
                    DeviceTensor v = DeviceTensor.of(cl, a);
                    ops.sphereStep(v, dz, 0.5, ROWS, cols, p);
                    OpenClTesting.assertClose(wantS, download(v, len), len, TOL, 1, "sphereStep p=" + p + " cols=" + cols);
                }
            }
            float[] norms = {Float.NaN, 0.25f, 0f, 3f};
            float[] want = z.clone();
            REF.divideRows(want, a, norms, 1, ROWS, cols);
            DeviceTensor y = DeviceTensor.of(cl, z), dn = DeviceTensor.of(cl, norms);
            ops.divideRows(y, da, dn, 1, ROWS, cols);
            OpenClTesting.assertClose(want, download(y, len), len, TOL, 1, "divideRows cols=" + cols);
            dn.close();
            int[] pick = {0, 1, 1};
            float[] wantC = z.clone();
            REF.copyRowsWhere(wantC, a, pick, ROWS, cols);
            DeviceInts flags = ops.allocateInts(ROWS);
            ops.uploadInts(flags, pick, ROWS);
            DeviceTensor c = DeviceTensor.of(cl, z);
            ops.copyRowsWhere(c, da, flags, ROWS, cols);
            OpenClTesting.assertClose(wantC, download(c, len), len, 0, 1, "copyRowsWhere cols=" + cols);
            ops.releaseInts(flags);
            da.close();
            dz.close();
        }
        assertThrows(IllegalArgumentException.class, () -> ops.checkSphereStep(3));
    }
}
