package dev.opnorm.nn.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A packed, cache-blocked, register-blocked single-precision GEMM driver (the GotoBLAS/BLIS loop
 * nest): C(m x n) (op)= A(m x k) * B(k x n). What A, B and C are is abstract: a {@link PackA} copies a
 * block of A into MR-row slivers, a {@link PackB} copies a block of B into NR-column slivers, and a
 * {@link Sink} merges finished MR x NR tiles into C. Dense matrices are one implementation; a
 * convolution's implicit im2col matrix (never materialized) is another, see {@link ConvPack}.
 *
 * <p>Loop nest: for each NC-column panel, for each KC-deep slice, pack B(kc x nc); for each MC-row
 * block pack A(mc x kc); then for every NR-column sliver of B and every MR-row sliver of A run the
 * micro-kernel, which keeps the MR x NR tile in registers (MR x NV vector accumulators, one broadcast of
 * A times NV vector loads of B per step). Packed panels are zero-padded to whole slivers, so edge
 * tiles run the same micro-kernel and the sink drops the padding.
 *
 * <p>Determinism: every element of C is the sum over the k-slices [0, KC), [KC, 2 KC), ... in that
 * order, each slice summed in l order in one accumulator lane. Threads split C into disjoint column
 * (or row) ranges at sliver boundaries and repeat the same per-element arithmetic, so the result is
 * bit-identical for any thread count.
 */
final class Sgemm {
    /**
     * The register tile, MR rows x NV vectors, from the CPU's vector registers ({@link Simd#REGISTERS}):
     * 6 x 4 = 24 accumulators of 32 registers (AVX-512), 6 x 2 = 12 of 16 (AVX2), leaving room for the NV B
     * vectors and the broadcast; a 6 x 4 tile on 16 registers spills on every step. {@code
     * -Dopnorm.gemmTile=MRxNV} (MR 1..6, NV 1..4) overrides it for benchmarking. The tile never changes
     * results: the per-element summation order is fixed by {@link #KC} alone.
     */
    static final int MR = tile()[0];
    /** Vectors per row of the register tile. */
    static final int NV = tile()[1];
    /** Columns of the register tile (the scalar kill-switch path uses 16). */
    static final int NR = Simd.ENABLED ? NV * Simd.LANES : 16;
    /**
     * Depth of a k-slice: part of the {@link Kernels} summation-order contract (each slice is summed from
     * zero, then the slices are added in order), so changing it changes results at rounding level.
     */
    static final int KC = 256;
    /** Rows of an A block (a multiple of MR): MC x KC floats stay in L2. */
    static final int MC = 120 - 120 % MR;
    /** Columns of a B panel (a multiple of NR). */
    static final int NC = 1024 - 1024 % NR;

    /** Below this many multiply-adds, threads cost more than they save. */
    private static final long PARALLEL_MIN_MACS = 1L << 18;

    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;

    /**
     * On 16 registers the packed micro-kernel reads its B rows through a table of row offsets (l * NR), the
     * loop of {@link DirectConv}'s micro-kernel, instead of the affine {@code bOff + l * NR}: measured 1.7x
     * faster with the 5 x 2 tile on Zen 3 (C2 compiles the affine loop, with its range checks hoisted into
     * loop predicates, into slower code). Same multiply-adds in the same order, so the same bits. The
     * 32-register tile keeps the affine loop (not measured with the table).
     */
    private static final boolean TABLE_MICRO = Simd.ENABLED && Simd.REGISTERS < 32;
    /** ROW_OFFSETS[l] = l * NR: B row l of a packed sliver, for {@link #TABLE_MICRO}. */
    private static final int[] ROW_OFFSETS = new int[KC];

    static {
        for (int l = 0; l < KC; l++) {
            ROW_OFFSETS[l] = l * NR;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Sgemm() {
    }

    private static int[] tile() {
        String v = System.getProperty("opnorm.gemmTile");
        if (v == null || v.isBlank()) {
            return Simd.REGISTERS >= 32 ? new int[] {6, 4} : new int[] {5, 2};
        }
        String[] parts = v.trim().split("x");
        try {
            int mr = Integer.parseInt(parts[0]), nv = Integer.parseInt(parts[1]);
            if (parts.length == 2 && mr >= 1 && mr <= 6 && nv >= 1 && nv <= 4) {
                return new int[] {mr, nv};
            }
        } catch (RuntimeException e) {
            // reported below
        }
        throw new IllegalArgumentException("system property opnorm.gemmTile=" + v
                + " must be MRxNV with MR in 1..6 and NV in 1..4, e.g. 6x2");
    }

    /** Packs rows [i0, i0 + rows) x depth [l0, l0 + kc) of A: dst[s*kc*MR + l*MR + ii] = A(i0 + s*MR + ii, l0 + l). */
    abstract static class PackA {
        /** Must write zeros for rows at or beyond {@code rows} in the last sliver. */
        abstract void pack(float[] dst, int i0, int rows, int l0, int kc);
    }

    /** Packs depth [l0, l0 + kc) x columns [j0, j0 + cols) of B: dst[s*kc*NR + l*NR + jj] = B(l0 + l, j0 + s*NR + jj). */
    abstract static class PackB {
        /** Must write zeros for columns at or beyond {@code cols} in the last sliver. */
        abstract void pack(float[] dst, int l0, int kc, int j0, int cols);
    }

    /** Receives finished tiles. */
    abstract static class Sink {
        /**
         * Merges tile[ii*NR + jj] (ii < rows, jj < cols) into C(i0 + ii, j0 + jj). {@code first} is true for
         * the first k-slice (apply beta / overwrite), false for later slices (add).
         */
        abstract void write(float[] tile, int i0, int rows, int j0, int cols, boolean first);
    }

    /** Per-thread packing buffers, allocated once per thread and reused. */
    private static final class Scratch {
        final float[] a = new float[MC * KC];
        final float[] b = new float[NC * KC];
        final float[] tile = new float[MR * NR];
    }

    /**
     * Runs the GEMM with up to {@code threads} threads. With k == 0 every tile is written once as zeros
     * (so the sink still applies beta).
     */
    static void run(int m, int n, int k, PackA a, PackB b, Sink c, int threads) {
        if (m <= 0 || n <= 0) {
            return;
        }
        boolean splitColumns = splitsColumns(m, n, threads);
        int units = splitColumns ? ceilDiv(n, NR) : ceilDiv(m, MR);
        int tasks = plannedTasks(m, n, k, threads);
        Parallel.run(tasks, t -> {
            int u0 = Parallel.chunkStart(units, tasks, t), u1 = Parallel.chunkStart(units, tasks, t + 1);
            if (splitColumns) {
                block(0, m, u0 * NR, Math.min(n, u1 * NR), k, a, b, c);
            } else {
                block(u0 * MR, Math.min(m, u1 * MR), 0, n, k, a, b, c);
            }
        });
    }

    /** Threads split C by column slivers when there are enough of them, else by row slivers. */
    static boolean splitsColumns(int m, int n, int threads) {
        int mTiles = ceilDiv(m, MR), nTiles = ceilDiv(n, NR);
        return nTiles >= 2 * threads || nTiles >= mTiles;
    }

    /** The number of tasks {@link #run} uses (visible for tests that must exercise a real split). */
    static int plannedTasks(int m, int n, int k, int threads) {
        int units = splitsColumns(m, n, threads) ? ceilDiv(n, NR) : ceilDiv(m, MR);
        return (long) m * n * Math.max(k, 1) < PARALLEL_MIN_MACS ? 1 : Math.min(threads, units);
    }

    /** The blocked loop nest over C rows [i0, i1) and columns [j0, j1). */
    private static void block(int i0, int i1, int j0, int j1, int k, PackA a, PackB b, Sink c) {
        if (i0 >= i1 || j0 >= j1) {
            return;
        }
        Scratch s = SCRATCH.get();
        float[] ap = s.a, bp = s.b, tile = s.tile;
        if (k == 0) {
            java.util.Arrays.fill(tile, 0f);
            for (int i = i0; i < i1; i += MR) {
                for (int j = j0; j < j1; j += NR) {
                    c.write(tile, i, Math.min(MR, i1 - i), j, Math.min(NR, j1 - j), true);
                }
            }
            return;
        }
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean first = pc == 0;
                b.pack(bp, pc, kc, jc, nc);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    a.pack(ap, ic, mc, pc, kc);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int bOff = (jr / NR) * kc * NR, cols = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {
                            if (TABLE_MICRO) {
                                DirectConv.micro(kc, ap, (ir / MR) * kc * MR, bp, bOff, bOff + L, bOff + 2 * L,
                                        bOff + 3 * L, ROW_OFFSETS, 0, tile);
                            } else {
                                micro(kc, ap, (ir / MR) * kc * MR, bp, bOff, tile);
                            }
                            c.write(tile, ic + ir, Math.min(MR, mc - ir), jc + jr, cols, first);
                        }
                    }
                }
            }
        }
    }

    /** tile[ii*NR + jj] = sum_l a[aOff + l*MR + ii] * b[bOff + l*NR + jj], l ascending. */
    static void micro(int kc, float[] a, int aOff, float[] b, int bOff, float[] tile) {
        if (Simd.ENABLED) {
            microVector(kc, a, aOff, b, bOff, tile);
        } else {
            microScalar(kc, a, aOff, b, bOff, tile);
        }
    }

    // One source for every register tile: MR and NV are static finals, so C2 drops the guarded rows and
    // columns and keeps the live accumulators, distinct locals, in registers.
    private static void microVector(int kc, float[] a, int aOff, float[] b, int bOff, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00, c43 = c00;
        FloatVector c50 = c00, c51 = c00, c52 = c00, c53 = c00;
        for (int l = 0; l < kc; l++) {
            int bo = bOff + l * NR, ao = aOff + l * MR;
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = NV > 1 ? FloatVector.fromArray(F, b, bo + 1 * L) : b0;
            FloatVector b2 = NV > 2 ? FloatVector.fromArray(F, b, bo + 2 * L) : b0;
            FloatVector b3 = NV > 3 ? FloatVector.fromArray(F, b, bo + 3 * L) : b0;
            FloatVector a0 = FloatVector.broadcast(F, a[ao]);
            c00 = a0.fma(b0, c00);
            if (NV > 1) {
                c01 = a0.fma(b1, c01);
            }
            if (NV > 2) {
                c02 = a0.fma(b2, c02);
            }
            if (NV > 3) {
                c03 = a0.fma(b3, c03);
            }
            if (MR > 1) {
                FloatVector a1 = FloatVector.broadcast(F, a[ao + 1]);
                c10 = a1.fma(b0, c10);
                if (NV > 1) {
                    c11 = a1.fma(b1, c11);
                }
                if (NV > 2) {
                    c12 = a1.fma(b2, c12);
                }
                if (NV > 3) {
                    c13 = a1.fma(b3, c13);
                }
            }
            if (MR > 2) {
                FloatVector a2 = FloatVector.broadcast(F, a[ao + 2]);
                c20 = a2.fma(b0, c20);
                if (NV > 1) {
                    c21 = a2.fma(b1, c21);
                }
                if (NV > 2) {
                    c22 = a2.fma(b2, c22);
                }
                if (NV > 3) {
                    c23 = a2.fma(b3, c23);
                }
            }
            if (MR > 3) {
                FloatVector a3 = FloatVector.broadcast(F, a[ao + 3]);
                c30 = a3.fma(b0, c30);
                if (NV > 1) {
                    c31 = a3.fma(b1, c31);
                }
                if (NV > 2) {
                    c32 = a3.fma(b2, c32);
                }
                if (NV > 3) {
                    c33 = a3.fma(b3, c33);
                }
            }
            if (MR > 4) {
                FloatVector a4 = FloatVector.broadcast(F, a[ao + 4]);
                c40 = a4.fma(b0, c40);
                if (NV > 1) {
                    c41 = a4.fma(b1, c41);
                }
                if (NV > 2) {
                    c42 = a4.fma(b2, c42);
                }
                if (NV > 3) {
                    c43 = a4.fma(b3, c43);
                }
            }
            if (MR > 5) {
                FloatVector a5 = FloatVector.broadcast(F, a[ao + 5]);
                c50 = a5.fma(b0, c50);
                if (NV > 1) {
                    c51 = a5.fma(b1, c51);
                }
                if (NV > 2) {
                    c52 = a5.fma(b2, c52);
                }
                if (NV > 3) {
                    c53 = a5.fma(b3, c53);
                }
            }
        }
        store(tile, c00, c01, c02, c03, 0);
        if (MR > 1) {
            store(tile, c10, c11, c12, c13, 1 * NR);
        }
        if (MR > 2) {
            store(tile, c20, c21, c22, c23, 2 * NR);
        }
        if (MR > 3) {
            store(tile, c30, c31, c32, c33, 3 * NR);
        }
        if (MR > 4) {
            store(tile, c40, c41, c42, c43, 4 * NR);
        }
        if (MR > 5) {
            store(tile, c50, c51, c52, c53, 5 * NR);
        }
    }

    /** Stores the first NV vectors of one tile row at tile[t ..]. */
    static void store(float[] tile, FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3, int t) {
        v0.intoArray(tile, t);
        if (NV > 1) {
            v1.intoArray(tile, t + L);
        }
        if (NV > 2) {
            v2.intoArray(tile, t + 2 * L);
        }
        if (NV > 3) {
            v3.intoArray(tile, t + 3 * L);
        }
    }

    /** The scalar twin (kill switch): same packing, same per-element l order, the same fused multiply-add. */
    private static void microScalar(int kc, float[] a, int aOff, float[] b, int bOff, float[] tile) {
        java.util.Arrays.fill(tile, 0, MR * NR, 0f);
        for (int l = 0; l < kc; l++) {
            int bo = bOff + l * NR, ao = aOff + l * MR;
            for (int ii = 0; ii < MR; ii++) {
                float av = a[ao + ii];
                int t = ii * NR;
                for (int jj = 0; jj < NR; jj++) {
                    tile[t + jj] = Math.fma(av, b[bo + jj], tile[t + jj]);
                }
            }
        }
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    // ---- dense operands ------------------------------------------------------------------------------

    /** A stored row-major m x k (element (i, l) at a[off + i*ld + l]) or, transposed, k x m (at a[off + l*ld + i]). */
    static final class DenseA extends PackA {
        private final float[] a;
        private final int off, ld;
        private final boolean trans;

        DenseA(float[] a, int off, int ld, boolean trans) {
            this.a = a;
            this.off = off;
            this.ld = ld;
            this.trans = trans;
        }

        @Override
        void pack(float[] dst, int i0, int rows, int l0, int kc) {
            for (int s = 0; s < rows; s += MR) {
                int base = (s / MR) * kc * MR, live = Math.min(MR, rows - s);
                if (trans) {
                    for (int l = 0; l < kc; l++) {
                        int src = off + (l0 + l) * ld + i0 + s, d = base + l * MR;
                        for (int ii = 0; ii < live; ii++) {
                            dst[d + ii] = a[src + ii];
                        }
                        for (int ii = live; ii < MR; ii++) {
                            dst[d + ii] = 0f;
                        }
                    }
                } else {
                    for (int ii = 0; ii < MR; ii++) {
                        if (ii < live) {
                            int src = off + (i0 + s + ii) * ld + l0;
                            for (int l = 0; l < kc; l++) {
                                dst[base + l * MR + ii] = a[src + l];
                            }
                        } else {
                            for (int l = 0; l < kc; l++) {
                                dst[base + l * MR + ii] = 0f;
                            }
                        }
                    }
                }
            }
        }
    }

    /** B stored row-major k x n (element (l, j) at b[off + l*ld + j]) or, transposed, n x k (at b[off + j*ld + l]). */
    static final class DenseB extends PackB {
        private final float[] b;
        private final int off, ld;
        private final boolean trans;

        DenseB(float[] b, int off, int ld, boolean trans) {
            this.b = b;
            this.off = off;
            this.ld = ld;
            this.trans = trans;
        }

        @Override
        void pack(float[] dst, int l0, int kc, int j0, int cols) {
            for (int s = 0; s < cols; s += NR) {
                int base = (s / NR) * kc * NR, live = Math.min(NR, cols - s);
                if (trans) {
                    for (int jj = 0; jj < NR; jj++) {
                        if (jj < live) {
                            int src = off + (j0 + s + jj) * ld + l0;
                            for (int l = 0; l < kc; l++) {
                                dst[base + l * NR + jj] = b[src + l];
                            }
                        } else {
                            for (int l = 0; l < kc; l++) {
                                dst[base + l * NR + jj] = 0f;
                            }
                        }
                    }
                } else {
                    for (int l = 0; l < kc; l++) {
                        int d = base + l * NR;
                        System.arraycopy(b, off + (l0 + l) * ld + j0 + s, dst, d, live);
                        if (live < NR) {
                            java.util.Arrays.fill(dst, d + live, d + NR, 0f);
                        }
                    }
                }
            }
        }
    }

    /** C = alpha * tile + beta * C on the first slice (beta == 0 ignores old C), C += alpha * tile after. */
    static final class DenseC extends Sink {
        private final float[] c;
        private final int off, ld;
        private final float alpha, beta;

        DenseC(float[] c, int off, int ld, float alpha, float beta) {
            this.c = c;
            this.off = off;
            this.ld = ld;
            this.alpha = alpha;
            this.beta = beta;
        }

        @Override
        void write(float[] tile, int i0, int rows, int j0, int cols, boolean first) {
            for (int ii = 0; ii < rows; ii++) {
                int ci = off + (i0 + ii) * ld + j0, t = ii * NR;
                int jj = 0;
                if (Simd.ENABLED) {
                    int bound = F.loopBound(cols);
                    for (; jj < bound; jj += L) {
                        FloatVector v = FloatVector.fromArray(F, tile, t + jj).mul(alpha);
                        if (!first) {
                            v = v.add(FloatVector.fromArray(F, c, ci + jj));
                        } else if (beta != 0f) {
                            v = v.add(FloatVector.fromArray(F, c, ci + jj).mul(beta));
                        }
                        v.intoArray(c, ci + jj);
                    }
                }
                for (; jj < cols; jj++) {
                    float v = alpha * tile[t + jj];
                    if (!first) {
                        v += c[ci + jj];
                    } else if (beta != 0f) {
                        v += beta * c[ci + jj];
                    }
                    c[ci + jj] = v;
                }
            }
        }
    }
}
