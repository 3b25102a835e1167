package dev.opnorm.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tests the reference itself, independently of any other implementation: tiny cases worked out by
 * hand, and identities that hold for any correct conv (the adjoint identity for the input VJP,
 * linearity in the weights for the weight VJP) and BatchNorm (a finite difference of the normalization
 * computed in double).
 */
class ScalarKernelsTest {

    private final ScalarKernels k = new ScalarKernels();

    static java.util.List<Conv2dDims> convCases() {
        return java.util.List.of(new Conv2dDims(1, 1, 3, 3, 1, 2, 2, 1, 0), new Conv2dDims(2, 3, 7, 5, 4, 3, 3, 1, 1),
                new Conv2dDims(1, 2, 9, 8, 3, 3, 3, 2, 1), new Conv2dDims(2, 2, 6, 7, 3, 5, 1, 2, 2),
                new Conv2dDims(1, 4, 4, 4, 2, 1, 1, 1, 0));
    }

    @Test
    void conv2dForward_matchesHandComputation_noPad() {
        // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,0],[0,-1]]: y[p,q] = x[p,q] - x[p+1,q+1] = -4, plus bias 0.5
        var d = new Conv2dDims(1, 1, 3, 3, 1, 2, 2, 1, 0);
        float[] y = new float[4];
        k.conv2dForward(y, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, new float[] {1, 0, 0, -1}, new float[] {0.5f}, d);
        assertArrayEquals(new float[] {-3.5f, -3.5f, -3.5f, -3.5f}, y);
    }

    @Test
    void conv2dForward_countsInBoundsTaps_withPadAndStride() {
        // all-ones 4x4 input and 3x3 kernel, pad 1, stride 2: each output counts the in-bounds taps of its window
        var d = new Conv2dDims(1, 1, 4, 4, 1, 3, 3, 2, 1);
        float[] x = new float[16], w = new float[9], y = new float[4];
        java.util.Arrays.fill(x, 1f);
        java.util.Arrays.fill(w, 1f);
        k.conv2dForward(y, x, w, null, d);
        // windows are centred on (0,0), (0,2), (2,0), (2,2): corner 4 taps, edge 6, interior 9
        assertArrayEquals(new float[] {4, 6, 6, 9}, y);
    }

    @Test
    void conv2dForward_sumsOverChannels_andSeparatesOutputs() {
        // two input channels, two output channels, 1x1 kernel: y = W x per pixel
        var d = new Conv2dDims(1, 2, 1, 2, 2, 1, 1, 1, 0);
        float[] x = {1, 2, 10, 20}; // c0 = [1, 2], c1 = [10, 20]
        float[] w = {1, 1, 2, -1}; // k0 = c0 + c1, k1 = 2 c0 - c1
        float[] y = new float[4];
        k.conv2dForward(y, x, w, new float[] {0, 1}, d);
        assertArrayEquals(new float[] {11, 22, -7, -15}, y);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void conv2dVjpInput_isAdjointOfForward(Conv2dDims d) {
        Random rnd = new Random(1);
        float[] x = KernelsContractTest.uniform(rnd, d.inputSize()), w = KernelsContractTest.uniform(rnd, d.weightSize());
        float[] gy = KernelsContractTest.uniform(rnd, d.outputSize());
        float[] y = new float[d.outputSize()], gx = new float[d.inputSize()];
        k.conv2dForward(y, x, w, null, d);
        k.conv2dVjpInput(gx, gy, w, d);
        double lhs = dot(y, gy), rhs = dot(x, gx);
        assertEquals(lhs, rhs, KernelTolerances.ADJOINT_REL * (1 + Math.abs(lhs)), "<conv(x), gy> vs <x, conv^T(gy)>");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void conv2dVjpWeight_isAdjointOfForwardInWeights(Conv2dDims d) {
        Random rnd = new Random(2);
        float[] x = KernelsContractTest.uniform(rnd, d.inputSize()), w = KernelsContractTest.uniform(rnd, d.weightSize());
        float[] gy = KernelsContractTest.uniform(rnd, d.outputSize());
        float[] y = new float[d.outputSize()], gw = new float[d.weightSize()];
        k.conv2dForward(y, x, w, null, d);
        k.conv2dVjpWeight(gw, gy, x, d);
        double lhs = dot(y, gy), rhs = dot(w, gw); // the conv is linear in w: <conv_x(w), gy> = <w, conv_x^T(gy)>
        assertEquals(lhs, rhs, KernelTolerances.ADJOINT_REL * (1 + Math.abs(lhs)), "<conv_w(x), gy> vs <w, gw>");
    }

    @Test
    void conv2dVjpWeight_accumulates() {
        var d = new Conv2dDims(1, 1, 2, 2, 1, 1, 1, 1, 0);
        float[] gw = {10f};
        k.conv2dVjpWeight(gw, new float[] {1, 2, 3, 4}, new float[] {1, 1, 1, -1}, d);
        assertArrayEquals(new float[] {10f + 1 + 2 + 3 - 4}, gw);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void conv2dVjpBias_isAdjointOfBroadcast(Conv2dDims d) {
        Random rnd = new Random(3);
        float[] b = KernelsContractTest.uniform(rnd, d.k()), gy = KernelsContractTest.uniform(rnd, d.outputSize());
        float[] y = new float[d.outputSize()], gb = new float[d.k()];
        k.conv2dForward(y, new float[d.inputSize()], new float[d.weightSize()], b, d); // y = b broadcast
        k.conv2dVjpBias(gb, gy, d);
        double lhs = dot(y, gy), rhs = dot(b, gb);
        assertEquals(lhs, rhs, KernelTolerances.ADJOINT_REL * (1 + Math.abs(lhs)));
    }

    @Test
    void gemm_matchesHandComputation_allTransposes() {
        // A = [[1,2,3],[4,5,6]] (2x3), B = [[1,0],[0,1],[1,1]] (3x2): A B = [[4,5],[10,11]]
        float[] a = {1, 2, 3, 4, 5, 6}, aT = {1, 4, 2, 5, 3, 6};
        float[] b = {1, 0, 0, 1, 1, 1}, bT = {1, 0, 1, 0, 1, 1};
        float[] want = {4, 5, 10, 11};
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[] c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
                k.gemm(ta, tb, 2, 2, 3, 1f, ta ? aT : a, 0, ta ? 2 : 3, tb ? bT : b, 0, tb ? 3 : 2, 0f, c, 0, 2);
                assertArrayEquals(want, c, "ta=" + ta + " tb=" + tb);
            }
        }
        // alpha, beta, offsets and padded leading dimensions: C = 2 A B - C0 in the middle of a 3x4 buffer
        float[] aPad = {9, 9, 1, 2, 3, 9, 4, 5, 6, 9};
        float[] c = {0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0};
        k.gemm(false, false, 2, 2, 3, 2f, aPad, 2, 4, b, 0, 2, -1f, c, 5, 4);
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 7, 9, 0, 0, 19, 21, 0}, c);
    }

    @Test
    void relu_usesStrictlyPositivePredicate() {
        float[] x = {-1f, -0f, 0f, Float.MIN_VALUE, 2f, Float.NaN}, y = new float[6];
        k.relu(y, x, 6);
        assertArrayEquals(new float[] {0f, 0f, 0f, Float.MIN_VALUE, 2f, 0f}, y);
        float[] out = new float[6];
        k.reluMask(out, new float[] {1, 2, 3, 4, 5, 6}, x, 6);
        assertArrayEquals(new float[] {0, 0, 0, 4, 5, 0}, out);
    }

    @Test
    void maxPool2dForward_takesFirstMaximumOnTies_andPaddingNeverWins() {
        // 1x1x2x3, window 2x2, stride 1, pad 1: all values negative, so a padded zero would win if counted
        var d = new PoolDims(1, 1, 2, 3, 2, 2, 1, 1);
        float[] x = {-1, -1, -3, -1, -2, -3};
        float[] y = new float[d.outputSize()];
        int[] arg = new int[d.outputSize()];
        k.maxPool2dForward(y, arg, x, d);
        // output 3x4; row 0 sees only input row 0, row 2 only input row 1
        assertArrayEquals(new float[] {-1, -1, -1, -3, -1, -1, -1, -3, -1, -1, -2, -3}, y);
        assertArrayEquals(new int[] {0, 0, 1, 2, 0, 0, 1, 2, 3, 3, 4, 5}, arg);
    }

    @Test
    void maxPool2dVjp_scatterAddsIntoSharedArgmax() {
        var d = new PoolDims(1, 1, 1, 3, 1, 2, 1, 0); // windows {0,1} and {1,2}
        float[] x = {0, 5, 1}, y = new float[2], gx = {9, 9, 9};
        int[] arg = new int[2];
        k.maxPool2dForward(y, arg, x, d);
        k.maxPool2dVjp(gx, new float[] {2, 3}, arg, d);
        assertArrayEquals(new float[] {0, 5, 0}, gx);
    }

    @Test
    void avgPool2d_countsPaddingInDivisor_andVjpIsAdjoint() {
        var d = new PoolDims(1, 1, 2, 2, 2, 2, 2, 1); // output 2x2, each window holds one input value
        float[] y = new float[4];
        k.avgPool2dForward(y, new float[] {4, 8, 12, 16}, d);
        assertArrayEquals(new float[] {1, 2, 3, 4}, y);
        var d2 = new PoolDims(2, 3, 7, 6, 3, 2, 2, 1);
        Random rnd = new Random(4);
        float[] x = KernelsContractTest.uniform(rnd, d2.inputSize()), gy = KernelsContractTest.uniform(rnd, d2.outputSize());
        float[] y2 = new float[d2.outputSize()], gx = new float[d2.inputSize()];
        k.avgPool2dForward(y2, x, d2);
        k.avgPool2dVjp(gx, gy, d2);
        double lhs = dot(y2, gy), rhs = dot(x, gx);
        assertEquals(lhs, rhs, KernelTolerances.ADJOINT_REL * (1 + Math.abs(lhs)));
    }

    @Test
    void channelMeanVar_matchesHandComputation() {
        // n=2, c=2, hw=2: channel 0 holds {1, 3, 5, 7}, channel 1 holds {2, 2, 2, 2}
        float[] x = {1, 3, 2, 2, 5, 7, 2, 2};
        float[] mean = new float[2], var = new float[2];
        k.channelMeanVar(mean, var, x, 2, 2, 2);
        assertArrayEquals(new float[] {4, 2}, mean);
        assertArrayEquals(new float[] {5, 0}, var); // biased: (9 + 1 + 1 + 9) / 4
    }

    @Test
    void channelAffineAndSums_matchHandComputation() {
        float[] x = {1, 2, 3, 4}, y = new float[4];
        k.channelAffine(y, x, new float[] {2, -1}, new float[] {1, 0}, 1, 2, 2);
        assertArrayEquals(new float[] {3, 5, -3, -4}, y);
        float[] sa = {1, 1}, sab = {0, 0};
        k.channelSumsAccumulate(sa, sab, x, new float[] {1, 1, 2, 0}, 1, 2, 2);
        assertArrayEquals(new float[] {4, 8}, sa);
        assertArrayEquals(new float[] {3, 6}, sab);
    }

    @Test
    void bnTrainJacobian_matchesFiniteDifferenceOfNormalization() {
        int n = 3, c = 2, hw = 5, len = n * c * hw;
        double eps = 1e-3;
        Random rnd = new Random(5);
        double[] x = new double[len], v = new double[len];
        for (int i = 0; i < len; i++) {
            x[i] = 1 + 2 * rnd.nextDouble();
            v[i] = rnd.nextDouble() - 0.5;
        }
        double[] gamma = {1.5, -0.7};
        // analytic: J v = coef * (v - mean(v) - xhat * mean(v * xhat)), coef = gamma / sqrt(var + eps)
        double[] xhatD = normalize(x, n, c, hw, eps, new double[] {1, 1});
        float[] xhat = new float[len], in = new float[len], out = new float[len];
        for (int i = 0; i < len; i++) {
            xhat[i] = (float) xhatD[i];
            in[i] = (float) v[i];
        }
        float[] coef = new float[c];
        for (int ch = 0; ch < c; ch++) {
            double s = 0, ss = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    s += x[(b * c + ch) * hw + i];
                }
            }
            double mu = s / (n * hw);
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    ss += Math.pow(x[(b * c + ch) * hw + i] - mu, 2);
                }
            }
            coef[ch] = (float) (gamma[ch] / Math.sqrt(ss / (n * hw) + eps));
        }
        k.bnTrainJacobian(out, in, xhat, coef, n, c, hw);
        // numeric: central difference of gamma * xhat(x) in double
        double h = 1e-4;
        double[] xp = x.clone(), xm = x.clone();
        for (int i = 0; i < len; i++) {
            xp[i] += h * v[i];
            xm[i] -= h * v[i];
        }
        double[] fp = normalize(xp, n, c, hw, eps, gamma), fm = normalize(xm, n, c, hw, eps, gamma);
        for (int i = 0; i < len; i++) {
            double fd = (fp[i] - fm[i]) / (2 * h);
            // float inputs (in, xhat, coef) limit the agreement to float precision
            assertEquals(fd, out[i], 1e-5 * (1 + Math.abs(fd)), "element " + i);
        }
    }

    /** gamma[c] * (x - mean_c) / sqrt(var_c + eps), all in double. */
    private static double[] normalize(double[] x, int n, int c, int hw, double eps, double[] gamma) {
        double[] y = new double[x.length];
        for (int ch = 0; ch < c; ch++) {
            double s = 0, ss = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    s += x[(b * c + ch) * hw + i];
                }
            }
            double mu = s / (n * hw);
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    ss += Math.pow(x[(b * c + ch) * hw + i] - mu, 2);
                }
            }
            double inv = 1 / Math.sqrt(ss / (n * hw) + eps);
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    int j = (b * c + ch) * hw + i;
                    y[j] = gamma[ch] * (x[j] - mu) * inv;
                }
            }
        }
        return y;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
