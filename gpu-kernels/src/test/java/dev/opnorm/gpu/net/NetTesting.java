package dev.opnorm.gpu.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClException;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.models.WideResNet;

import java.util.Random;

/** Shared helpers and the one tolerance of the device-network tests. */
final class NetTesting {
    /**
     * Device network vs host network (ScalarKernels): relative to the largest magnitude of the compared
     * quantity. A whole network of float sums in other orders (tiles, trees).
     */
    static final double NET_REL = 1e-4;

    /**
     * ||x* - x||_p of the device attack (from the device's x*, in double, then float) vs the host attack's
     * (from its own x*), relative to max(eps, norm): x* agree to NET_REL per coordinate, so the norms to a
     * few NET_REL.
     */
    static final double ATTACK_NORM_REL = 1e-3;

    /**
     * Fraction of x* coordinates an l_inf attack may place differently than the host (by at most the ball's
     * diameter): sign(g_i) of a gradient entry within rounding of 0 can flip between engines. Measured on
     * PoCL: none differ.
     */
    static final double LINF_MISMATCH_FRACTION = 1e-3;

    private NetTesting() {
    }

    static OpenCl runtime() {
        try {
            return OpenCl.shared();
        } catch (OpenClException e) {
            fail("these tests need an OpenCL device (CI installs PoCL): " + e.getMessage(), e);
            throw e;
        }
    }

    /**
     * The 7-layer CNN at width 1/16 on ScalarKernels, with non-trivial BatchNorm running statistics (so
     * that EVAL mode is not the identity map of a fresh network).
     */
    static Sequential cnn7(long seed) {
        return cnn7(seed, new ScalarKernels());
    }

    /** {@link #cnn7(long)} computed with {@code kernels} on the host. */
    static Sequential cnn7(long seed, Kernels kernels) {
        return withRandomStatistics(Cnn7.create(1.0 / 16, 3, 10, seed, kernels), seed + 1);
    }

    /** The Wide ResNet 10-1 (PreActBlocks, affine BatchNorm) on ScalarKernels, random running statistics. */
    static Sequential wrn(long seed) {
        return withRandomStatistics(WideResNet.create(10, 1, 3, 10, seed, new ScalarKernels()), seed + 1);
    }

    /** Sets the BatchNorm running statistics to random values (var in [0.5, 1.5)); returns net. */
    static Sequential withRandomStatistics(Sequential net, long seed) {
        Random rnd = new Random(seed);
        for (Param b : net.buffers()) {
            boolean var = b.name().endsWith("running_var");
            for (int i = 0; i < b.value.length; i++) {
                b.value[i] = var ? 0.5f + rnd.nextFloat() : 0.2f * (float) rnd.nextGaussian();
            }
        }
        return net;
    }

    static float[] randn(Random rnd, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    static double maxAbs(float[] a) {
        double max = 0;
        for (float v : a) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    static void assertNear(float[] want, float[] got, String what) {
        assertNear(want, got, maxAbs(want), what);
    }

    /** |got - want| <= NET_REL * scale elementwise. */
    static void assertNear(float[] want, float[] got, double scale, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs((double) got[i] - want[i]);
            if (!(err <= NET_REL * scale)) {
                fail(what + ": element " + i + " is " + got[i] + ", expected " + want[i] + " (error " + err
                        + " > " + NET_REL + " * " + scale + ")");
            }
        }
    }
}
