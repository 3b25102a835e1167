package dev.opnorm.gpu;

import dev.opnorm.nn.kernels.Ops;
import dev.opnorm.nn.kernels.ScalarKernels;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The optimizer updates of the kernel contract ({@link Ops#sgdUpdate}, {@link Ops#adamUpdate},
 * {@link Ops#rmspropUpdate}) on {@link OpenClOps} against {@link ScalarKernels} on odd lengths with every
 * option, through the {@link Ops} interface: 1e-4 relative (a GPU driver may round float division and
 * sqrt differently). Requires OpenCL: fails, not skips.
 */
class OptimizerKernelsTest {
    private static final double TOL = 1e-4;
    private static final ScalarKernels REF = new ScalarKernels();

    /** The host buffers of one case and their device copies. */
    private static final class Bufs {
        final float[][] host;
        final List<DeviceTensor> dev = new ArrayList<>();

        Bufs(OpenCl cl, float[]... values) {
            host = new float[values.length][];
            for (int k = 0; k < values.length; k++) {
                host[k] = values[k].clone();
                dev.add(DeviceTensor.of(cl, values[k]));
            }
        }

        void assertAgree(int len, String what) {
            for (int k = 0; k < host.length; k++) {
                float[] got = new float[len];
                dev.get(k).download(got, 0, 0, len);
                OpenClTesting.assertClose(host[k], got, len, TOL, 1, what + " buffer " + k);
                dev.get(k).close();
            }
        }
    }

    @Test
    void updates_matchScalarKernels_onOddLengths_withEveryOption() {
        OpenCl cl = OpenClTesting.runtime();
        Ops<DeviceTensor, DeviceInts> ops = cl.ops();
        for (int len : new int[] {1, 7, 333, 1025}) {
            Random rnd = new Random(len);
            float[] p = OpenClTesting.randn(rnd, len), g = OpenClTesting.randn(rnd, len), a = OpenClTesting.randn(rnd, len);
            float[] ga = OpenClTesting.randn(rnd, len), sq = new float[len];
            for (int i = 0; i < len; i++) {
                sq[i] = ga[i] * ga[i] + Math.abs(a[i]); // centered needs square_avg >= grad_avg^2
            }
            for (float wd : new float[] {0f, 0.01f}) {
                for (int mode = 0; mode < 4; mode++) {
                    boolean first = (mode & 1) != 0, nesterov = (mode & 2) != 0;
                    Bufs b = new Bufs(cl, p, g, a);
                    REF.sgdUpdate(b.host[0], b.host[1], b.host[2], wd, 0.9f, 0.75f, -0.1f, first, nesterov, len);
                    ops.sgdUpdate(b.dev.get(0), b.dev.get(1), b.dev.get(2), wd, 0.9f, 0.75f, -0.1f, first, nesterov, len);
                    b.assertAgree(len, "sgdUpdate len=" + len + " wd=" + wd + " mode=" + mode);
                    Bufs plain = new Bufs(cl, p, g);
                    REF.sgdUpdate(plain.host[0], plain.host[1], null, wd, 0.9f, 1f, -0.1f, first, false, len);
                    ops.sgdUpdate(plain.dev.get(0), plain.dev.get(1), null, wd, 0.9f, 1f, -0.1f, first, false, len);
                    plain.assertAgree(len, "sgdUpdate without momentum len=" + len);
                }
                for (boolean decoupled : new boolean[] {false, true}) {
                    Bufs b = new Bufs(cl, p, g, a, sq);
                    REF.adamUpdate(b.host[0], b.host[1], b.host[2], b.host[3], wd, 0.999f, decoupled, 0.1f, 0.9f, 0.001f,
                            0.999f, -0.01f, 0.3f, 1e-8f, len);
                    ops.adamUpdate(b.dev.get(0), b.dev.get(1), b.dev.get(2), b.dev.get(3), wd, 0.999f, decoupled, 0.1f,
                            0.9f, 0.001f, 0.999f, -0.01f, 0.3f, 1e-8f, len);
                    b.assertAgree(len, "adamUpdate len=" + len + " wd=" + wd + " decoupled=" + decoupled);
                }
                for (int mode = 0; mode < 4; mode++) {
                    boolean centered = (mode & 1) != 0, momentum = (mode & 2) != 0;
                    Bufs b = new Bufs(cl, p, g, sq, ga, a);
                    REF.rmspropUpdate(b.host[0], b.host[1], b.host[2], centered ? b.host[3] : null,
                            momentum ? b.host[4] : null, wd, 0.99f, 0.01f, 1e-8f, 0.5f, -0.01f, len);
                    ops.rmspropUpdate(b.dev.get(0), b.dev.get(1), b.dev.get(2), centered ? b.dev.get(3) : null,
                            momentum ? b.dev.get(4) : null, wd, 0.99f, 0.01f, 1e-8f, 0.5f, -0.01f, len);
                    b.assertAgree(len, "rmspropUpdate len=" + len + " wd=" + wd + " mode=" + mode);
                }
            }
        }
    }
}
