package dev.opnorm.nn.kernels;

import dev.opnorm.nn.Engine;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast CPU implementation of {@link Kernels}: Java Vector API (jdk.incubator.vector) and a fixed
 * number of threads. Convolutions and dense products are GEMMs over the whole batch with a register tile
 * sized to the CPU's vector registers, k-slices of 256 and cache blocking ({@link Sgemm}); the im2col
 * matrix is never materialized:
 *
 * <ul>
 *   <li>forward: y = W * im2col(x). Stride 1 with output rows a multiple of the lane count: B vectors
 *       are loaded straight from a zero-padded copy of x ({@link DirectConv}); narrower rows (8x8 maps on
 *       16 lanes), from column-shifted copies of it; otherwise im2col is packed panel by panel
 *       ({@link ConvPack});</li>
 *   <li>input VJP: gx = W^T * im2colT(gy), a transposed convolution summed directly per input pixel
 *       (stride 1: a forward conv of padded gy with the flipped kernel, again via {@link DirectConv}
 *       as for the forward conv). Where im2colT would be mostly zeros (stride 2, "valid" padding on small
 *       maps) or too costly to pack for the work it feeds (few input channels), dcol = W^T * gy followed
 *       by a col2im gather per input plane instead ({@code ConvPack.preferCol2im}), with gy read in place
 *       when a sample's grid is a whole number of vectors;</li>
 *   <li>weight VJP: S = gy * im2col(x)^T; with few input channels ({@link #swapWeightGrad}) gy is read in
 *       place and only im2col(x)^T packed; else for stride 1 on rows >= 16 wide (>= 8 with 16 vector
 *       registers) S^T = im2col(x) * gy^T with im2col read from padded x (on 16 registers, for rows up
 *       to 16 wide, from column-shifted copies); then gw += S. Every route sums the batch in the contract's
 *       order.</li>
 * </ul>
 *
 * Elementwise, BatchNorm and pooling ops are simple vector loops (or scalar loops over independent
 * outputs), split over threads by output ranges.
 *
 * <p>Determinism: every output follows the summation order the {@link Kernels} contract fixes, so results
 * are bit-identical to {@link ScalarKernels} for any vector width (0, 128, 256, 512 bits) and any thread
 * count. Threads only split independent outputs; the species and register tile only decide how many
 * outputs one step computes, never the order of any output's terms. {@code -Dopnorm.vectorBits=0} runs
 * the packed algorithms without vectors (see {@link Simd}).
 *
 * <p>Scratch buffers (packing panels, padded copies, dcol) are per thread, grown on demand and reused;
 * calls from several threads at once are safe. Per call only a few small index arrays are allocated.
 */
public final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Elementwise ops split over threads only above this many elements. */
    private static final int PARALLEL_MIN_ELEMENTS = 1 << 16;

    /**
     * Weight VJPs of stride-1 convs with outputs at least this wide (and output channels filling at least
     * half a register tile row) read im2col straight from padded x; narrower rows make the runs too short.
     */
    private static final int DIRECT_WEIGHT_MIN_WIDTH = Simd.REGISTERS >= 32 ? 16 : 8;
    /**
     * Of those, outputs at most this wide read x from column-shifted copies (S times x's size) whose rows
     * are exactly Q wide, so that a sample's pixels are one contiguous run per tap: measured on Zen 3 (16
     * registers) +18% on 8x8 maps and +10-20% on 16x16 with 128-512 channels. 0 on 32 registers (not
     * measured there).
     */
    private static final int SHIFTED_WEIGHT_MAX_WIDTH = Simd.REGISTERS >= 32 ? 0 : 16;
    /** The caller thread's dcol (input VJP via col2im) or gw^T (weight VJP) buffer, grown as needed and reused. */
    private static final ThreadLocal<float[][]> COL_SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private final int threads;

    /** Uses {@link Engine#threads()} threads. */
    public VectorKernels() {
        this(Engine.threads());
    }

    /**
     * @param threads worker threads (>= 1), including the calling thread
     * @throws IllegalArgumentException if threads < 1
     */
    public VectorKernels(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("VectorKernels needs threads >= 1, got " + threads);
        }
        this.threads = threads;
    }

    /** The number of threads this instance splits work over. */
    public int threads() {
        return threads;
    }

    /** Whether the Vector API path is active ({@code -Dopnorm.vectorBits=0} disables it). */
    public static boolean vectorsEnabled() {
        return Simd.ENABLED;
    }

    @Override
    public String name() {
        return Simd.ENABLED ? "vector" : "vector(scalar)";
    }

    // ---- convolution ----------------------------------------------------------------------------------

    @Override
    public void conv2dForward(float[] y, float[] x, float[] w, float[] b, Conv2dDims d) {
        requireLength("y", y, d.outputSize(), d);
        requireLength("x", x, d.inputSize(), d);
        requireLength("w", w, d.weightSize(), d);
        if (b != null) {
            requireLength("b", b, d.k(), d);
        }
        int crs = d.c() * d.r() * d.s(), pq = d.p() * d.q();
        if (d.stride() == 1 && DirectConv.applicable(d.q())) {
            // B read straight from a zero-padded copy of x: lOff[(c, r, s)] = (c*hp + r)*wp + s
            int hp = d.h() + 2 * d.pad(), wp = paddedRowWidth(d.w() + 2 * d.pad());
            int[] lOff = convOffsets(d, hp, wp);
            float[] xp = paddedScratch(x, d.n(), d.c(), d.h(), d.w(), d.pad(), d.pad(), wp, lOff[crs - 1] + L);
            DirectConv.run(d.k(), d.n() * pq, crs, new Sgemm.DenseA(w, 0, crs, false),
                    new DirectConv.PaddedSource(xp, d.c(), hp, wp, d.p(), d.q(), d.n() * d.c() * hp * wp, lOff),
                    new ConvPack.NchwC(y, b, d.k(), pq), threads);
            return;
        }
        if (d.stride() == 1 && DirectConv.applicableShifted(d.p(), d.q())) {
            // rows narrower than a vector: B read from S column-shifted copies of padded x, rows Q wide
            int hp = d.h() + 2 * d.pad();
            int[] lOff = shiftedOffsets(d, hp);
            float[] xs = shiftedScratch(x, d.n(), d.c(), d.h(), d.w(), d.pad(), d.pad(), d.s(), d.q());
            DirectConv.run(d.k(), d.n() * pq, crs, new Sgemm.DenseA(w, 0, crs, false),
                    DirectConv.PaddedSource.lastVectorForPadding(xs, d.c(), hp, d.q(), d.p(), d.q(), d.n(), lOff),
                    new ConvPack.NchwC(y, b, d.k(), pq), threads);
            return;
        }
        Sgemm.run(d.k(), d.n() * pq, crs, new Sgemm.DenseA(w, 0, crs, false), ConvPack.Im2colB.forward(x, d),
                new ConvPack.NchwC(y, b, d.k(), pq), threads);
    }

    @Override
    public void conv2dVjpInput(float[] gx, float[] gy, float[] w, Conv2dDims d) {
        requireLength("gx", gx, d.inputSize(), d);
        requireLength("gy", gy, d.outputSize(), d);
        requireLength("w", w, d.weightSize(), d);
        int hw = d.h() * d.w();
        if (!ConvPack.preferCol2im(d)) {
            int ph = d.r() - 1 - d.pad(), pw = d.s() - 1 - d.pad();
            if (d.stride() == 1 && ph >= 0 && pw >= 0 && DirectConv.applicable(d.w())) {
                // a forward conv of gy padded by (R-1-pad, S-1-pad) with the kernel flipped, channels swapped:
                // B((k, r, s), (n, h, w)) = gyp[n, k, h + R-1-r, w + S-1-s]
                int krs = d.k() * d.r() * d.s(), hp = d.p() + 2 * ph, wp = paddedRowWidth(d.q() + 2 * pw);
                int[] lOff = new int[krs];
                for (int k = 0; k < d.k(); k++) {
                    for (int r = 0; r < d.r(); r++) {
                        for (int s = 0; s < d.s(); s++) {
                            lOff[(k * d.r() + r) * d.s() + s] = (k * hp + d.r() - 1 - r) * wp + d.s() - 1 - s;
                        }
                    }
                }
                float[] gyp = paddedScratch(gy, d.n(), d.k(), d.p(), d.q(), ph, pw, wp, maxOf(lOff) + L);
                DirectConv.run(d.c(), d.n() * hw, krs, new ConvPack.WeightTA(w, d),
                        new DirectConv.PaddedSource(gyp, d.k(), hp, wp, d.h(), d.w(), d.n() * d.k() * hp * wp, lOff),
                        new ConvPack.NchwC(gx, null, d.c(), hw), threads);
                return;
            }
            if (d.stride() == 1 && ph >= 0 && pw >= 0 && DirectConv.applicableShifted(d.h(), d.w())) {
                // as above with rows narrower than a vector: S column-shifted copies of padded gy, rows W wide
                int krs = d.k() * d.r() * d.s(), hp = d.p() + 2 * ph, plane = d.n() * d.k() * hp * d.w();
                int[] lOff = new int[krs];
                for (int k = 0; k < d.k(); k++) {
                    for (int r = 0; r < d.r(); r++) {
                        for (int s = 0; s < d.s(); s++) {
                            lOff[(k * d.r() + r) * d.s() + s] = (d.s() - 1 - s) * plane + (k * hp + d.r() - 1 - r) * d.w();
                        }
                    }
                }
                float[] gys = shiftedScratch(gy, d.n(), d.k(), d.p(), d.q(), ph, pw, d.s(), d.w());
                DirectConv.run(d.c(), d.n() * hw, krs, new ConvPack.WeightTA(w, d),
                        DirectConv.PaddedSource.lastVectorForPadding(gys, d.k(), hp, d.w(), d.h(), d.w(), d.n(), lOff),
                        new ConvPack.NchwC(gx, null, d.c(), hw), threads);
                return;
            }
            Sgemm.run(d.c(), d.n() * hw, d.k() * d.r() * d.s(), new ConvPack.WeightTA(w, d),
                    ConvPack.Im2colB.transposed(gy, d), new ConvPack.NchwC(gx, null, d.c(), hw), threads);
            return;
        }
        // mostly-zero im2colT, or few input channels: dcol = W^T gy, then col2im
        int crs = d.c() * d.r() * d.s(), pq = d.p() * d.q(), npq = d.n() * pq;
        float[] dcol = scratch(COL_SCRATCH, (long) crs * npq);
        if (Simd.ENABLED && pq % L == 0 && d.k() > 0) {
            // B(k, (n, t)) = gy[(n*K + k)*PQ + t] is read in place, no packing (a vector never straddles two
            // samples): gy as a "padded source" of one row PQ wide per channel, lOff[k] = k*PQ
            int[] lOff = new int[d.k()];
            for (int k = 0; k < d.k(); k++) {
                lOff[k] = k * pq;
            }
            DirectConv.run(crs, npq, d.k(), new Sgemm.DenseA(w, 0, crs, true),
                    DirectConv.PaddedSource.lastVectorForPadding(gy, d.k(), 1, pq, 1, pq, d.n(), lOff),
                    new Sgemm.DenseC(dcol, 0, npq, 1f, 0f), threads);
        } else {
            Sgemm.run(crs, npq, d.k(), new Sgemm.DenseA(w, 0, crs, true), new ConvPack.NchwB(gy, d.k(), pq),
                    new Sgemm.DenseC(dcol, 0, npq, 1f, 0f), threads);
        }
        forRange(d.n() * d.c(), (long) crs / d.c() * pq, (u0, u1) -> ConvPack.col2im(gx, dcol, d, u0, u1));
    }

    @Override
    public void conv2dVjpWeight(float[] gw, float[] gy, float[] x, Conv2dDims d) {
        requireLength("gw", gw, d.weightSize(), d);
        requireLength("gy", gy, d.outputSize(), d);
        requireLength("x", x, d.inputSize(), d);
        int crs = d.c() * d.r() * d.s(), kk = d.k();
        // both routes compute S = the k-sliced sum over (n, p, q) into scratch, then gw += S (the contract's order)
        if (Simd.ENABLED && swapWeightGrad(crs, kk)) {
            // few input channels: S = gy * im2col(x)^T with gy read in place (one row PQ wide per channel,
            // lOff[k] = k*PQ) and im2col(x)^T packed (C*R*S*N*P*Q elements, fewer than gy's K*N*P*Q)
            int pq = d.p() * d.q();
            int[] lOff = new int[kk];
            for (int k = 0; k < kk; k++) {
                lOff[k] = k * pq;
            }
            float[] sum = scratch(COL_SCRATCH, (long) crs * kk);
            DirectConv.weightGrad(sum, lOff, new DirectConv.PaddedSource(gy, kk, 1, pq, 1, pq, 0, lOff),
                    new ConvPack.Im2colTB(x, d), crs, d.n() * pq, threads);
            forElements(kk * crs, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    gw[i] += sum[i];
                }
            });
            return;
        }
        if (d.stride() == 1 && Simd.ENABLED && d.q() >= DIRECT_WEIGHT_MIN_WIDTH && 2 * kk >= Sgemm.NR) {
            // S^T = im2col(x) * gy^T with im2col read from padded x (only gy^T is packed)
            int hp = d.h() + 2 * d.pad(), pq = d.p() * d.q();
            float[] gwT = scratch(COL_SCRATCH, (long) crs * kk);
            DirectConv.PaddedSource source;
            if (d.q() <= SHIFTED_WEIGHT_MAX_WIDTH) {
                // from S column-shifted copies of padded x with rows Q wide: a sample's P*Q pixels are one run
                // for every tap (not P runs of Q), the same values in the same order
                float[] xs = shiftedScratch(x, d.n(), d.c(), d.h(), d.w(), d.pad(), d.pad(), d.s(), d.q());
                int[] lOff = shiftedOffsets(d, hp);
                source = new DirectConv.PaddedSource(xs, d.c(), hp, d.q(), 1, pq, 0, lOff);
            } else {
                int wp = d.w() + 2 * d.pad();
                float[] xp = paddedScratch(x, d.n(), d.c(), d.h(), d.w(), d.pad(), d.pad(), wp, 0);
                source = new DirectConv.PaddedSource(xp, d.c(), hp, wp, d.p(), d.q(), 0, convOffsets(d, hp, wp));
            }
            DirectConv.weightGrad(gwT, source.lOff, source, new ConvPack.NchwTB(gy, kk, pq), kk, d.n() * pq, threads);
            forRange(kk, crs, (k0, k1) -> {
                for (int k = k0; k < k1; k++) {
                    for (int i = 0; i < crs; i++) {
                        gw[k * crs + i] += gwT[i * kk + k];
                    }
                }
            });
            return;
        }
        float[] sum = scratch(COL_SCRATCH, (long) crs * kk);
        Sgemm.run(kk, crs, d.n() * d.p() * d.q(), new ConvPack.CotangentA(gy, d), new ConvPack.Im2colTB(x, d),
                new Sgemm.DenseC(sum, 0, crs, 1f, 0f), threads);
        forElements(kk * crs, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                gw[i] += sum[i];
            }
        });
    }

    /**
     * Whether the weight VJP runs as gy * im2col(x)^T with gy in place ({@link DirectConv#weightGrad}): when
     * C*R*S < K that packs fewer elements than either other route, taken only where the padded register
     * tiles (K rows in {@link DirectConv#WR}, C*R*S columns in NR) do at most 1/8 more multiply-adds than
     * the im2col(x) * gy^T tiles (measured on Zen 3: 3->128 channels, 1.3x faster; with 64-column tiles the
     * 27 columns of a 3-channel 3x3 conv would waste too much).
     */
    static boolean swapWeightGrad(int crs, int k) {
        long swapped = (long) Sgemm.ceilDiv(k, DirectConv.WR) * DirectConv.WR * Sgemm.ceilDiv(crs, Sgemm.NR) * Sgemm.NR;
        long direct = (long) Sgemm.ceilDiv(crs, DirectConv.WR) * DirectConv.WR * Sgemm.ceilDiv(k, Sgemm.NR) * Sgemm.NR;
        return crs < k && 8 * swapped <= 9 * direct;
    }

    /**
     * The row width of a padded copy for {@link DirectConv} whose rows need wp floats: on 16 registers, rows
     * narrower than two vectors (8x8 maps on 8 lanes: 10 floats) are widened to two vectors (zeros past the
     * right pad), so that a vector load never leaves its row's 64 bytes and rows share no cache line:
     * measured +2-6% on 8x8 maps with 256-512 channels, forward and input VJP, on Zen 3. 32 registers:
     * unchanged (not measured there).
     */
    static int paddedRowWidth(int wp) {
        return Simd.REGISTERS < 32 && wp < 2 * L ? 2 * L : wp;
    }

    /** lOff[(c, r, s)] = (c*hp + r)*wp + s: the offset of tap (c, r, s) in a padded (c, hp, wp) sample. */
    static int[] convOffsets(Conv2dDims d, int hp, int wp) {
        int[] lOff = new int[d.c() * d.r() * d.s()];
        for (int c = 0; c < d.c(); c++) {
            for (int r = 0; r < d.r(); r++) {
                for (int s = 0; s < d.s(); s++) {
                    lOff[(c * d.r() + r) * d.s() + s] = (c * hp + r) * wp + s;
                }
            }
        }
        return lOff;
    }

    /**
     * lOff[(c, r, s)] = s*plane + (c*hp + r)*Q: the offset of tap (c, r, s) in {@link DirectConv#shiftedSize
     * shifted} copies of x padded to hp rows, plane = N*C*hp*Q floats per copy.
     */
    static int[] shiftedOffsets(Conv2dDims d, int hp) {
        int plane = d.n() * d.c() * hp * d.q();
        int[] lOff = new int[d.c() * d.r() * d.s()];
        for (int c = 0; c < d.c(); c++) {
            for (int r = 0; r < d.r(); r++) {
                for (int s = 0; s < d.s(); s++) {
                    lOff[(c * d.r() + r) * d.s() + s] = s * plane + (c * hp + r) * d.q();
                }
            }
        }
        return lOff;
    }

    @Override
    public void conv2dVjpBias(float[] gb, float[] gy, Conv2dDims d) {
        requireLength("gb", gb, d.k(), d);
        requireLength("gy", gy, d.outputSize(), d);
        int pq = d.p() * d.q(), kk = d.k(), n = d.n();
        forRange(kk, (long) n * pq, (k0, k1) -> {
            for (int k = k0; k < k1; k++) {
                float acc = 0f;
                for (int b = 0; b < n; b++) {
                    acc += sum(gy, (b * kk + k) * pq, pq);
                }
                gb[k] += acc;
            }
        });
    }

    // ---- dense -----------------------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm dims must be >= 0, got m=" + m + " n=" + n + " k=" + k);
        }
        if (ldc < n || lda < (transA ? m : k) || ldb < (transB ? k : n)) {
            throw new IllegalArgumentException("gemm leading dimension too small: lda=" + lda + " ldb=" + ldb
                    + " ldc=" + ldc + " for m=" + m + " n=" + n + " k=" + k + " transA=" + transA + " transB=" + transB);
        }
        Sgemm.run(m, n, k, new Sgemm.DenseA(a, aOff, lda, transA), new Sgemm.DenseB(b, bOff, ldb, transB),
                new Sgemm.DenseC(c, cOff, ldc, alpha, beta), threads);
    }

    // ---- elementwise -----------------------------------------------------------------------------------

    @Override
    public void relu(float[] y, float[] x, int len) {
        forElements(len, (i0, i1) -> {
            int i = i0;
            if (Simd.ENABLED) {
                FloatVector zero = FloatVector.zero(F);
                for (int bound = i0 + F.loopBound(i1 - i0); i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(F, x, i);
                    // blend, not max: keeps ReLU(-0) = +0 and ReLU(NaN) = 0, as the predicate x > 0 says
                    zero.blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(y, i);
                }
            }
            for (; i < i1; i++) {
                y[i] = x[i] > 0f ? x[i] : 0f;
            }
        });
    }

    @Override
    public void reluMask(float[] out, float[] in, float[] x, int len) {
        forElements(len, (i0, i1) -> {
            int i = i0;
            if (Simd.ENABLED) {
                FloatVector zero = FloatVector.zero(F);
                for (int bound = i0 + F.loopBound(i1 - i0); i < bound; i += L) {
                    VectorMask<Float> on = FloatVector.fromArray(F, x, i).compare(VectorOperators.GT, 0f);
                    zero.blend(FloatVector.fromArray(F, in, i), on).intoArray(out, i);
                }
            }
            for (; i < i1; i++) {
                out[i] = x[i] > 0f ? in[i] : 0f;
            }
        });
    }

    @Override
    public void axpy(float[] y, float a, float[] x, int len) {
        forElements(len, (i0, i1) -> {
            int i = i0;
            if (Simd.ENABLED) {
                for (int bound = i0 + F.loopBound(i1 - i0); i < bound; i += L) {
                    // mul then add, not fma: identical rounding to the scalar tail below
                    FloatVector.fromArray(F, x, i).mul(a).add(FloatVector.fromArray(F, y, i)).intoArray(y, i);
                }
            }
            for (; i < i1; i++) {
                y[i] += a * x[i];
            }
        });
    }

    @Override
    public void add(float[] y, float[] a, float[] b, int len) {
        forElements(len, (i0, i1) -> {
            int i = i0;
            if (Simd.ENABLED) {
                for (int bound = i0 + F.loopBound(i1 - i0); i < bound; i += L) {
                    FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(y, i);
                }
            }
            for (; i < i1; i++) {
                y[i] = a[i] + b[i];
            }
        });
    }

    @Override
    public void scale(float[] y, float alpha, float[] x, int len) {
        forElements(len, (i0, i1) -> {
            int i = i0;
            if (Simd.ENABLED) {
                for (int bound = i0 + F.loopBound(i1 - i0); i < bound; i += L) {
                    FloatVector.fromArray(F, x, i).mul(alpha).intoArray(y, i);
                }
            }
            for (; i < i1; i++) {
                y[i] = alpha * x[i];
            }
        });
    }

    @Override
    public void addRowBias(float[] c, float[] bias, int m, int n) {
        forRange(m, n, (r0, r1) -> {
            for (int i = r0; i < r1; i++) {
                int row = i * n, j = 0;
                if (Simd.ENABLED) {
                    for (int bound = F.loopBound(n); j < bound; j += L) {
                        FloatVector.fromArray(F, c, row + j).add(FloatVector.fromArray(F, bias, j)).intoArray(c, row + j);
                    }
                }
                for (; j < n; j++) {
                    c[row + j] += bias[j];
                }
            }
        });
    }

    @Override
    public void sumRowsAccumulate(float[] gb, float[] g, int m, int n) {
        // split over columns; each column sums its rows in ascending order (one lane per column)
        int units = Sgemm.ceilDiv(n, L);
        forRange(units, (long) m * L, (u0, u1) -> {
            int j0 = u0 * L, j1 = Math.min(n, u1 * L), j = j0;
            if (Simd.ENABLED) {
                for (; j + L <= j1; j += L) {
                    FloatVector acc = FloatVector.zero(F);
                    for (int i = 0; i < m; i++) {
                        acc = acc.add(FloatVector.fromArray(F, g, i * n + j));
                    }
                    acc.add(FloatVector.fromArray(F, gb, j)).intoArray(gb, j);
                }
            }
            for (; j < j1; j++) {
                float acc = 0f;
                for (int i = 0; i < m; i++) {
                    acc += g[i * n + j];
                }
                gb[j] += acc;
            }
        });
    }

    // ---- per-channel (BatchNorm) ----------------------------------------------------------------------

    @Override
    public void channelMeanVar(float[] mean, float[] var, float[] x, int n, int c, int hw) {
        double count = (double) n * hw;
        forRange(c, (long) n * hw, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                double s = 0;
                for (int b = 0; b < n; b++) {
                    s += sumDouble(x, (b * c + ch) * hw, hw);
                }
                double mu = s / count, ss = 0;
                for (int b = 0; b < n; b++) {
                    ss += squaredDeviationsDouble(x, (b * c + ch) * hw, hw, mu);
                }
                mean[ch] = (float) mu;
                var[ch] = (float) (ss / count);
            }
        });
    }

    @Override
    public void channelAffine(float[] y, float[] x, float[] scale, float[] shift, int n, int c, int hw) {
        forRange(n * c, hw, (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int ch = u % c, o = u * hw, i = 0;
                float sc = scale[ch], sh = shift == null ? 0f : shift[ch];
                if (Simd.ENABLED) {
                    for (int bound = F.loopBound(hw); i < bound; i += L) {
                        FloatVector.fromArray(F, x, o + i).mul(sc).add(sh).intoArray(y, o + i);
                    }
                }
                for (; i < hw; i++) {
                    y[o + i] = x[o + i] * sc + sh;
                }
            }
        });
    }

    @Override
    public void bnTrainJacobian(float[] out, float[] in, float[] xhat, float[] coef, int n, int c, int hw) {
        double count = (double) n * hw;
        forRange(c, (long) n * hw, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                double s1 = 0, s2 = 0;
                for (int b = 0; b < n; b++) {
                    int o = (b * c + ch) * hw;
                    s1 += sumDouble(in, o, hw);
                    s2 += dotDouble(in, xhat, o, hw);
                }
                float m1 = (float) (s1 / count), m2 = (float) (s2 / count), k = coef[ch];
                for (int b = 0; b < n; b++) {
                    int o = (b * c + ch) * hw, i = 0;
                    if (Simd.ENABLED) {
                        for (int bound = F.loopBound(hw); i < bound; i += L) {
                            FloatVector v = FloatVector.fromArray(F, in, o + i).sub(m1)
                                    .sub(FloatVector.fromArray(F, xhat, o + i).mul(m2));
                            v.mul(k).intoArray(out, o + i);
                        }
                    }
                    for (; i < hw; i++) {
                        out[o + i] = k * (in[o + i] - m1 - xhat[o + i] * m2);
                    }
                }
            }
        });
    }

    @Override
    public void channelSumsAccumulate(float[] sumA, float[] sumAB, float[] a, float[] b, int n, int c, int hw) {
        forRange(c, (long) n * hw, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                double s1 = 0, s2 = 0;
                for (int bi = 0; bi < n; bi++) {
                    int o = (bi * c + ch) * hw;
                    s1 += sumDouble(a, o, hw);
                    if (b != null) {
                        s2 += dotDouble(a, b, o, hw);
                    }
                }
                sumA[ch] += (float) s1;
                if (b != null) {
                    sumAB[ch] += (float) s2;
                }
            }
        });
    }

    // ---- pooling (scalar loops over independent planes) -------------------------------------------------

    @Override
    public void maxPool2dForward(float[] y, int[] argmax, float[] x, PoolDims d) {
        int P = d.p(), Q = d.q(), H = d.h(), W = d.w();
        if (d.kh() == 2 && d.kw() == 2 && d.stride() == 2 && d.pad() == 0) {
            // the CNN's pool: every window lies inside the plane, so no bounds tests; same candidate order
            forRange(d.n() * d.c(), (long) P * Q * 4, (u0, u1) -> {
                for (int u = u0; u < u1; u++) {
                    for (int p = 0; p < P; p++) {
                        int row = u * H * W + 2 * p * W, o = (u * P + p) * Q;
                        for (int q = 0; q < Q; q++) {
                            int i = row + 2 * q, bi = i;
                            float best = x[i];
                            bi = maxCandidate(x, best, bi, i + 1);
                            best = x[bi];
                            bi = maxCandidate(x, best, bi, i + W);
                            best = x[bi];
                            bi = maxCandidate(x, best, bi, i + W + 1);
                            y[o + q] = x[bi];
                            argmax[o + q] = bi;
                        }
                    }
                }
            });
            return;
        }
        forRange(d.n() * d.c(), (long) P * Q * d.kh() * d.kw(), (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int plane = u * H * W;
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        float best = Float.NEGATIVE_INFINITY;
                        int bestIdx = -1;
                        for (int r = 0; r < d.kh(); r++) {
                            int ih = p * d.stride() - d.pad() + r;
                            if (ih < 0 || ih >= H) {
                                continue;
                            }
                            for (int s = 0; s < d.kw(); s++) {
                                int iw = q * d.stride() - d.pad() + s;
                                if (iw < 0 || iw >= W) {
                                    continue;
                                }
                                int idx = plane + ih * W + iw;
                                // first strict maximum wins; the first NaN wins and stays (as the reference)
                                if (bestIdx < 0 || (!Float.isNaN(best) && (x[idx] > best || Float.isNaN(x[idx])))) {
                                    best = x[idx];
                                    bestIdx = idx;
                                }
                            }
                        }
                        int o = (u * P + p) * Q + q;
                        y[o] = best;
                        argmax[o] = bestIdx;
                    }
                }
            }
        });
    }

    /** The max-pool rule of the reference: the first strict maximum wins; the first NaN wins and stays. */
    private static int maxCandidate(float[] x, float best, int bestIdx, int idx) {
        float v = x[idx];
        return !Float.isNaN(best) && (v > best || Float.isNaN(v)) ? idx : bestIdx;
    }

    @Override
    public void maxPool2dJvp(float[] dy, float[] dx, int[] argmax, PoolDims d) {
        forElements(d.outputSize(), (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                dy[o] = dx[argmax[o]];
            }
        });
    }

    @Override
    public void maxPool2dVjp(float[] gx, float[] gy, int[] argmax, PoolDims d) {
        // argmax[o] lies in o's own input plane, so planes are independent: split over planes
        int pq = d.p() * d.q(), hw = d.h() * d.w();
        forRange(d.n() * d.c(), pq + hw, (u0, u1) -> {
            java.util.Arrays.fill(gx, u0 * hw, u1 * hw, 0f);
            for (int o = u0 * pq; o < u1 * pq; o++) {
                gx[argmax[o]] += gy[o];
            }
        });
    }

    @Override
    public void avgPool2dForward(float[] y, float[] x, PoolDims d) {
        int P = d.p(), Q = d.q(), H = d.h(), W = d.w();
        float inv = 1f / (d.kh() * d.kw());
        forRange(d.n() * d.c(), (long) P * Q * d.kh() * d.kw(), (u0, u1) -> {
            for (int u = u0; u < u1; u++) {
                int plane = u * H * W;
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        float acc = 0f;
                        for (int r = 0; r < d.kh(); r++) {
                            int ih = p * d.stride() - d.pad() + r;
                            if (ih < 0 || ih >= H) {
                                continue;
                            }
                            for (int s = 0; s < d.kw(); s++) {
                                int iw = q * d.stride() - d.pad() + s;
                                if (iw >= 0 && iw < W) {
                                    acc += x[plane + ih * W + iw];
                                }
                            }
                        }
                        y[(u * P + p) * Q + q] = acc * inv;
                    }
                }
            }
        });
    }

    @Override
    public void avgPool2dVjp(float[] gx, float[] gy, PoolDims d) {
        int P = d.p(), Q = d.q(), H = d.h(), W = d.w();
        float inv = 1f / (d.kh() * d.kw());
        forRange(d.n() * d.c(), (long) P * Q * d.kh() * d.kw(), (u0, u1) -> {
            java.util.Arrays.fill(gx, u0 * H * W, u1 * H * W, 0f);
            for (int u = u0; u < u1; u++) {
                int plane = u * H * W;
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        float g = gy[(u * P + p) * Q + q] * inv;
                        for (int r = 0; r < d.kh(); r++) {
                            int ih = p * d.stride() - d.pad() + r;
                            if (ih < 0 || ih >= H) {
                                continue;
                            }
                            for (int s = 0; s < d.kw(); s++) {
                                int iw = q * d.stride() - d.pad() + s;
                                if (iw >= 0 && iw < W) {
                                    gx[plane + ih * W + iw] += g;
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    @FunctionalInterface
    private interface RangeBody {
        void run(int from, int to);
    }

    /** Splits [0, units) into contiguous chunks, one per task; small jobs run on the caller only. */
    private void forRange(int units, long workPerUnit, RangeBody body) {
        if (units <= 0) {
            return;
        }
        int tasks = plannedTasks(units, workPerUnit);
        Parallel.run(tasks, t -> body.run(Parallel.chunkStart(units, tasks, t), Parallel.chunkStart(units, tasks, t + 1)));
    }

    /** How many tasks {@link #forRange} uses for {@code units} units of {@code workPerUnit} (visible for tests). */
    int plannedTasks(int units, long workPerUnit) {
        long work = units * Math.max(1L, workPerUnit);
        return (int) Math.max(1L, Math.min(Math.min(threads, units), work / PARALLEL_MIN_ELEMENTS));
    }

    /** Elementwise split; chunk boundaries fall on whole vectors so the tails are the same for any split. */
    private void forElements(int len, RangeBody body) {
        int units = Sgemm.ceilDiv(len, L);
        forRange(units, L, (u0, u1) -> body.run(u0 * L, Math.min(len, u1 * L)));
    }

    /** The caller thread's padded-source buffer for {@link DirectConv}, grown as needed and reused. */
    private static final ThreadLocal<float[][]> PAD_SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private float[] paddedScratch(float[] x, int n, int c, int h, int w, int padH, int padW, int wp, int tail) {
        int hp = h + 2 * padH;
        int size = (int) DirectConv.paddedSize(n, c, h, padH, wp, tail);
        float[] dst = grownScratch(size);
        // a pure copy, split over planes: no arithmetic, so any split gives the same buffer
        forRange(n * c, (long) hp * wp, (u0, u1) -> DirectConv.padPlanes(dst, x, h, w, padH, padW, wp, u0, u1));
        java.util.Arrays.fill(dst, size - tail, size, 0f);
        return dst;
    }

    private float[] shiftedScratch(float[] x, int n, int c, int h, int w, int padH, int padW, int shifts, int outW) {
        int size = (int) DirectConv.shiftedSize(n, c, h, padH, shifts, outW, 0);
        float[] dst = grownScratch(size);
        forRange(n * c, (long) shifts * (h + 2 * padH) * outW,
                (u0, u1) -> DirectConv.shiftedPlanes(dst, x, n * c, h, w, padH, padW, shifts, outW, u0, u1));
        return dst;
    }

    /** The caller thread's {@link #PAD_SCRATCH} buffer, at least {@code size} floats. */
    private static float[] grownScratch(int size) {
        float[][] holder = PAD_SCRATCH.get();
        if (holder[0].length < size) {
            holder[0] = new float[size];
        }
        return holder[0];
    }

    private static int maxOf(int[] a) {
        int m = Integer.MIN_VALUE;
        for (int v : a) {
            m = Math.max(m, v);
        }
        return m;
    }

    private static float[] scratch(ThreadLocal<float[][]> holder, long size) {
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("conv2d scratch of " + size + " floats exceeds an array");
        }
        float[][] h = holder.get();
        if (h[0].length < size) {
            h[0] = new float[(int) size];
        }
        return h[0];
    }

    // ---- reductions in the contract's order (see Kernels): a fixed number of partial sums, whatever the
    // lane count, so the vector width never changes a bit. Partial j takes the elements i == j mod P of the
    // whole blocks of P elements, in ascending i; the partials are combined in a fixed tree, then the tail
    // (len mod P elements) is added in order. Widths without a vector form here run the scalar twin.

    /** Partial sums of float reductions. */
    static final int FLOAT_PARTIALS = 16;
    /** Partial sums of double reductions. */
    static final int DOUBLE_PARTIALS = 8;

    /** Sum of a[off .. off+len) in float, 16 partials. */
    static float sum(float[] a, int off, int len) {
        int blocks = len / FLOAT_PARTIALS * FLOAT_PARTIALS, i = 0;
        float[] p = new float[FLOAT_PARTIALS];
        if (Simd.ENABLED && L >= 4 && L <= FLOAT_PARTIALS) {
            // FLOAT_PARTIALS / L vectors hold the partials, vector v lanes = partials v*L .. v*L + L-1
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (; i < blocks; i += FLOAT_PARTIALS) {
                s0 = s0.add(FloatVector.fromArray(F, a, off + i));
                if (L <= 8) {
                    s1 = s1.add(FloatVector.fromArray(F, a, off + i + L));
                }
                if (L == 4) {
                    s2 = s2.add(FloatVector.fromArray(F, a, off + i + 2 * L));
                    s3 = s3.add(FloatVector.fromArray(F, a, off + i + 3 * L));
                }
            }
            s0.intoArray(p, 0);
            if (L <= 8) {
                s1.intoArray(p, L);
            }
            if (L == 4) {
                s2.intoArray(p, 2 * L);
                s3.intoArray(p, 3 * L);
            }
        } else {
            for (; i < blocks; i += FLOAT_PARTIALS) {
                for (int j = 0; j < FLOAT_PARTIALS; j++) {
                    p[j] += a[off + i + j];
                }
            }
        }
        for (int half = FLOAT_PARTIALS / 2; half >= 1; half /= 2) {
            for (int j = 0; j < half; j++) {
                p[j] += p[j + half];
            }
        }
        float t = p[0];
        for (; i < len; i++) {
            t += a[off + i];
        }
        return t;
    }

    /** Double lanes of the float species' shape (half as many as float lanes), or null when vectors are off. */
    private static final VectorSpecies<Double> D = Simd.ENABLED ? VectorSpecies.of(double.class, F.vectorShape()) : null;

    /** Which double reduction {@link #reduceDouble} takes. */
    private static final int SUM = 0, DOT = 1, SQUARED_DEVIATIONS = 2;

    /** sum of a[off .. off+len) in double, 8 partials. */
    static double sumDouble(float[] a, int off, int len) {
        return reduceDouble(SUM, a, null, off, len, 0);
    }

    /** sum of a[off + i] * b[off + i] over [0, len) in double (exact products), 8 partials. */
    static double dotDouble(float[] a, float[] b, int off, int len) {
        return reduceDouble(DOT, a, b, off, len, 0);
    }

    /** sum of (a[off + i] - mu)^2 over [0, len) in double, each term fused into its partial, 8 partials. */
    static double squaredDeviationsDouble(float[] a, int off, int len, double mu) {
        return reduceDouble(SQUARED_DEVIATIONS, a, null, off, len, mu);
    }

    private static double reduceDouble(int op, float[] a, float[] b, int off, int len, double mu) {
        int blocks = len / DOUBLE_PARTIALS * DOUBLE_PARTIALS, i = 0;
        double[] p = new double[DOUBLE_PARTIALS];
        if (Simd.ENABLED && (L == 8 || L == 16)) {
            // L == 8: two double vectors of 4 (partials 0-3 and 4-7); L == 16: one of 8, fed twice per float vector
            DoubleVector s0 = DoubleVector.zero(D), s1 = s0, m = DoubleVector.broadcast(D, mu);
            for (; i + L <= blocks; i += L) {
                FloatVector va = FloatVector.fromArray(F, a, off + i);
                DoubleVector a0 = (DoubleVector) va.convert(VectorOperators.F2D, 0);
                DoubleVector a1 = (DoubleVector) va.convert(VectorOperators.F2D, 1);
                DoubleVector t0, t1;
                if (op == SUM) {
                    t0 = a0;
                    t1 = a1;
                } else if (op == DOT) {
                    FloatVector vb = FloatVector.fromArray(F, b, off + i);
                    t0 = a0.mul((DoubleVector) vb.convert(VectorOperators.F2D, 0));
                    t1 = a1.mul((DoubleVector) vb.convert(VectorOperators.F2D, 1));
                } else {
                    DoubleVector d0 = a0.sub(m), d1 = a1.sub(m);
                    if (L == 8) {
                        s0 = d0.fma(d0, s0);
                        s1 = d1.fma(d1, s1);
                    } else {
                        s0 = d1.fma(d1, d0.fma(d0, s0));
                    }
                    continue;
                }
                // float*float products are exact in double, so mul then add equals the scalar fma
                if (L == 8) {
                    s0 = s0.add(t0);
                    s1 = s1.add(t1);
                } else {
                    s0 = s0.add(t0).add(t1);
                }
            }
            s0.intoArray(p, 0);
            if (L == 8) {
                s1.intoArray(p, 4);
            }
        }
        for (; i < blocks; i += DOUBLE_PARTIALS) {
            for (int j = 0; j < DOUBLE_PARTIALS; j++) {
                p[j] = Math.fma(term(op, a, b, off + i + j, mu), termFactor(op, a, b, off + i + j, mu), p[j]);
            }
        }
        for (int half = DOUBLE_PARTIALS / 2; half >= 1; half /= 2) {
            for (int j = 0; j < half; j++) {
                p[j] += p[j + half];
            }
        }
        double t = p[0];
        for (; i < len; i++) {
            t = Math.fma(term(op, a, b, off + i, mu), termFactor(op, a, b, off + i, mu), t);
        }
        return t;
    }

    /** The scalar terms as fma(term, factor, partial): x * 1, a * b, (x - mu) * (x - mu). */
    private static double term(int op, float[] a, float[] b, int i, double mu) {
        return op == SQUARED_DEVIATIONS ? a[i] - mu : a[i];
    }

    private static double termFactor(int op, float[] a, float[] b, int i, double mu) {
        return op == SUM ? 1.0 : op == DOT ? b[i] : a[i] - mu;
    }

    private static void requireLength(String name, float[] a, int need, Conv2dDims d) {
        if (a == null || a.length < need) {
            throw new IllegalArgumentException("conv2d " + name + " has length " + (a == null ? "null" : a.length)
                    + ", needs " + need + " for " + d);
        }
    }
}
