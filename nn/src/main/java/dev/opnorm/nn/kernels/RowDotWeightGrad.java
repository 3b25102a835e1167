package dev.opnorm.nn.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The stride-1 weight VJP {@code gw[k, (c,r,s)] += sum over (n,p,q) of gy[n,k,p,q] * xp[n,c,p+r,q+s]}
 * computed as dot products along the output rows: the lanes run over q, so both operands are read as
 * contiguous vectors (gy's output row, and the shifted input row of a zero-padded x); gy is only
 * copied block by block into an interleaved buffer (see kTile for why). A register tile holds {@link #KT} output channels x {@link #CT} taps (c,r,s) as KT*CT vector
 * accumulators; the lanes are added in lane order once, at the end.
 *
 * <p>Why this exists: a GEMM formulation of the weight VJP reduces over n*p*q. When the other two
 * dimensions are small - the first layer has C*R*S = 27 - a GEMM spends its time packing the long
 * reduction operand (a transpose of gy) and each packed element feeds only a few multiply-adds. Here
 * every loaded gy vector feeds CT FMAs and every x vector KT, and the copy of gy is a straight vector
 * copy. Layer 1 of the 7-layer CNN (3 -> 128 @32x32): 0.39x PyTorch's speed before, about 1x after.
 *
 * <p>Summation order (fixed, so results do not depend on the thread count): for each output element,
 * lane j accumulates the products with q = j mod L in (n, p, q) order (blocks of output rows are
 * visited in order, so the blocking does not change the order); at the end lane 0 + lane 1 + ... in order, then added to gw. Threads own whole
 * groups of KT output channels.
 */
final class RowDotWeightGrad {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;
    /** Output channels per register tile. */
    static final int KT = 8;
    /** Taps (c, r, s) per register tile. */
    static final int CT = 3;
    /** Floats of gy (KT rows) kept hot while every tap tile passes over them: about half of L1. */
    private static final int GY_BLOCK_FLOATS = 4096;

    private static final ThreadLocal<float[][]> ACC = ThreadLocal.withInitial(() -> new float[2][0]);
    private static final ThreadLocal<float[][]> XP = ThreadLocal.withInitial(() -> new float[1][0]);

    private RowDotWeightGrad() {
    }

    /**
     * Whether this kernel is the faster route: stride 1, vectors on, output rows at least half a vector
     * wide, and few taps (a reduction-dominated shape; with many taps the packed GEMM reuses more).
     */
    static boolean preferred(Conv2dDims d) {
        int taps = d.c() * d.r() * d.s();
        return Simd.ENABLED && d.stride() == 1 && 2 * d.q() >= L && taps <= 64;
    }

    /** gw += the weight VJP of a stride-1 conv (gw (K,C,R,S), gy (N,K,P,Q), x (N,C,H,W)). */
    static void run(float[] gw, float[] gy, float[] x, Conv2dDims d, int threads) {
        // x zero-padded, rows widened so that every output row is a whole number of vectors: the
        // lanes past Q read zeros (and meet zeros in the packed gy), so no load needs a mask
        int qv = Sgemm.ceilDiv(d.q(), L);
        int hp = d.h() + 2 * d.pad(), wp = Math.max(d.w() + 2 * d.pad(), qv * L + d.s() - 1);
        float[][] holder = XP.get();
        holder[0] = DirectConv.pad(holder[0], x, d.n(), d.c(), d.h(), d.w(), d.pad(), d.pad(), wp, 0);
        float[] xp = holder[0];
        int[] lOff = VectorKernels.convOffsets(d, hp, wp);
        int taps = lOff.length;
        int kk = d.k();
        int kTiles = Sgemm.ceilDiv(kk, KT);
        long work = 2L * kk * taps * d.n() * d.p() * d.q();
        int tasks = (int) Math.max(1, Math.min(Math.min(threads, kTiles), work / (1 << 20)));
        Parallel.run(tasks, t -> {
            int t0 = Parallel.chunkStart(kTiles, tasks, t), t1 = Parallel.chunkStart(kTiles, tasks, t + 1);
            for (int kt = t0; kt < t1; kt++) {
                kTile(gw, gy, xp, lOff, hp, wp, d, kt * KT);
            }
        });
    }

    private static void kTile(float[] gw, float[] gy, float[] xp, int[] lOff, int hp, int wp, Conv2dDims d, int k0) {
        int kk = d.k(), taps = lOff.length, pp = d.p(), qq = d.q(), pq = pp * qq, qv = Sgemm.ceilDiv(qq, L);
        int tTiles = Sgemm.ceilDiv(taps, CT);
        int accLen = tTiles * KT * CT * L;
        int pb = Math.max(1, Math.min(pp, GY_BLOCK_FLOATS / (KT * qv * L)));
        int gLen = pb * qv * KT * L;
        float[][] holder = ACC.get();
        if (holder[0].length < accLen) {
            holder[0] = new float[accLen];
        }
        if (holder[1].length < gLen) {
            holder[1] = new float[gLen];
        }
        float[] acc = holder[0], g = holder[1];
        java.util.Arrays.fill(acc, 0, accLen, 0f);
        int live = Math.min(KT, kk - k0);
        int xPlane = d.c() * hp * wp;
        for (int n = 0; n < d.n(); n++) {
            int gyN = n * kk * pq, xN = n * xPlane;
            for (int p0 = 0; p0 < pp; p0 += pb) {
                int p1 = Math.min(pp, p0 + pb);
                // gy rows of the KT channels interleaved per vector: g[((p-p0)*qv + v)*KT + i][lane], zeros
                // past Q and for channels past K. Rows of different channels lie P*Q floats apart, which
                // for power-of-two maps puts all KT streams in one L1 set; the copy is read CT-times less
                // often than it is used.
                for (int i = 0; i < KT; i++) {
                    if (i >= live) {
                        for (int e = 0; e < (p1 - p0) * qv; e++) {
                            FloatVector.zero(F).intoArray(g, (e * KT + i) * L);
                        }
                        continue;
                    }
                    int src = gyN + (k0 + i) * pq;
                    for (int p = p0; p < p1; p++) {
                        for (int v = 0; v < qv; v++) {
                            int q0 = v * L, dst = (((p - p0) * qv + v) * KT + i) * L;
                            if (q0 + L <= qq) {
                                FloatVector.fromArray(F, gy, src + p * qq + q0).intoArray(g, dst);
                            } else {
                                FloatVector.fromArray(F, gy, src + p * qq + q0, F.indexInRange(q0, qq)).intoArray(g, dst);
                            }
                        }
                    }
                }
                for (int tt = 0; tt < tTiles; tt++) {
                    int i0 = tt * CT;
                    int o0 = lOff[i0], o1 = lOff[Math.min(i0 + 1, taps - 1)], o2 = lOff[Math.min(i0 + 2, taps - 1)];
                    block(acc, tt * KT * CT * L, g, qv, xp, xN, wp, o0, o1, o2, p0, p1);
                }
            }
        }
        for (int tt = 0; tt < tTiles; tt++) {
            for (int i = 0; i < live; i++) {
                for (int j = 0; j < CT; j++) {
                    int tap = tt * CT + j;
                    if (tap >= taps) {
                        continue;
                    }
                    int a = ((tt * KT + i) * CT + j) * L;
                    float s = 0f;
                    for (int lane = 0; lane < L; lane++) {
                        s += acc[a + lane];
                    }
                    gw[(k0 + i) * taps + tap] += s;
                }
            }
        }
    }

    /** acc tile (KT x CT vectors at {@code a}) += products over output rows [p0, p1). */
    private static void block(float[] acc, int a, float[] g, int qv, float[] xp, int xN, int wp, int o0, int o1, int o2,
                              int p0, int p1) {
        FloatVector c00 = FloatVector.fromArray(F, acc, a), c01 = FloatVector.fromArray(F, acc, a + L);
        FloatVector c02 = FloatVector.fromArray(F, acc, a + 2 * L);
        FloatVector c10 = FloatVector.fromArray(F, acc, a + 3 * L), c11 = FloatVector.fromArray(F, acc, a + 4 * L);
        FloatVector c12 = FloatVector.fromArray(F, acc, a + 5 * L);
        FloatVector c20 = FloatVector.fromArray(F, acc, a + 6 * L), c21 = FloatVector.fromArray(F, acc, a + 7 * L);
        FloatVector c22 = FloatVector.fromArray(F, acc, a + 8 * L);
        FloatVector c30 = FloatVector.fromArray(F, acc, a + 9 * L), c31 = FloatVector.fromArray(F, acc, a + 10 * L);
        FloatVector c32 = FloatVector.fromArray(F, acc, a + 11 * L);
        FloatVector c40 = FloatVector.fromArray(F, acc, a + 12 * L), c41 = FloatVector.fromArray(F, acc, a + 13 * L);
        FloatVector c42 = FloatVector.fromArray(F, acc, a + 14 * L);
        FloatVector c50 = FloatVector.fromArray(F, acc, a + 15 * L), c51 = FloatVector.fromArray(F, acc, a + 16 * L);
        FloatVector c52 = FloatVector.fromArray(F, acc, a + 17 * L);
        FloatVector c60 = FloatVector.fromArray(F, acc, a + 18 * L), c61 = FloatVector.fromArray(F, acc, a + 19 * L);
        FloatVector c62 = FloatVector.fromArray(F, acc, a + 20 * L);
        FloatVector c70 = FloatVector.fromArray(F, acc, a + 21 * L), c71 = FloatVector.fromArray(F, acc, a + 22 * L);
        FloatVector c72 = FloatVector.fromArray(F, acc, a + 23 * L);
        int rows = p1 - p0, gStride = qv * KT * L;
        for (int v = 0; v < qv; v++) {
            int xv = xN + p0 * wp + v * L, gv = v * KT * L;
            // the row loop is the long one, with one induction variable for every index
            for (int r = 0; r < rows; r++) {
                int xq = xv + r * wp, gi = gv + r * gStride;
                FloatVector x0 = FloatVector.fromArray(F, xp, xq + o0);
                FloatVector x1 = FloatVector.fromArray(F, xp, xq + o1);
                FloatVector x2 = FloatVector.fromArray(F, xp, xq + o2);
                FloatVector y0 = FloatVector.fromArray(F, g, gi);
                FloatVector y1 = FloatVector.fromArray(F, g, gi + L);
                FloatVector y2 = FloatVector.fromArray(F, g, gi + 2 * L);
                FloatVector y3 = FloatVector.fromArray(F, g, gi + 3 * L);
                FloatVector y4 = FloatVector.fromArray(F, g, gi + 4 * L);
                FloatVector y5 = FloatVector.fromArray(F, g, gi + 5 * L);
                FloatVector y6 = FloatVector.fromArray(F, g, gi + 6 * L);
                FloatVector y7 = FloatVector.fromArray(F, g, gi + 7 * L);
                c00 = y0.fma(x0, c00);
                c01 = y0.fma(x1, c01);
                c02 = y0.fma(x2, c02);
                c10 = y1.fma(x0, c10);
                c11 = y1.fma(x1, c11);
                c12 = y1.fma(x2, c12);
                c20 = y2.fma(x0, c20);
                c21 = y2.fma(x1, c21);
                c22 = y2.fma(x2, c22);
                c30 = y3.fma(x0, c30);
                c31 = y3.fma(x1, c31);
                c32 = y3.fma(x2, c32);
                c40 = y4.fma(x0, c40);
                c41 = y4.fma(x1, c41);
                c42 = y4.fma(x2, c42);
                c50 = y5.fma(x0, c50);
                c51 = y5.fma(x1, c51);
                c52 = y5.fma(x2, c52);
                c60 = y6.fma(x0, c60);
                c61 = y6.fma(x1, c61);
                c62 = y6.fma(x2, c62);
                c70 = y7.fma(x0, c70);
                c71 = y7.fma(x1, c71);
                c72 = y7.fma(x2, c72);
            }
        }
        c00.intoArray(acc, a);
        c01.intoArray(acc, a + L);
        c02.intoArray(acc, a + 2 * L);
        c10.intoArray(acc, a + 3 * L);
        c11.intoArray(acc, a + 4 * L);
        c12.intoArray(acc, a + 5 * L);
        c20.intoArray(acc, a + 6 * L);
        c21.intoArray(acc, a + 7 * L);
        c22.intoArray(acc, a + 8 * L);
        c30.intoArray(acc, a + 9 * L);
        c31.intoArray(acc, a + 10 * L);
        c32.intoArray(acc, a + 11 * L);
        c40.intoArray(acc, a + 12 * L);
        c41.intoArray(acc, a + 13 * L);
        c42.intoArray(acc, a + 14 * L);
        c50.intoArray(acc, a + 15 * L);
        c51.intoArray(acc, a + 16 * L);
        c52.intoArray(acc, a + 17 * L);
        c60.intoArray(acc, a + 18 * L);
        c61.intoArray(acc, a + 19 * L);
        c62.intoArray(acc, a + 20 * L);
        c70.intoArray(acc, a + 21 * L);
        c71.intoArray(acc, a + 22 * L);
        c72.intoArray(acc, a + 23 * L);
    }
}
