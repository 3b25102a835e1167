package dev.opnorm.gpu;

import static dev.opnorm.gpu.OpenClTesting.assertClose;
import static dev.opnorm.gpu.OpenClTesting.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.nn.kernels.ScalarKernels;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The training step's {@code Ops} methods on {@link OpenClOps} against {@link ScalarKernels} (the host
 * reference) on odd sizes: the cross-entropy of a part of the rows (gradient rows, per-row losses to 1e-4
 * relative; correct flags, a bad label's NaN loss and the rows outside the part exactly), the part's mean and
 * count, the NaN/Inf count, range copies and label uploads.
 */
class TrainingOpsTest {
    private static final double TOL = 1e-4;
    private final OpenCl cl = OpenClTesting.runtime();
    private final OpenClOps ops = cl.ops();
    private final ScalarKernels ref = new ScalarKernels();

    @Test
    void softmaxXentPartAndMean_matchHost_badLabelIsNaN() {
        Random rnd = new Random(11);
        for (int[] c : new int[][]{{1, 0, 1, 2}, {5, 1, 3, 7}, {9, 4, 5, 10}, {33, 0, 33, 3}}) {
            int rows = c[0], from = c[1], count = c[2], k = c[3];
            float[] z = randn(rnd, rows * k);
            int[] labels = new int[count];
            for (int i = 0; i < count; i++) {
                labels[i] = rnd.nextInt(k);
            }
            if (count > 2) {
                labels[1] = k; // a bad label: NaN loss, not correct
            }
            float[] grad = randn(rnd, rows * k), loss = new float[rows], correct = new float[rows];
            float[] out = new float[5];
            float[] gotGrad = grad.clone();
            ref.softmaxXentPart(grad, loss, correct, z, labels, from, count, k, 0.75f);
            ref.meanAndCountPart(out, 3, loss, correct, from, count);
            try (DeviceTensor dz = DeviceTensor.of(cl, z);
                 DeviceTensor dg = DeviceTensor.of(cl, gotGrad);
                 DeviceTensor dl = DeviceTensor.allocate(cl, rows);
                 DeviceTensor dc = DeviceTensor.allocate(cl, rows);
                 DeviceTensor dout = DeviceTensor.allocate(cl, 5);
                 DeviceInts dy = DeviceInts.allocate(cl, count)) {
                ops.uploadInts(dy, labels, count);
                ops.softmaxXentPart(dg, dl, dc, dz, dy, from, count, k, 0.75f);
                float[] g = dg.download(), l = dl.download(), cr = dc.download();
                String what = rows + " rows, part [" + from + ", +" + count + "), k " + k;
                for (int j = 0; j < rows * k; j++) {
                    boolean inPart = j >= from * k && j < (from + count) * k;
                    if (!inPart) {
                        assertEquals(gotGrad[j], g[j], 0, what + ": gradient outside the part untouched at " + j);
                    }
                }
                assertClose(grad, g, rows * k, TOL, 1, what + " gradient");
                for (int r = from; r < from + count; r++) {
                    if (Float.isNaN(loss[r])) {
                        assertTrue(Float.isNaN(l[r]), what + ": a bad label's loss is NaN at row " + r);
                    } else {
                        assertClose(new float[]{loss[r]}, new float[]{l[r]}, 1, TOL, k, what + " loss row " + r);
                    }
                    assertEquals(correct[r], cr[r], 0, what + " correct row " + r);
                }
                ops.meanAndCountPart(dout, 3, dl, dc, from, count);
                float[] o = dout.download();
                if (Float.isNaN(out[3])) {
                    assertTrue(Float.isNaN(o[3]), what + ": a NaN loss makes the mean NaN");
                } else {
                    assertClose(new float[]{out[3]}, new float[]{o[3]}, 1, TOL, count, what + " mean loss");
                }
                assertEquals(out[4], o[4], 0, what + " count");
            }
        }
    }

    @Test
    void countNonFiniteCopyRangeAndUploadInts_matchHost() {
        Random rnd = new Random(12);
        for (int len : new int[]{1, 7, 300, 1027}) {
            float[] x = randn(rnd, len);
            x[len / 2] = Float.NaN;
            if (len > 3) {
                x[len - 1] = Float.NEGATIVE_INFINITY;
                x[1] = Float.POSITIVE_INFINITY;
            }
            float[] want = new float[3], dst = randn(rnd, len + 4), wantDst = dst.clone();
            ref.countNonFinite(want, 2, x, len);
            ref.copyRange(wantDst, 3, x, 0, len - 1);
            int[] ints = new int[len], back = new int[len];
            for (int i = 0; i < len; i++) {
                ints[i] = rnd.nextInt();
            }
            try (DeviceTensor dx = DeviceTensor.of(cl, x);
                 DeviceTensor dout = DeviceTensor.allocate(cl, 3);
                 DeviceTensor dd = DeviceTensor.of(cl, dst);
                 DeviceInts di = DeviceInts.allocate(cl, len)) {
                ops.countNonFinite(dout, 2, dx, len);
                assertEquals(want[2], dout.download()[2], 0, "countNonFinite of " + len);
                ops.copyRange(dd, 3, dx, 0, len - 1);
                assertArrayEquals(wantDst, dd.download(), "copyRange of " + len);
                ops.uploadInts(di, ints, len);
                di.download(back, len);
                assertArrayEquals(ints, back, "uploadInts of " + len);
            }
        }
    }
}
