package dev.opnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.ScalarKernels;
import org.junit.jupiter.api.Test;

/**
 * A whole power iteration on the device: conv -> ReLU -> conv (stride 2), linearized at x; each step
 * is a JVP chain, a VJP chain, per-example squared norms reduced on the device and a normalization on
 * the device. Only one scalar per step comes back, which the transfer counters must confirm; the
 * numbers must match the same iteration on the host with ScalarKernels.
 */
class DeviceChainTest {
    private static final int STEPS = 10;

    private final Conv2dDims d1 = new Conv2dDims(3, 3, 9, 9, 5, 3, 3, 1, 1);
    private final Conv2dDims d2 = new Conv2dDims(3, 5, 9, 9, 4, 3, 3, 2, 1);

    @Test
    void powerIteration_onDevice_movesOnlyScalars_andMatchesHost() {
        OpenCl cl = OpenClTesting.runtime();
        OpenClOps ops = cl.ops();
        Random rnd = new Random(31);
        float[] x = OpenClTesting.randn(rnd, d1.inputSize()), w1 = OpenClTesting.randn(rnd, d1.weightSize()),
                b1 = OpenClTesting.randn(rnd, d1.k()), w2 = OpenClTesting.randn(rnd, d2.weightSize()),
                v0 = OpenClTesting.randn(rnd, d1.inputSize());
        int n = d1.n(), inPer = d1.inputSize() / n;

        float[] deviceSs0 = new float[STEPS];
        float[] deviceSs;
        try (DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor dw1 = DeviceTensor.of(cl, w1);
             DeviceTensor db1 = DeviceTensor.of(cl, b1); DeviceTensor dw2 = DeviceTensor.of(cl, w2);
             DeviceTensor v = DeviceTensor.of(cl, v0);
             DeviceTensor h1 = DeviceTensor.allocate(cl, new Shape(3, 5, 9, 9));   // pre-activation, the ReLU mask
             DeviceTensor t1 = DeviceTensor.allocate(cl, new Shape(3, 5, 9, 9));   // hidden tangent / cotangent
             DeviceTensor u = DeviceTensor.allocate(cl, new Shape(3, 4, 5, 5));    // J v
             DeviceTensor g = DeviceTensor.allocate(cl, new Shape(3, 3, 9, 9));    // J^T J v
             DeviceTensor ss = DeviceTensor.allocate(cl, n)) {
            ops.conv2dForward(h1, dx, dw1, db1, d1); // the linearization point: only the mask is needed

            long up = cl.uploads(), down = cl.downloads(), downBytes = cl.downloadedBytes();
            for (int step = 0; step < STEPS; step++) {
                ops.conv2dForward(t1, v, dw1, null, d1);                 // jvp: conv1
                ops.reluMask(t1, t1, h1, t1.length());                   //      relu
                ops.conv2dForward(u, t1, dw2, null, d2);                 //      conv2
                ops.conv2dVjpInput(t1, u, dw2, d2);                      // vjp: conv2^T
                ops.reluMask(t1, t1, h1, t1.length());                   //      relu
                ops.conv2dVjpInput(g, t1, dw1, d1);                      //      conv1^T
                ops.dotRows(ss, 0, g, g, n, inPer);                      // ||J^T J v_i||^2 per example
                ops.scaleRowsInvSqrt(v, g, ss, 0, n, inPer);             // v_i = J^T J v_i / ||.||
                deviceSs0[step] = ss.readScalar(0);                      // the only transfer of the step
            }
            assertEquals(0, cl.uploads() - up, "uploads during the iteration");
            assertEquals(STEPS, cl.downloads() - down, "downloads during the iteration (one scalar per step)");
            assertEquals(4L * STEPS, cl.downloadedBytes() - downBytes, "bytes downloaded during the iteration");
            deviceSs = ss.download();
        }

        // the same iteration on the host
        ScalarKernels k = new ScalarKernels();
        float[] h = new float[d1.outputSize()], hv = new float[d1.outputSize()], hu = new float[d2.outputSize()],
                hg = new float[d1.inputSize()], hvv = v0.clone();
        k.conv2dForward(h, x, w1, b1, d1);
        double[] hostSs = new double[n];
        for (int step = 0; step < STEPS; step++) {
            k.conv2dForward(hv, hvv, w1, null, d1);
            k.reluMask(hv, hv, h, hv.length);
            k.conv2dForward(hu, hv, w2, null, d2);
            k.conv2dVjpInput(hv, hu, w2, d2);
            k.reluMask(hv, hv, h, hv.length);
            k.conv2dVjpInput(hg, hv, w1, d1);
            for (int r = 0; r < n; r++) {
                double s = 0;
                for (int i = 0; i < inPer; i++) {
                    s += (double) hg[r * inPer + i] * hg[r * inPer + i];
                }
                hostSs[r] = s;
                for (int i = 0; i < inPer; i++) {
                    hvv[r * inPer + i] = (float) (hg[r * inPer + i] / Math.sqrt(s));
                }
            }
            assertEquals(hostSs[0], deviceSs0[step], GpuTolerances.POWER_ITERATION * hostSs[0], "step " + step);
        }
        for (int r = 0; r < n; r++) {
            double sigmaHost = Math.sqrt(Math.sqrt(hostSs[r])), sigmaDevice = Math.sqrt(Math.sqrt(deviceSs[r]));
            assertTrue(sigmaHost > 0);
            assertEquals(sigmaHost, sigmaDevice, GpuTolerances.POWER_ITERATION * sigmaHost, "sigma of example " + r);
        }
    }
}
