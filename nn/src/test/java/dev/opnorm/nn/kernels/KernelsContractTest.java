package dev.opnorm.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every {@link Kernels} implementation must meet: each op agrees with
 * {@link ScalarKernels} (the reference) on awkward sizes (1, 3, 7, 17, 33: never a multiple of a
 * SIMD width), all conv strides/paddings/kernel sizes the layers use, all four GEMM transpose
 * combinations with offsets, padded leading dimensions and beta 0 / non-zero, and shapes big enough
 * to cross cache blocks. It also checks the overwrite (=) versus accumulate (+=) semantics of each op,
 * that inputs are not modified, that GEMM leaves C outside its window alone, and the documented
 * conventions (ReLU'(0) = 0, first maximum wins in max pooling, beta == 0 ignores NaN in C).
 *
 * <p>Implementations that follow the contract's summation order ({@link #bitExact()}) must match the
 * reference bit for bit; others' sums are compared with {@link KernelTolerances#sum(double)} relative to
 * the magnitude of their terms; gathers, max and ReLU must match exactly. The base class assumes nothing about threads,
 * SIMD or devices: a subclass only supplies {@link #kernels()}.
 */
public abstract class KernelsContractTest {

    private static final ScalarKernels REF = new ScalarKernels();

    /**
     * {@code -Dopnorm.test.smallCases=true} keeps only the GEMM and conv cases of at most this many
     * multiply-adds (still odd sizes, and still crossing a 256-deep k-slice): for species the CPU only
     * emulates (512-bit vectors on AVX2), where every vector op is a loop.
     */
    private static final long SMALL_CASE_MACS = Boolean.getBoolean("opnorm.test.smallCases") ? 3_000_000L : Long.MAX_VALUE;

    /**
     * The implementation under test. Called once per test invocation; may return a shared instance
     * (an OpenCL context, a thread pool).
     */
    protected abstract Kernels kernels();

    // ---- case generators (static so that @MethodSource finds them from subclasses) -------------------

    /** Conv cases: stride 1/2 x pad 0/1/2 x kernel 1/3/5 over odd spatial sizes, then blocked sizes. */
    static List<Conv2dDims> convCases() {
        int[][] spatial = {{1, 1}, {3, 7}, {7, 3}, {17, 17}, {33, 5}};
        int[][] nck = {{1, 1, 1}, {2, 3, 5}, {1, 7, 3}, {3, 5, 17}, {2, 17, 7}};
        List<Conv2dDims> cases = new ArrayList<>();
        int i = 0;
        for (int stride : new int[] {1, 2}) {
            for (int pad : new int[] {0, 1, 2}) {
                for (int r : new int[] {1, 3, 5}) {
                    for (int[] hw : spatial) {
                        if (hw[0] + 2 * pad < r || hw[1] + 2 * pad < r) {
                            continue;
                        }
                        int[] c = nck[i++ % nck.length];
                        cases.add(new Conv2dDims(c[0], c[1], hw[0], hw[1], c[2], r, r, stride, pad));
                    }
                }
            }
        }
        // non-square kernels
        cases.add(new Conv2dDims(2, 3, 9, 11, 4, 3, 1, 1, 1));
        cases.add(new Conv2dDims(1, 2, 8, 6, 3, 1, 5, 2, 2));
        cases.add(new Conv2dDims(1, 3, 5, 13, 5, 5, 3, 2, 0));
        // big enough to cross register/cache blocks: c*r*s = 333 and 1161, k = 67, p*q = 289
        cases.add(new Conv2dDims(2, 37, 17, 17, 67, 3, 3, 1, 1));
        cases.add(new Conv2dDims(1, 129, 9, 9, 33, 3, 3, 2, 1));
        // output widths that are multiples of 8/16/32 lanes (row-vector fast paths), with column blocks that
        // straddle samples and a partial last block
        cases.add(new Conv2dDims(3, 5, 3, 16, 7, 3, 3, 1, 1));
        cases.add(new Conv2dDims(2, 4, 6, 32, 9, 1, 1, 1, 0));
        cases.add(new Conv2dDims(2, 6, 5, 16, 4, 5, 5, 1, 2));
        cases.add(new Conv2dDims(1, 3, 8, 34, 5, 3, 3, 1, 0));
        cases.add(new Conv2dDims(3, 2, 4, 8, 3, 3, 3, 1, 1));
        cases.add(new Conv2dDims(2, 5, 7, 24, 9, 3, 3, 1, 1));
        cases.add(new Conv2dDims(1, 7, 2, 16, 5, 3, 1, 1, 1));
        cases.add(new Conv2dDims(2, 3, 5, 20, 65, 3, 3, 1, 1)); // >= 64 output channels on wide rows
        cases.add(new Conv2dDims(2, 4, 4, 16, 32, 3, 3, 1, 1));
        cases.add(new Conv2dDims(1, 3, 3, 17, 90, 3, 3, 1, 1));
        cases.add(new Conv2dDims(1, 5, 3, 35, 130, 3, 5, 1, 2));
        // exact multiples of every lane count, as in the CNN
        cases.add(new Conv2dDims(3, 16, 12, 12, 32, 3, 3, 1, 1));
        cases.add(new Conv2dDims(2, 64, 4, 4, 32, 3, 3, 1, 0));
        // more than two column panels of 1024 (weights packed once for all panels), and 12-wide rows (on 8 or 16
        // lanes: vectors spanning output rows, read from column-shifted copies)
        cases.add(new Conv2dDims(3, 3, 32, 32, 5, 3, 3, 1, 1));
        cases.add(new Conv2dDims(3, 8, 24, 32, 6, 3, 3, 1, 1));
        cases.add(new Conv2dDims(2, 5, 12, 12, 7, 3, 3, 1, 1));
        // few input channels, many output channels, a grid of 64 pixels: the input VJP's dcol = W^T gy with gy
        // read in place, and the weight VJP as gy * im2col(x)^T
        cases.add(new Conv2dDims(2, 3, 8, 8, 40, 3, 3, 1, 1));
        cases.removeIf(d -> (long) d.n() * d.k() * d.p() * d.q() * d.c() * d.r() * d.s() > SMALL_CASE_MACS);
        return cases;
    }

    /** GEMM cases: (transA, transB, m, n, k, alpha, beta, offset, leading-dimension padding). */
    static List<Arguments> gemmCases() {
        // k = 0 is legal: C = beta * C (or 0 when beta == 0)
        int[][] mnk = {{1, 1, 1}, {3, 7, 17}, {17, 3, 7}, {33, 17, 1}, {7, 33, 33}, {1, 65, 40}, {67, 129, 300},
            {130, 65, 513}, {5, 3, 0}};
        List<Arguments> cases = new ArrayList<>();
        int i = 0;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int[] s : mnk) {
                    if ((long) s[0] * s[1] * s[2] > SMALL_CASE_MACS) {
                        continue;
                    }
                    for (float beta : new float[] {0f, 0.75f}) {
                        float alpha = (i % 3 == 0) ? 1f : (i % 3 == 1 ? -1.5f : 0.5f);
                        int off = (i % 2) * 5;
                        int ldPad = ((i / 2) % 2) * 3;
                        cases.add(Arguments.of(ta, tb, s[0], s[1], s[2], alpha, beta, off, ldPad));
                        i++;
                    }
                }
            }
        }
        return cases;
    }

    static int[] lengths() {
        return new int[] {1, 3, 7, 17, 33, 1000, 4099};
    }

    /** Pooling cases: window 1..3 (also non-square), stride 1..3, padding up to half the window. */
    static List<PoolDims> poolCases() {
        int[][] spatial = {{1, 1}, {3, 7}, {17, 17}, {33, 5}};
        int[][] nc = {{1, 1}, {2, 3}, {3, 5}, {1, 17}};
        int[][] windows = {{1, 1}, {2, 2}, {3, 3}, {2, 3}};
        List<PoolDims> cases = new ArrayList<>();
        int i = 0;
        for (int[] win : windows) {
            for (int stride = 1; stride <= 3; stride++) {
                for (int pad = 0; 2 * pad <= Math.min(win[0], win[1]); pad++) {
                    for (int[] hw : spatial) {
                        if (hw[0] + 2 * pad < win[0] || hw[1] + 2 * pad < win[1]) {
                            continue;
                        }
                        int[] c = nc[i++ % nc.length];
                        cases.add(new PoolDims(c[0], c[1], hw[0], hw[1], win[0], win[1], stride, pad));
                    }
                }
            }
        }
        cases.add(new PoolDims(4, 33, 32, 32, 2, 2, 2, 0));
        return cases;
    }

    /** BatchNorm shapes (n, c, hw). */
    static List<Arguments> channelCases() {
        return List.of(Arguments.of(1, 1, 1), Arguments.of(2, 3, 7), Arguments.of(3, 17, 1), Arguments.of(1, 5, 33),
                Arguments.of(4, 33, 17), Arguments.of(8, 64, 100));
    }

    // ---- convolution -------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void conv2dForward_matchesReference(Conv2dDims d) {
        Random rnd = new Random(11L + d.hashCode());
        float[] x = uniform(rnd, d.inputSize()), w = uniform(rnd, d.weightSize()), b = uniform(rnd, d.k());
        float[] x0 = x.clone(), w0 = w.clone(), b0 = b.clone();
        for (boolean withBias : new boolean[] {true, false}) {
            float[] bias = withBias ? b : null;
            float[] want = new float[d.outputSize()], mag = new float[d.outputSize()];
            REF.conv2dForward(want, x, w, bias, d);
            REF.conv2dForward(mag, abs(x), abs(w), bias == null ? null : abs(bias), d);
            float[] got = nans(d.outputSize()); // overwrite: old contents must not leak in
            kernels().conv2dForward(got, x, w, bias, d);
            assertMatches("conv2dForward bias=" + withBias + " " + d, want, got, mag);
        }
        assertUnchanged(x0, x, "x");
        assertUnchanged(w0, w, "w");
        assertUnchanged(b0, b, "b");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void conv2dVjpInput_matchesReference(Conv2dDims d) {
        Random rnd = new Random(12L + d.hashCode());
        float[] gy = uniform(rnd, d.outputSize()), w = uniform(rnd, d.weightSize());
        float[] gy0 = gy.clone(), w0 = w.clone();
        float[] want = new float[d.inputSize()], mag = new float[d.inputSize()];
        REF.conv2dVjpInput(want, gy, w, d);
        REF.conv2dVjpInput(mag, abs(gy), abs(w), d);
        float[] got = nans(d.inputSize());
        kernels().conv2dVjpInput(got, gy, w, d);
        assertMatches("conv2dVjpInput " + d, want, got, mag);
        assertUnchanged(gy0, gy, "gy");
        assertUnchanged(w0, w, "w");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void conv2dVjpWeight_accumulatesReference(Conv2dDims d) {
        Random rnd = new Random(13L + d.hashCode());
        float[] gy = uniform(rnd, d.outputSize()), x = uniform(rnd, d.inputSize());
        float[] gw0 = uniform(rnd, d.weightSize());
        float[] gy0 = gy.clone(), x0 = x.clone();
        float[] want = gw0.clone(), mag = abs(gw0);
        REF.conv2dVjpWeight(want, gy, x, d);
        REF.conv2dVjpWeight(mag, abs(gy), abs(x), d);
        float[] got = gw0.clone();
        kernels().conv2dVjpWeight(got, gy, x, d);
        assertMatches("conv2dVjpWeight " + d, want, got, mag);
        assertUnchanged(gy0, gy, "gy");
        assertUnchanged(x0, x, "x");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void conv2dVjpBias_accumulatesReference(Conv2dDims d) {
        Random rnd = new Random(14L + d.hashCode());
        float[] gy = uniform(rnd, d.outputSize()), gb0 = uniform(rnd, d.k());
        float[] want = gb0.clone(), mag = abs(gb0);
        REF.conv2dVjpBias(want, gy, d);
        REF.conv2dVjpBias(mag, abs(gy), d);
        float[] got = gb0.clone();
        kernels().conv2dVjpBias(got, gy, d);
        assertMatches("conv2dVjpBias " + d, want, got, mag);
    }

    // ---- dense -------------------------------------------------------------------------------------

    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4} alpha={5} beta={6} off={7} ldPad={8}")
    @MethodSource("gemmCases")
    void gemm_matchesReference(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, int off,
                               int ldPad) {
        Random rnd = new Random(31L * m + 17L * n + k + (ta ? 1000 : 0) + (tb ? 2000 : 0));
        // A is stored (ta ? k x m : m x k) with row length lda; likewise B; C is m x ldc
        // leading dimensions >= 1 even for k == 0, as BLAS requires
        int lda = Math.max(1, (ta ? m : k) + ldPad), ldb = Math.max(1, (tb ? k : n) + ldPad), ldc = n + ldPad;
        int aOff = off, bOff = 2 * off, cOff = 3 * off;
        float[] a = uniform(rnd, aOff + (ta ? k : m) * lda + 2);
        float[] b = uniform(rnd, bOff + (tb ? n : k) * ldb + 2);
        float[] c = uniform(rnd, cOff + m * ldc + 2);
        if (beta == 0f) {
            for (int i = 0; i < m; i++) { // beta == 0 must ignore C, including NaN
                c[cOff + i * ldc + (i % n)] = Float.NaN;
            }
        }
        float[] a0 = a.clone(), b0 = b.clone();
        float[] want = c.clone();
        REF.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, want, cOff, ldc);
        float[] mag = beta == 0f ? new float[c.length] : abs(c);
        REF.gemm(ta, tb, m, n, k, Math.abs(alpha), abs(a), aOff, lda, abs(b), bOff, ldb, Math.abs(beta),
                mag, cOff, ldc);
        float[] got = c.clone();
        kernels().gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, got, cOff, ldc);
        String what = "gemm ta=" + ta + " tb=" + tb + " " + m + "x" + n + "x" + k;
        for (int idx = 0; idx < c.length; idx++) {
            int rel = idx - cOff;
            boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
            if (!inside && Float.floatToRawIntBits(got[idx]) != Float.floatToRawIntBits(c[idx])) {
                fail(what + ": element " + idx + " outside the C window was modified");
            }
        }
        assertMatches(what, want, got, mag);
        assertUnchanged(a0, a, "a");
        assertUnchanged(b0, b, "b");
    }

    // ---- elementwise -------------------------------------------------------------------------------

    @ParameterizedTest(name = "len={0}")
    @MethodSource("lengths")
    void relu_matchesReferenceExactly(int len) {
        float[] x = withSpecials(uniform(new Random(len), len + 3));
        float[] want = nans(len + 3), got = nans(len + 3);
        REF.relu(want, x, len);
        kernels().relu(got, x, len);
        assertBits("relu", want, got);
        float[] inPlace = x.clone(); // y may alias x
        kernels().relu(inPlace, inPlace, len);
        float[] wantInPlace = x.clone();
        REF.relu(wantInPlace, x, len);
        assertBits("relu in place", wantInPlace, inPlace);
    }

    @ParameterizedTest(name = "len={0}")
    @MethodSource("lengths")
    void reluMask_matchesReferenceExactly(int len) {
        Random rnd = new Random(len + 1);
        float[] x = withSpecials(uniform(rnd, len + 3)), in = uniform(rnd, len + 3);
        float[] want = nans(len + 3), got = nans(len + 3);
        REF.reluMask(want, in, x, len);
        kernels().reluMask(got, in, x, len);
        assertBits("reluMask", want, got);
        float[] inPlace = in.clone(); // out may alias in
        kernels().reluMask(inPlace, inPlace, x, len);
        float[] wantInPlace = in.clone();
        REF.reluMask(wantInPlace, in, x, len);
        assertBits("reluMask in place", wantInPlace, inPlace);
    }

    @ParameterizedTest(name = "len={0}")
    @MethodSource("lengths")
    void axpy_matchesReference(int len) {
        Random rnd = new Random(len + 2);
        float[] y = uniform(rnd, len + 3), x = uniform(rnd, len + 3);
        float a = -1.75f;
        float[] want = y.clone(), got = y.clone(), mag = abs(y);
        REF.axpy(want, a, x, len);
        REF.axpy(mag, -a, abs(x), len);
        kernels().axpy(got, a, x, len);
        assertMatches("axpy", want, got, mag);
        assertEquals(y[len], got[len], "axpy wrote past len");
    }

    @ParameterizedTest(name = "len={0}")
    @MethodSource("lengths")
    void add_matchesReference(int len) {
        Random rnd = new Random(len + 3);
        float[] a = uniform(rnd, len + 3), b = uniform(rnd, len + 3);
        float[] want = nans(len + 3), got = nans(len + 3), mag = nans(len + 3);
        REF.add(want, a, b, len);
        REF.add(mag, abs(a), abs(b), len);
        kernels().add(got, a, b, len);
        assertMatches("add", want, got, mag);
        float[] aliasA = a.clone(); // y may alias a
        kernels().add(aliasA, aliasA, b, len);
        assertMatches("add y==a", want, aliasA, mag, len);
        float[] aliasB = b.clone(); // y may alias b
        kernels().add(aliasB, a, aliasB, len);
        assertMatches("add y==b", want, aliasB, mag, len);
    }

    @ParameterizedTest(name = "len={0}")
    @MethodSource("lengths")
    void scale_matchesReference(int len) {
        float[] x = uniform(new Random(len + 4), len + 3);
        float[] want = nans(len + 3), got = nans(len + 3), mag = nans(len + 3);
        REF.scale(want, -0.3f, x, len);
        REF.scale(mag, 0.3f, abs(x), len);
        kernels().scale(got, -0.3f, x, len);
        assertMatches("scale", want, got, mag);
        float[] inPlace = x.clone();
        kernels().scale(inPlace, -0.3f, inPlace, len);
        assertMatches("scale in place", want, inPlace, mag, len);
    }

    @ParameterizedTest(name = "m={0} n={1}")
    @MethodSource("channelCases")
    void addRowBias_matchesReference(int m, int n, int unused) {
        Random rnd = new Random(m * 100 + n);
        for (int[] mn : new int[][] {{m, n}, {n * unused, m}}) {
            float[] c = uniform(rnd, mn[0] * mn[1]), bias = uniform(rnd, mn[1]);
            float[] want = c.clone(), got = c.clone(), mag = abs(c);
            REF.addRowBias(want, bias, mn[0], mn[1]);
            REF.addRowBias(mag, abs(bias), mn[0], mn[1]);
            kernels().addRowBias(got, bias, mn[0], mn[1]);
            assertMatches("addRowBias " + mn[0] + "x" + mn[1], want, got, mag);
        }
    }

    @ParameterizedTest(name = "m={0} n={1}")
    @MethodSource("channelCases")
    void sumRowsAccumulate_matchesReference(int m, int n, int hw) {
        Random rnd = new Random(m * 100 + n + 7);
        for (int[] mn : new int[][] {{m, n}, {m * hw, n}, {n * hw, m}}) {
            float[] g = uniform(rnd, mn[0] * mn[1]), gb0 = uniform(rnd, mn[1]);
            float[] want = gb0.clone(), got = gb0.clone(), mag = abs(gb0);
            REF.sumRowsAccumulate(want, g, mn[0], mn[1]);
            REF.sumRowsAccumulate(mag, abs(g), mn[0], mn[1]);
            kernels().sumRowsAccumulate(got, g, mn[0], mn[1]);
            assertMatches("sumRowsAccumulate " + mn[0] + "x" + mn[1], want, got, mag);
        }
    }

    // ---- per-channel (BatchNorm) ---------------------------------------------------------------------

    @ParameterizedTest(name = "n={0} c={1} hw={2}")
    @MethodSource("channelCases")
    void channelMeanVar_matchesReference(int n, int c, int hw) {
        Random rnd = new Random(n * 1000 + c * 10 + hw);
        float[] x = uniform(rnd, n * c * hw);
        for (int i = 0; i < x.length; i++) {
            x[i] = 2f + 3f * x[i]; // an offset mean, so that var = E[x^2] - mu^2 would visibly cancel in float
        }
        float[] wantMean = new float[c], wantVar = new float[c];
        REF.channelMeanVar(wantMean, wantVar, x, n, c, hw);
        float[] magMean = new float[c], magVar = new float[c], x2 = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x2[i] = x[i] * x[i];
        }
        float[] unusedVar = new float[c];
        REF.channelMeanVar(magMean, unusedVar, abs(x), n, c, hw);
        REF.channelMeanVar(magVar, unusedVar, x2, n, c, hw); // E[x^2] bounds the terms of the variance
        float[] gotMean = nans(c), gotVar = nans(c);
        kernels().channelMeanVar(gotMean, gotVar, x, n, c, hw);
        assertMatches("channelMeanVar mean", wantMean, gotMean, magMean);
        assertMatches("channelMeanVar var", wantVar, gotVar, magVar);
    }

    @ParameterizedTest(name = "n={0} c={1} hw={2}")
    @MethodSource("channelCases")
    void channelAffine_matchesReference(int n, int c, int hw) {
        Random rnd = new Random(n * 1000 + c * 10 + hw + 1);
        float[] x = uniform(rnd, n * c * hw), scale = uniform(rnd, c), shift = uniform(rnd, c);
        for (boolean withShift : new boolean[] {true, false}) {
            float[] sh = withShift ? shift : null;
            float[] want = nans(x.length), got = nans(x.length), mag = nans(x.length);
            REF.channelAffine(want, x, scale, sh, n, c, hw);
            REF.channelAffine(mag, abs(x), abs(scale), sh == null ? null : abs(sh), n, c, hw);
            kernels().channelAffine(got, x, scale, sh, n, c, hw);
            assertMatches("channelAffine shift=" + withShift, want, got, mag);
            float[] inPlace = x.clone(); // y may alias x
            kernels().channelAffine(inPlace, inPlace, scale, sh, n, c, hw);
            assertMatches("channelAffine in place shift=" + withShift, want, inPlace, mag);
        }
    }

    @ParameterizedTest(name = "n={0} c={1} hw={2}")
    @MethodSource("channelCases")
    void bnTrainJacobian_matchesReference(int n, int c, int hw) {
        Random rnd = new Random(n * 1000 + c * 10 + hw + 2);
        int len = n * c * hw;
        float[] in = uniform(rnd, len), xhat = normalizedPerChannel(uniform(rnd, len), n, c, hw), coef = uniform(rnd, c);
        float[] want = nans(len), got = nans(len);
        REF.bnTrainJacobian(want, in, xhat, coef, n, c, hw);
        kernels().bnTrainJacobian(got, in, xhat, coef, n, c, hw);
        // out = coef * (in - mean(in) - xhat * mean(in * xhat)): bound each of the three terms
        float[] mag = new float[len];
        double count = (double) n * hw;
        for (int ch = 0; ch < c; ch++) {
            double m1 = 0, m2 = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    int j = (b * c + ch) * hw + i;
                    m1 += Math.abs(in[j]);
                    m2 += Math.abs(in[j] * xhat[j]);
                }
            }
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    int j = (b * c + ch) * hw + i;
                    mag[j] = (float) (Math.abs(coef[ch]) * (Math.abs(in[j]) + m1 / count + Math.abs(xhat[j]) * m2 / count));
                }
            }
        }
        assertMatches("bnTrainJacobian", want, got, mag);
    }

    @ParameterizedTest(name = "n={0} c={1} hw={2}")
    @MethodSource("channelCases")
    void channelSumsAccumulate_matchesReference(int n, int c, int hw) {
        Random rnd = new Random(n * 1000 + c * 10 + hw + 3);
        int len = n * c * hw;
        float[] a = uniform(rnd, len), b = uniform(rnd, len), sumA0 = uniform(rnd, c), sumAB0 = uniform(rnd, c);
        float[] ab = new float[len];
        for (int i = 0; i < len; i++) {
            ab[i] = Math.abs(a[i] * b[i]);
        }
        float[] wantA = sumA0.clone(), wantAB = sumAB0.clone();
        REF.channelSumsAccumulate(wantA, wantAB, a, b, n, c, hw);
        float[] magA = abs(sumA0), magAB = abs(sumAB0);
        REF.channelSumsAccumulate(magA, null, abs(a), null, n, c, hw);
        REF.channelSumsAccumulate(magAB, null, ab, null, n, c, hw);
        float[] gotA = sumA0.clone(), gotAB = sumAB0.clone();
        kernels().channelSumsAccumulate(gotA, gotAB, a, b, n, c, hw);
        assertMatches("channelSumsAccumulate sumA", wantA, gotA, magA);
        assertMatches("channelSumsAccumulate sumAB", wantAB, gotAB, magAB);

        float[] gotA2 = sumA0.clone(), untouched = sumAB0.clone();
        kernels().channelSumsAccumulate(gotA2, untouched, a, null, n, c, hw);
        assertMatches("channelSumsAccumulate sumA (b null)", wantA, gotA2, magA);
        assertBits("channelSumsAccumulate sumAB must be untouched when b is null", sumAB0, untouched);
    }

    // ---- pooling -----------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolCases")
    void maxPool2dForward_matchesReferenceExactly_withTies(PoolDims d) {
        Random rnd = new Random(21L + d.hashCode());
        float[] x = new float[d.inputSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextInt(5) - 4; // values in {-4..0}: many ties, and all <= 0 so padding would win if counted
        }
        float[] want = new float[d.outputSize()], got = nans(d.outputSize());
        int[] wantIdx = new int[d.outputSize()], gotIdx = new int[d.outputSize()];
        Arrays.fill(gotIdx, -7);
        REF.maxPool2dForward(want, wantIdx, x, d);
        kernels().maxPool2dForward(got, gotIdx, x, d);
        assertBits("maxPool2dForward y " + d, want, got);
        assertArrayEquals(wantIdx, gotIdx, "maxPool2dForward argmax " + d);
    }

    @Test
    void maxPool2dForward_propagatesNaN_likeReference() {
        // a padded 3x3 window, and the CNN's 2x2 stride-2 pool with NaN in every window position
        for (PoolDims d : List.of(new PoolDims(1, 2, 5, 7, 3, 3, 2, 1), new PoolDims(1, 2, 6, 8, 2, 2, 2, 0))) {
            float[] x = uniform(new Random(5), d.inputSize());
            x[8] = Float.NaN;
            x[d.h() * d.w() + 20] = Float.NaN;
            x[d.h() * d.w() + 2 * d.w() + 3] = Float.NaN;
            x[d.h() * d.w() + 4 * d.w() + 1] = Float.NaN;
            x[d.h() * d.w() + 4 * d.w() + 4] = Float.NaN;
            x[d.h() * d.w() + 4 * d.w() + 5] = Float.NaN;
            float[] want = new float[d.outputSize()], got = new float[d.outputSize()];
            int[] wantIdx = new int[d.outputSize()], gotIdx = new int[d.outputSize()];
            REF.maxPool2dForward(want, wantIdx, x, d);
            kernels().maxPool2dForward(got, gotIdx, x, d);
            assertBits("maxPool2dForward with NaN " + d, want, got);
            assertArrayEquals(wantIdx, gotIdx, "maxPool2dForward argmax with NaN " + d);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolCases")
    void maxPool2dJvpAndVjp_matchReference(PoolDims d) {
        Random rnd = new Random(22L + d.hashCode());
        float[] x = uniform(rnd, d.inputSize());
        int[] argmax = new int[d.outputSize()];
        REF.maxPool2dForward(new float[d.outputSize()], argmax, x, d);

        float[] dx = uniform(rnd, d.inputSize());
        float[] wantDy = new float[d.outputSize()], gotDy = nans(d.outputSize());
        REF.maxPool2dJvp(wantDy, dx, argmax, d);
        kernels().maxPool2dJvp(gotDy, dx, argmax, d);
        assertBits("maxPool2dJvp " + d, wantDy, gotDy);

        float[] gy = uniform(rnd, d.outputSize());
        float[] wantGx = new float[d.inputSize()], mag = new float[d.inputSize()], gotGx = nans(d.inputSize());
        REF.maxPool2dVjp(wantGx, gy, argmax, d);
        REF.maxPool2dVjp(mag, abs(gy), argmax, d);
        kernels().maxPool2dVjp(gotGx, gy, argmax, d);
        assertMatches("maxPool2dVjp " + d, wantGx, gotGx, mag);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolCases")
    void avgPool2dForwardAndVjp_matchReference(PoolDims d) {
        Random rnd = new Random(23L + d.hashCode());
        float[] x = uniform(rnd, d.inputSize());
        float[] want = new float[d.outputSize()], mag = new float[d.outputSize()], got = nans(d.outputSize());
        REF.avgPool2dForward(want, x, d);
        REF.avgPool2dForward(mag, abs(x), d);
        kernels().avgPool2dForward(got, x, d);
        assertMatches("avgPool2dForward " + d, want, got, mag);

        float[] gy = uniform(rnd, d.outputSize());
        float[] wantGx = new float[d.inputSize()], magGx = new float[d.inputSize()], gotGx = nans(d.inputSize());
        REF.avgPool2dVjp(wantGx, gy, d);
        REF.avgPool2dVjp(magGx, abs(gy), d);
        kernels().avgPool2dVjp(gotGx, gy, d);
        assertMatches("avgPool2dVjp " + d, wantGx, gotGx, magGx);
    }

    @Test
    void name_isNotBlank() {
        assertFalse(kernels().name() == null || kernels().name().isBlank(), "Kernels.name() must be a short label");
    }

    // ---- optimizer updates (nn.optim) -------------------------------------------------------------------

    /**
     * The three updates with every option (weight decay on / off, first step, Nesterov, AdamW, centered,
     * momentum) from the same state: element-wise, so every implementation must equal the reference bit
     * for bit; nothing past len changes and the gradient is read only.
     */
    @ParameterizedTest(name = "len={0}")
    @MethodSource("lengths")
    void optimizerUpdates_matchReferenceExactly(int len) {
        Random rnd = new Random(len + 91);
        float[] p0 = uniform(rnd, len + 2), g0 = withZeros(uniform(rnd, len + 2)), a0 = uniform(rnd, len + 2);
        float[] sq0 = abs(uniform(rnd, len + 2)), ga0 = uniform(rnd, len + 2);
        for (int i = 0; i < sq0.length; i++) {
            sq0[i] += ga0[i] * ga0[i]; // centered: square_avg >= grad_avg^2, as the running means keep it
        }
        for (float wd : new float[] {0f, 0.01f}) {
            for (int mode = 0; mode < 4; mode++) {
                boolean first = (mode & 1) != 0, nesterov = (mode & 2) != 0;
                float[][] want = {p0.clone(), a0.clone()}, got = {p0.clone(), a0.clone()};
                REF.sgdUpdate(want[0], g0, want[1], wd, 0.9f, 0.75f, -0.1f, first, nesterov, len);
                float[] g = g0.clone();
                kernels().sgdUpdate(got[0], g, got[1], wd, 0.9f, 0.75f, -0.1f, first, nesterov, len);
                assertUnchanged(g0, g, "grad");
                assertStates("sgdUpdate wd=" + wd + " mode=" + mode, want, got);
                float[] wantP = p0.clone(), gotP = p0.clone();
                REF.sgdUpdate(wantP, g0, null, wd, 0.9f, 1f, -0.1f, first, false, len);
                kernels().sgdUpdate(gotP, g0, null, wd, 0.9f, 1f, -0.1f, first, false, len);
                assertBits("sgdUpdate without momentum", wantP, gotP);
            }
            for (boolean decoupled : new boolean[] {false, true}) {
                float[][] want = {p0.clone(), a0.clone(), sq0.clone()}, got = {p0.clone(), a0.clone(), sq0.clone()};
                REF.adamUpdate(want[0], g0, want[1], want[2], wd, 0.999f, decoupled, 0.1f, 0.9f, 0.001f, 0.999f, -0.01f,
                        0.3f, 1e-8f, len);
                kernels().adamUpdate(got[0], g0, got[1], got[2], wd, 0.999f, decoupled, 0.1f, 0.9f, 0.001f, 0.999f,
                        -0.01f, 0.3f, 1e-8f, len);
                assertStates("adamUpdate wd=" + wd + " decoupled=" + decoupled, want, got);
            }
            for (int mode = 0; mode < 4; mode++) {
                boolean centered = (mode & 1) != 0, momentum = (mode & 2) != 0;
                float[][] want = {p0.clone(), sq0.clone(), ga0.clone(), a0.clone()};
                float[][] got = {p0.clone(), sq0.clone(), ga0.clone(), a0.clone()};
                REF.rmspropUpdate(want[0], g0, want[1], centered ? want[2] : null, momentum ? want[3] : null, wd, 0.99f,
                        0.01f, 1e-8f, 0.5f, -0.01f, len);
                kernels().rmspropUpdate(got[0], g0, got[1], centered ? got[2] : null, momentum ? got[3] : null, wd,
                        0.99f, 0.01f, 1e-8f, 0.5f, -0.01f, len);
                assertStates("rmspropUpdate wd=" + wd + " mode=" + mode, want, got);
            }
        }
        // the reference moves the parameter against the gradient (a wrong sign or a skipped update fails here)
        float[] p = {1f}, buf = {0f};
        REF.sgdUpdate(p, new float[] {2f}, buf, 0f, 0.9f, 1f, -0.25f, true, false, 1);
        assertBits("sgd first step p - lr g", new float[] {0.5f}, p);
        assertBits("sgd first step buf = g", new float[] {2f}, buf);
    }

    // ---- power method / (p,q) iteration (linalg BatchOps) -------------------------------------------

    /**
     * The row ops on odd row lengths (a zero row included): norms, division (rows with norm 0 or NaN left
     * alone), dual maps, the sphere step and the flagged row copy equal the reference bit for bit (each row
     * is linalg's method on its slice); the norms are linalg's {@code Norms.lp} rounded to float.
     */
    @ParameterizedTest(name = "cols={0}")
    @MethodSource("lengths")
    void rowOps_matchReferenceExactly(int cols) {
        int rows = 3;
        Random rnd = new Random(cols + 57);
        float[] a = uniform(rnd, rows * cols), z = uniform(rnd, rows * cols);
        Arrays.fill(a, cols, 2 * cols, 0f);
        for (double p : new double[] {1, 1.5, 2, 3, Double.POSITIVE_INFINITY}) {
            float[] want = nans(rows + 1), got = nans(rows + 1);
            REF.rowNorms(want, 1, a, rows, cols, p);
            kernels().rowNorms(got, 1, a, rows, cols, p);
            assertBits("rowNorms p=" + p, want, got);
            assertEquals((float) dev.opnorm.linalg.Norms.lp(a, 0, cols, p), got[1], "rowNorms p=" + p + " vs Norms.lp");
            float[] wantD = withZeros(uniform(new Random(1), rows * cols)), gotD = wantD.clone();
            REF.dualRows(wantD, a, rows, cols, p);
            kernels().dualRows(gotD, a, rows, cols, p);
            assertBits("dualRows q=" + p, wantD, gotD);
            float[] wantS = a.clone(), gotS = a.clone();
            REF.sphereStep(wantS, z, 0.5, rows, cols, p);
            kernels().sphereStep(gotS, z, 0.5, rows, cols, p);
            assertBits("sphereStep p=" + p, wantS, gotS);
        }
        float[] norms = {Float.NaN, 0.25f, 0f, 3f};
        float[] want = z.clone(), got = z.clone();
        REF.divideRows(want, a, norms, 1, rows, cols);
        kernels().divideRows(got, a, norms, 1, rows, cols);
        assertBits("divideRows", want, got);
        assertEquals(a[0] / 0.25f, got[0], "divideRows row 0 by 0.25");
        assertBits("divideRows leaves a zero-norm row", Arrays.copyOfRange(z, cols, 2 * cols),
                Arrays.copyOfRange(got, cols, 2 * cols));
        int[] flags = kernels().allocateInts(rows);
        kernels().uploadInts(flags, new int[] {1, 0, 1}, rows);
        float[] wantC = z.clone(), gotC = z.clone();
        REF.copyRowsWhere(wantC, a, new int[] {1, 0, 1}, rows, cols);
        kernels().copyRowsWhere(gotC, a, flags, rows, cols);
        assertBits("copyRowsWhere", wantC, gotC);
        assertBits("copyRowsWhere copies row 2", Arrays.copyOfRange(a, 2 * cols, 3 * cols),
                Arrays.copyOfRange(gotC, 2 * cols, 3 * cols));
    }

    private static float[] withZeros(float[] a) {
        for (int i = 0; i < a.length; i += 3) {
            a[i] = 0f;
        }
        return a;
    }

    private static void assertStates(String what, float[][] want, float[][] got) {
        for (int k = 0; k < want.length; k++) {
            assertBits(what + " buffer " + k, want[k], got[k]);
        }
    }

    // ---- helpers (protected: subclasses such as a bit-identity test reuse them) ------------------------

    /** Uniform values in [-1, 1). */
    protected static float[] uniform(Random rnd, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = 2f * rnd.nextFloat() - 1f;
        }
        return a;
    }

    protected static float[] abs(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.abs(a[i]);
        }
        return r;
    }

    protected static float[] nans(int len) {
        float[] a = new float[len];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    /** Sprinkles exact zeros (both signs), NaN and infinities, which ReLU conventions must treat like the reference. */
    private static float[] withSpecials(float[] a) {
        float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE};
        for (int i = 0; i < a.length; i += 5) {
            a[i] = specials[(i / 5) % specials.length];
        }
        return a;
    }

    /** Each channel shifted and scaled to mean 0, biased variance 1 (computed in double), like BN's xhat. */
    private static float[] normalizedPerChannel(float[] x, int n, int c, int hw) {
        double count = (double) n * hw;
        for (int ch = 0; ch < c; ch++) {
            double s = 0, ss = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    s += x[(b * c + ch) * hw + i];
                }
            }
            double mu = s / count;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    double dv = x[(b * c + ch) * hw + i] - mu;
                    ss += dv * dv;
                }
            }
            double inv = 1.0 / Math.sqrt(ss / count + 1e-5);
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    int j = (b * c + ch) * hw + i;
                    x[j] = (float) ((x[j] - mu) * inv);
                }
            }
        }
        return x;
    }

    /** Asserts |want - got| <= KernelTolerances.sum(mag) element-wise over the whole arrays; NaN must match NaN. */
    protected static void assertClose(String what, float[] want, float[] got, float[] mag) {
        assertEquals(want.length, got.length, what + ": length");
        assertClose(what, want, got, mag, want.length);
    }

    /** As {@link #assertClose(String, float[], float[], float[])} over the first {@code len} elements. */
    protected static void assertClose(String what, float[] want, float[] got, float[] mag, int len) {
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < len; i++) {
            boolean ok;
            if (Float.isNaN(want[i]) || Float.isNaN(got[i])) {
                ok = Float.isNaN(want[i]) && Float.isNaN(got[i]);
            } else {
                double err = Math.abs((double) want[i] - got[i]);
                double tol = KernelTolerances.sum(Math.abs(mag[i]));
                ok = err <= tol;
                worst = Math.max(worst, err / tol);
            }
            if (!ok) {
                bad++;
                if (first < 0) {
                    first = i;
                }
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + len + " elements differ from the reference; first at " + first
                    + ": want " + want[first] + ", got " + got[first] + ", magnitude " + mag[first]
                    + " (worst err/tol " + worst + ")");
        }
    }

    /**
     * Whether the implementation promises the reference's summation order (the {@link Kernels} contract's
     * "Summation order"), so that every output must equal {@link ScalarKernels}' bit for bit; otherwise
     * sums are compared to {@link KernelTolerances#sum(double)}.
     */
    protected boolean bitExact() {
        return false;
    }

    private void assertMatches(String what, float[] want, float[] got, float[] mag) {
        assertEquals(want.length, got.length, what + ": length");
        assertMatches(what, want, got, mag, want.length);
    }

    private void assertMatches(String what, float[] want, float[] got, float[] mag, int len) {
        if (bitExact()) {
            assertBits(what + " (bit-identical to the reference)", Arrays.copyOf(want, len), Arrays.copyOf(got, len));
        } else {
            assertClose(what, want, got, mag, len);
        }
    }

    /** Bitwise equality (distinguishes -0 from 0; any NaN equals any NaN). */
    protected static void assertBits(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
                fail(what + ": element " + i + " want " + want[i] + " got " + got[i]);
            }
        }
    }

    private static void assertUnchanged(float[] before, float[] after, String name) {
        assertBits("input " + name + " was modified", before, after);
    }

    // ---- PGA attack ----------------------------------------------------------------------------------

    /**
     * The PGA's row operations on odd sizes (3 rows of 37, 7 classes) against the reference: iterates and
     * gradients as the other ops, the statistics through pgaReadStats (exact for bit-exact
     * implementations, else the losses and norms to 1e-4 relative, the classes and flags exactly).
     */
    @Test
    void pgaOps_matchReference_onOddSizes() {
        Kernels k = kernels();
        Random rnd = new Random(91);
        int n = 3, per = 37, c = 7, len = n * per;
        dev.opnorm.nn.data.Domain d = dev.opnorm.nn.data.Domain.SYMMETRIC;
        int[] labels = {6, 0, 3};
        for (double p : new double[] {1, 2, Double.POSITIVE_INFINITY}) {
            for (double alpha : new double[] {0.2, Double.POSITIVE_INFINITY}) {
                float[] x = uniform(rnd, len), off = uniform(rnd, len), g = uniform(rnd, len);
                for (int i = 0; i < len; i++) {
                    off[i] *= 0.05f;
                }
                float[] want = new float[len], got = new float[len], g2 = g.clone();
                REF.pgaStart(want, x, off, d, len);
                k.pgaStart(got, x, off, d, len);
                assertMatches("pgaStart", want, got, abs(x));
                REF.pgaStep(want, g, x, p, alpha, 0.3, d, n, per);
                k.pgaStep(got, g2, x, p, alpha, 0.3, d, n, per);
                assertMatches("pgaStep p=" + p + " alpha=" + alpha, want, got, abs(x));
                float[] ws = new float[n * REF.pgaStatsWidth()], gs = new float[n * k.pgaStatsWidth()];
                REF.pgaNorms(ws, want, x, p, n, per);
                k.pgaNorms(gs, got, x, p, n, per);
                assertStats("pgaNorms p=" + p, REF.pgaReadStats(ws, n), k.pgaReadStats(gs, n));
            }
        }
        float[] z0 = uniform(rnd, n * c), z1 = uniform(rnd, n * c), clean = uniform(rnd, n * c);
        for (double q : new double[] {Double.NaN, 1, 2, Double.POSITIVE_INFINITY}) {
            for (boolean targeted : new boolean[] {false, true}) {
                String what = "loss q=" + q + " targeted=" + targeted;
                float[] want = new float[n * c], got = new float[n * c];
                REF.pgaLossGrad(want, z0, clean, labels, q, targeted, n, c);
                k.pgaLossGrad(got, z0, clean, labels, q, targeted, n, c);
                assertMatches(what + " pgaLossGrad", want, got, abs(z0));
                int[] wr = labels.clone(), gr = labels.clone();
                float[] ws = new float[n * REF.pgaStatsWidth()], gs = new float[n * k.pgaStatsWidth()];
                REF.pgaInitStats(ws, wr, clean, targeted, n, c);
                k.pgaInitStats(gs, gr, clean, targeted, n, c);
                assertArrayEquals(wr, gr, what + " pgaInitStats reference");
                float[] rows = uniform(rnd, n * per), wb = new float[n * per], gb = new float[n * per];
                for (int r = 0; r < 2; r++) {
                    REF.pgaKeepBest(ws, r == 0 ? z0 : z1, clean, wr, q, targeted, r, n, c);
                    k.pgaKeepBest(gs, r == 0 ? z0 : z1, clean, gr, q, targeted, r, n, c);
                    REF.pgaCopyRowsWhereBetter(wb, rows, ws, n, per);
                    k.pgaCopyRowsWhereBetter(gb, rows, gs, n, per);
                    rows = uniform(rnd, n * per);
                }
                assertBits(what + " pgaCopyRowsWhereBetter", wb, gb);
                assertStats(what + " pgaKeepBest", REF.pgaReadStats(ws, n), k.pgaReadStats(gs, n));
            }
        }
    }

    private void assertStats(String what, double[] want, double[] got) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            boolean continuous = i % 7 == 4 || i % 7 == 5; // the loss and the norm
            double tol = bitExact() || !continuous ? 0 : 1e-4 * (1 + Math.abs(want[i]));
            assertEquals(want[i], got[i], tol, what + ": statistic " + i % 7 + " of example " + i / 7);
        }
    }
}
