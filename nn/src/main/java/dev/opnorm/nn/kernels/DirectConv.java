package dev.opnorm.nn.kernels;

import static dev.opnorm.nn.kernels.Sgemm.KC;
import static dev.opnorm.nn.kernels.Sgemm.MC;
import static dev.opnorm.nn.kernels.Sgemm.MR;
import static dev.opnorm.nn.kernels.Sgemm.NC;
import static dev.opnorm.nn.kernels.Sgemm.NR;
import static dev.opnorm.nn.kernels.Sgemm.NV;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Stride-1 convolution as a GEMM whose B operand is never packed: the micro-kernel loads its B vectors
 * straight from a zero-padded copy of the source tensor. For a column block of L output pixels in one
 * output row, B(l, j .. j+L) with l = (channel, r, s) is the contiguous run
 * {@code src[base(j) + lOff[l]]}: one unaligned vector load, no bounds checks, because the padding is
 * materialized. This removes im2col packing (each packed element otherwise feeds only M multiply-adds,
 * which costs up to half the time when M is 32..128 output channels).
 *
 * <p>Used by {@link VectorKernels} for the forward conv and the stride-1 input VJP (a forward conv of
 * gy padded by R-1-pad with the kernel flipped, channels swapped) when the output width is a multiple
 * of the vector length, or, from {@link #shiftedSize shifted} copies, when only the output grid of a
 * sample is (8x8 maps on 16 lanes); other shapes take the packed im2col route. The loop nest and the per-element
 * summation order (k-slices of {@link Sgemm#KC}, l ascending in each) are those of {@link Sgemm}, so the
 * route never changes a result; threads split columns at sliver boundaries (or rows at MR boundaries).
 */
final class DirectConv {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = Simd.LANES;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(
            () -> new float[][] {new float[MC * KC], new float[MR * NR]});

    /**
     * Rows (taps) of the weight-VJP register tile, beside {@link Sgemm#NV} vectors per row: 4 x 4 on 32
     * registers (six rows measured slower there: each row is a computed broadcast offset), MR x 2 on 16.
     */
    static final int WR = Math.min(Sgemm.NV >= 4 ? 4 : 6, Sgemm.MR);

    private DirectConv() {
    }

    /** Whether a stride-1 conv whose output rows are {@code outWidth} wide can run on a padded source. */
    static boolean applicable(int outWidth) {
        return Simd.ENABLED && outWidth % L == 0;
    }

    /**
     * Whether a stride-1 conv with a P x Q output grid can run on a {@link #shiftedSize shifted} source: rows
     * narrower than a vector (8x8 maps on 16 lanes) are fine as long as no vector straddles two samples.
     */
    static boolean applicableShifted(int outHeight, int outWidth) {
        return Simd.ENABLED && (outHeight * outWidth) % L == 0;
    }

    /**
     * The source for output rows that are not a whole number of vectors: {@code shifts} copies of x zero-padded
     * by padH rows (n, c, h + 2 padH, outW), copy t holding the padded columns t .. t + outW - 1, so
     * dst[(((t*n + b)*c + ch)*hp + i)*outW + q] = xpadded[b, ch, i, q + t]; then {@code tail} zeros. Rows are
     * exactly outW wide, so the output pixels (p, q) of one sample are consecutive for every tap: a vector
     * of L output pixels spanning several output rows is one contiguous load at base(j) + lOff(c, r, s),
     * lOff = s*n*c*hp*outW + (c*hp + r)*outW. Its length, an error past the largest array.
     */
    static long shiftedSize(int n, int c, int h, int padH, int shifts, int outW, int tail) {
        long size = (long) shifts * n * c * (h + 2 * padH) * outW + tail;
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("conv2d shifted source of " + size + " floats exceeds an array");
        }
        return size;
    }

    /**
     * Planes [u0, u1) of a {@link #shiftedSize shifted} copy of x ({@code planes} = n*c of them), every element
     * written (pads as zeros), so that threads can fill disjoint plane ranges of one buffer.
     */
    static void shiftedPlanes(float[] dst, float[] x, int planes, int h, int w, int padH, int padW, int shifts,
                              int outW, int u0, int u1) {
        int hp = h + 2 * padH;
        for (int t = 0; t < shifts; t++) {
            // columns q with 0 <= q + t - padW < w come from x
            int q0 = Math.min(outW, Math.max(0, padW - t)), q1 = Math.max(q0, Math.min(outW, w + padW - t));
            for (int u = u0; u < u1; u++) {
                int d = (t * planes + u) * hp * outW, top = d + padH * outW, bottom = top + h * outW;
                Arrays.fill(dst, d, top, 0f);
                Arrays.fill(dst, bottom, d + hp * outW, 0f);
                if (outW == w && q1 > q0) {
                    // rows as wide as x's: dst[top + k] = x[u*h*w + k + t - padW] for the flat k of every copied
                    // column, so one copy moves the plane; the q < q0 and q >= q1 columns it filled from the
                    // neighbouring row (or left alone at the ends) are zeroed after it
                    System.arraycopy(x, u * h * w + q0 + t - padW, dst, top + q0, (h - 1) * w + q1 - q0);
                    for (int row = top; row < bottom; row += w) {
                        for (int q = 0; q < q0; q++) {
                            dst[row + q] = 0f;
                        }
                        for (int q = q1; q < w; q++) {
                            dst[row + q] = 0f;
                        }
                    }
                } else {
                    for (int i = 0; i < h; i++) {
                        int row = top + i * outW;
                        Arrays.fill(dst, row, row + q0, 0f);
                        if (q1 > q0) {
                            System.arraycopy(x, (u * h + i) * w + q0 + t - padW, dst, row + q0, q1 - q0);
                        }
                        Arrays.fill(dst, row + q1, row + outW, 0f);
                    }
                }
            }
        }
    }

    /**
     * The B operand: a padded source tensor (n, cs, hp, wp) and, per row l of B, the offset of its tap.
     * Column j = (n, p, q) of the output grid (gridP x gridQ) starts at ((n*cs)*hp + p)*wp + q.
     */
    static final class PaddedSource {
        final float[] src;
        final int cs, hp, wp, gridP, gridQ, zeroBase;
        final int[] lOff;

        PaddedSource(float[] src, int cs, int hp, int wp, int gridP, int gridQ, int zeroBase, int[] lOff) {
            this.src = src;
            this.cs = cs;
            this.hp = hp;
            this.wp = wp;
            this.gridP = gridP;
            this.gridQ = gridQ;
            this.zeroBase = zeroBase;
            this.lOff = lOff;
        }

        /**
         * A source whose vectors past the last column re-read the last whole vector of the grid (samples x
         * gridP x gridQ, a multiple of L): the sink drops those lanes, and no zero tail is needed.
         */
        static PaddedSource lastVectorForPadding(float[] src, int cs, int hp, int wp, int gridP, int gridQ, int samples,
                                                 int[] lOff) {
            PaddedSource s = new PaddedSource(src, cs, hp, wp, gridP, gridQ, 0, lOff);
            return new PaddedSource(src, cs, hp, wp, gridP, gridQ, s.columnBase(samples * gridP * gridQ - L), lOff);
        }

        int columnBase(int j) {
            int pq = gridP * gridQ, n = j / pq, t = j % pq;
            return ((n * cs) * hp + t / gridQ) * wp + t % gridQ;
        }
    }

    /**
     * Copies x (n, c, h, w) into dst as (n, c, h + 2 padH, wp) with zero borders (wp >= w + 2 padW: zeros
     * past the right pad too), followed by {@code tail} zeros. Its length, an error past the largest array.
     */
    static long paddedSize(int n, int c, int h, int padH, int wp, int tail) {
        long size = (long) n * c * (h + 2 * padH) * wp + tail;
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("conv2d padded source of " + size + " floats exceeds an array");
        }
        return size;
    }

    /**
     * Planes [u0, u1) of a {@link #paddedSize padded} copy, every element written (borders as zeros), so that
     * threads can fill disjoint plane ranges of one buffer.
     */
    static void padPlanes(float[] dst, float[] x, int h, int w, int padH, int padW, int wp, int u0, int u1) {
        int hp = h + 2 * padH;
        for (int u = u0; u < u1; u++) {
            int d = u * hp * wp, top = d + padH * wp, bottom = top + h * wp;
            Arrays.fill(dst, d, top, 0f);
            Arrays.fill(dst, bottom, d + hp * wp, 0f);
            for (int row = top, from = u * h * w; row < bottom; row += wp, from += w) {
                for (int q = 0; q < padW; q++) {
                    dst[row + q] = 0f;
                }
                System.arraycopy(x, from, dst, row + padW, w);
                for (int q = padW + w; q < wp; q++) {
                    dst[row + q] = 0f;
                }
            }
        }
    }

    /** C (m x cols) = A (m x k) * B with B read from {@code b}; the sink receives tiles as in Sgemm. */
    static void run(int m, int cols, int k, Sgemm.PackA a, PaddedSource b, Sgemm.Sink c, int threads) {
        boolean splitColumns = Sgemm.splitsColumns(m, cols, threads);
        int units = splitColumns ? Sgemm.ceilDiv(cols, NR) : Sgemm.ceilDiv(m, MR);
        int tasks = Sgemm.plannedTasks(m, cols, k, threads);
        // tasks that split the columns would each pack all of A once: pack it once for all of them instead,
        // each task packing a share of the k-slices (the same floats in the same places)
        float[] shared = splitColumns && tasks > 1 && packsOnce(0, m, (units / tasks) * NR, k)
                ? packShared(a, m, k, tasks) : null;
        Parallel.run(tasks, t -> {
            int u0 = Parallel.chunkStart(units, tasks, t), u1 = Parallel.chunkStart(units, tasks, t + 1);
            if (splitColumns) {
                block(0, m, u0 * NR, Math.min(cols, u1 * NR), cols, k, a, b, c, shared);
            } else {
                block(u0 * MR, Math.min(m, u1 * MR), 0, cols, cols, k, a, b, c, null);
            }
        });
    }

    /** Whether {@link #block} packs A rows [i0, i1) once for a range of {@code columns} columns. */
    private static boolean packsOnce(int i0, int i1, int columns, int k) {
        return columns > 2 * ONCE_PANEL && (long) Sgemm.ceilDiv(i1 - i0, MR) * MR * k <= PACK_ONCE_MAX_FLOATS;
    }

    /** The loop nest over C rows [i0, i1) and columns [j0, j1); {@code packed}: all of A packed, or null. */
    private static void block(int i0, int i1, int j0, int j1, int cols, int k, Sgemm.PackA a, PaddedSource b,
                              Sgemm.Sink c, float[] packed) {
        if (i0 >= i1 || j0 >= j1) {
            return;
        }
        float[][] s = SCRATCH.get();
        float[] ap = s[0], tile = s[1];
        int[] base = new int[4]; // entries past NV stay unused
        int step = NR;
        // with many column panels A is packed once for all of them: slice pc at pc * rowsPad, block ic at
        // (ic - i0) * kc inside it (MC is a multiple of MR). Measured +10-20% on 32x32 maps with 128 channels;
        // on 16 registers, with A up to 16 MiB and panels of ONCE_PANEL columns, also +6-20% on 8x8 and 16x16
        // maps with 256-512 channels: each k-slice then adds its tiles into a C panel (M x 256) that is still
        // in L2, where NC-wide panels of 512 rows left it in L3, and the strided weight gather of the input
        // VJP runs once per call instead of once per panel
        int rowsPad = Sgemm.ceilDiv(i1 - i0, MR) * MR;
        float[] all = packed;
        if (all == null && packsOnce(i0, i1, j1 - j0, k)) {
            all = packAll(a, ap, i0, i1, k, rowsPad);
        }
        int panel = all != null ? ONCE_PANEL : NC;
        for (int jc = j0; jc < j1; jc += panel) {
            int nc = Math.min(panel, j1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean first = pc == 0;
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic), aBase = 0;
                    float[] aBuf = ap;
                    if (all != null) {
                        aBuf = all;
                        aBase = pc * rowsPad + (ic - i0) * kc;
                    } else {
                        a.pack(ap, ic, mc, pc, kc);
                    }
                    for (int jr = 0; jr < nc; jr += step) {
                        int j = jc + jr, live = Math.min(step, nc - jr);
                        for (int v = 0; v < NV; v++) {
                            int jv = j + v * L;
                            // vectors past the last column read zeros; the sink drops their lanes
                            base[v] = jv < cols ? b.columnBase(jv) : b.zeroBase;
                        }
                        for (int ir = 0; ir < mc; ir += MR) {
                            micro(kc, aBuf, aBase + (ir / MR) * kc * MR, b.src, base[0], base[1], base[2], base[3],
                                    b.lOff, pc, tile);
                            c.write(tile, ic + ir, Math.min(MR, mc - ir), j, live, first);
                        }
                    }
                }
            }
        }
    }

    private static final ThreadLocal<float[][]> PACKED_A = ThreadLocal.withInitial(() -> new float[1][0]);
    /**
     * The largest A {@link #block} packs once for all column panels: 16 MiB on 16 registers (measured), 1 MiB
     * on 32 (as before the 16-register change; not measured there).
     */
    private static final long PACK_ONCE_MAX_FLOATS = Simd.REGISTERS < 32 ? 1L << 22 : 1L << 18;
    /** Columns of a panel when A is packed once (a multiple of NR): 256 on 16 registers, NC on 32 (as above). */
    private static final int ONCE_PANEL = Simd.REGISTERS < 32 ? Math.max(NR, 256 - 256 % NR) : NC;

    /** A rows [i0, i1) x depth [0, k) packed slice by slice and block by block, as {@link #block} reads it. */
    private static float[] packAll(Sgemm.PackA a, float[] ap, int i0, int i1, int k, int rowsPad) {
        float[] all = packedBuffer((long) rowsPad * k);
        packSlices(a, ap, all, i0, i1, 0, k, rowsPad);
        return all;
    }

    /** As {@link #packAll} for rows [0, m), the slices split over {@code tasks} tasks. */
    private static float[] packShared(Sgemm.PackA a, int m, int k, int tasks) {
        int rowsPad = Sgemm.ceilDiv(m, MR) * MR, slices = Sgemm.ceilDiv(k, KC);
        float[] all = packedBuffer((long) rowsPad * k);
        Parallel.run(Math.min(tasks, slices), t -> {
            int parts = Math.min(tasks, slices);
            int l0 = Parallel.chunkStart(slices, parts, t) * KC;
            int l1 = Math.min(k, Parallel.chunkStart(slices, parts, t + 1) * KC);
            packSlices(a, SCRATCH.get()[0], all, 0, m, l0, l1, rowsPad);
        });
        return all;
    }

    /** The calling thread's buffer for all of A, at least {@code size} floats. */
    private static float[] packedBuffer(long size) {
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("conv2d packed weights of " + size + " floats exceed an array");
        }
        float[][] holder = PACKED_A.get();
        if (holder[0].length < size) {
            holder[0] = new float[(int) size];
        }
        return holder[0];
    }

    /** Packs the k-slices starting in [l0, l1) (l0 a multiple of KC) of A rows [i0, i1) into all, via ap. */
    private static void packSlices(Sgemm.PackA a, float[] ap, float[] all, int i0, int i1, int l0, int l1,
                                   int rowsPad) {
        for (int pc = l0; pc < l1; pc += KC) {
            int kc = Math.min(KC, l1 - pc);
            for (int ic = i0; ic < i1; ic += MC) {
                int mc = Math.min(MC, i1 - ic);
                a.pack(ap, ic, mc, pc, kc);
                System.arraycopy(ap, 0, all, pc * rowsPad + (ic - i0) * kc, Sgemm.ceilDiv(mc, MR) * MR * kc);
            }
        }
    }

    /**
     * As Sgemm's micro-kernel (the same MR x NV tile), with B vector v of row l at src[bv + lOff[l0 + l]];
     * Sgemm also runs its packed slivers through it on 16 registers ({@code Sgemm.TABLE_MICRO}).
     */
    static void micro(int kc, float[] a, int aOff, float[] src, int b0o, int b1o, int b2o, int b3o,
                      int[] lOff, int l0, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00, c43 = c00;
        FloatVector c50 = c00, c51 = c00, c52 = c00, c53 = c00;
        for (int l = 0; l < kc; l++) {
            int o = lOff[l0 + l], ao = aOff + l * MR;
            FloatVector b0 = FloatVector.fromArray(F, src, b0o + o);
            FloatVector b1 = NV > 1 ? FloatVector.fromArray(F, src, b1o + o) : b0;
            FloatVector b2 = NV > 2 ? FloatVector.fromArray(F, src, b2o + o) : b0;
            FloatVector b3 = NV > 3 ? FloatVector.fromArray(F, src, b3o + o) : b0;
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
        Sgemm.store(tile, c00, c01, c02, c03, 0);
        if (MR > 1) {
            Sgemm.store(tile, c10, c11, c12, c13, 1 * NR);
        }
        if (MR > 2) {
            Sgemm.store(tile, c20, c21, c22, c23, 2 * NR);
        }
        if (MR > 3) {
            Sgemm.store(tile, c30, c31, c32, c33, 3 * NR);
        }
        if (MR > 4) {
            Sgemm.store(tile, c40, c41, c42, c43, 4 * NR);
        }
        if (MR > 5) {
            Sgemm.store(tile, c50, c51, c52, c53, 5 * NR);
        }
    }

    // ---- weight gradient ----------------------------------------------------------------------------

    /**
     * out (m x n), overwritten, = A (m x depth) * B (depth x n), with A read by scalar broadcasts straight from
     * a source tensor (row i, along one run of consecutive grid columns, is a contiguous run of the source at
     * columnBase + lOff[i]) and only B packed. For a stride-1 conv's weight VJP: gwT (CRS x K) = im2col(x)
     * * gy^T with A = padded x (lOff[(c, r, s)] = (c*hp + r)*wp + s) and B = gy^T ({@link ConvPack.NchwTB}),
     * which packs K*N*P*Q elements instead of the C*R*S*N*P*Q of im2col; or, when C*R*S is the smaller
     * side, gw (K x CRS) = gy * im2col(x)^T with A = gy in place (one row PQ wide per channel) and B =
     * {@link ConvPack.Im2colTB}. Each out element sums its depth terms in k-slices of KC, l ascending: fixed
     * order, any thread count (and fma's product is the same either way round).
     *
     * @param out      output (m x n), row-major, overwritten
     * @param lOff     per A row: its offset from a column's base in the source
     * @param geometry the source of A and its grid of depth columns
     * @param depth    the depth (N*P*Q)
     */
    static void weightGrad(float[] out, int[] lOff, PaddedSource geometry, Sgemm.PackB b, int n, int depth,
                           int threads) {
        int m = lOff.length;
        float[] xp = geometry.src;
        Sgemm.Sink c = new Sgemm.DenseC(out, 0, n, 1f, 0f);
        boolean splitColumns = Sgemm.splitsColumns(m, n, threads);
        int units = splitColumns ? Sgemm.ceilDiv(n, NR) : Sgemm.ceilDiv(m, WR);
        int tasks = Sgemm.plannedTasks(m, n, depth, threads);
        Parallel.run(tasks, t -> {
            int u0 = Parallel.chunkStart(units, tasks, t), u1 = Parallel.chunkStart(units, tasks, t + 1);
            if (splitColumns) {
                weightBlock(0, m, u0 * NR, Math.min(n, u1 * NR), depth, xp, lOff, geometry, b, c);
            } else {
                weightBlock(u0 * WR, Math.min(m, u1 * WR), 0, n, depth, xp, lOff, geometry, b, c);
            }
        });
    }

    private static final ThreadLocal<float[]> WEIGHT_B = ThreadLocal.withInitial(() -> new float[NC * KC]);

    private static void weightBlock(int i0, int i1, int j0, int j1, int depth, float[] xp, int[] lOff,
                                    PaddedSource g, Sgemm.PackB b, Sgemm.Sink c) {
        if (i0 >= i1 || j0 >= j1) {
            return;
        }
        float[] bp = WEIGHT_B.get(), tile = SCRATCH.get()[1];
        int[] runStart = new int[KC], runLen = new int[KC], runBase = new int[KC], o = new int[6];
        int m = lOff.length;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < depth; pc += KC) {
                int kc = Math.min(KC, depth - pc);
                b.pack(bp, pc, kc, jc, nc);
                // the slice's columns (n, p, q) as runs of consecutive q, each contiguous in xp
                int runs = 0;
                for (int l = 0; l < kc; ) {
                    int col = pc + l, q = col % g.gridQ, len = Math.min(kc - l, g.gridQ - q);
                    runStart[runs] = l;
                    runLen[runs] = len;
                    runBase[runs] = g.columnBase(col);
                    runs++;
                    l += len;
                }
                for (int ir = i0; ir < i1; ir += WR) {
                    int live = Math.min(WR, i1 - ir);
                    // rows past the end (and past WR) repeat the last row; the sink drops them
                    for (int t = 0; t < o.length; t++) {
                        o[t] = lOff[Math.min(ir + Math.min(t, WR - 1), m - 1)];
                    }
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr);
                        microWeight(runs, runStart, runLen, runBase, xp, o, bp, (jr / NR) * kc * NR, tile);
                        c.write(tile, ir, live, jc + jr, cols, pc == 0);
                    }
                }
            }
        }
    }

    /** tile[ii*NR + jj] = sum over runs, u of xp[base + o_ii + u] * b[bOff + (start + u)*NR + jj] (ii < WR). */
    private static void microWeight(int runs, int[] runStart, int[] runLen, int[] runBase, float[] xp, int[] o,
                                    float[] b, int bOff, float[] tile) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        FloatVector c40 = c00, c41 = c00, c42 = c00, c43 = c00;
        FloatVector c50 = c00, c51 = c00, c52 = c00, c53 = c00;
        int o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5];
        for (int rn = 0; rn < runs; rn++) {
            int base = runBase[rn], len = runLen[rn];
            int a0 = base + o0, a1 = base + o1, a2 = base + o2, a3 = base + o3, a4 = base + o4, a5 = base + o5;
            int bo = bOff + runStart[rn] * NR;
            for (int u = 0; u < len; u++, bo += NR) {
                FloatVector b0 = FloatVector.fromArray(F, b, bo);
                FloatVector b1 = NV > 1 ? FloatVector.fromArray(F, b, bo + 1 * L) : b0;
                FloatVector b2 = NV > 2 ? FloatVector.fromArray(F, b, bo + 2 * L) : b0;
                FloatVector b3 = NV > 3 ? FloatVector.fromArray(F, b, bo + 3 * L) : b0;
                FloatVector v0 = FloatVector.broadcast(F, xp[a0 + u]);
                c00 = v0.fma(b0, c00);
                if (NV > 1) {
                    c01 = v0.fma(b1, c01);
                }
                if (NV > 2) {
                    c02 = v0.fma(b2, c02);
                }
                if (NV > 3) {
                    c03 = v0.fma(b3, c03);
                }
                if (WR > 1) {
                    FloatVector v1 = FloatVector.broadcast(F, xp[a1 + u]);
                    c10 = v1.fma(b0, c10);
                    if (NV > 1) {
                        c11 = v1.fma(b1, c11);
                    }
                    if (NV > 2) {
                        c12 = v1.fma(b2, c12);
                    }
                    if (NV > 3) {
                        c13 = v1.fma(b3, c13);
                    }
                }
                if (WR > 2) {
                    FloatVector v2 = FloatVector.broadcast(F, xp[a2 + u]);
                    c20 = v2.fma(b0, c20);
                    if (NV > 1) {
                        c21 = v2.fma(b1, c21);
                    }
                    if (NV > 2) {
                        c22 = v2.fma(b2, c22);
                    }
                    if (NV > 3) {
                        c23 = v2.fma(b3, c23);
                    }
                }
                if (WR > 3) {
                    FloatVector v3 = FloatVector.broadcast(F, xp[a3 + u]);
                    c30 = v3.fma(b0, c30);
                    if (NV > 1) {
                        c31 = v3.fma(b1, c31);
                    }
                    if (NV > 2) {
                        c32 = v3.fma(b2, c32);
                    }
                    if (NV > 3) {
                        c33 = v3.fma(b3, c33);
                    }
                }
                if (WR > 4) {
                    FloatVector v4 = FloatVector.broadcast(F, xp[a4 + u]);
                    c40 = v4.fma(b0, c40);
                    if (NV > 1) {
                        c41 = v4.fma(b1, c41);
                    }
                    if (NV > 2) {
                        c42 = v4.fma(b2, c42);
                    }
                    if (NV > 3) {
                        c43 = v4.fma(b3, c43);
                    }
                }
                if (WR > 5) {
                    FloatVector v5 = FloatVector.broadcast(F, xp[a5 + u]);
                    c50 = v5.fma(b0, c50);
                    if (NV > 1) {
                        c51 = v5.fma(b1, c51);
                    }
                    if (NV > 2) {
                        c52 = v5.fma(b2, c52);
                    }
                    if (NV > 3) {
                        c53 = v5.fma(b3, c53);
                    }
                }
            }
        }
        Sgemm.store(tile, c00, c01, c02, c03, 0);
        if (WR > 1) {
            Sgemm.store(tile, c10, c11, c12, c13, 1 * NR);
        }
        if (WR > 2) {
            Sgemm.store(tile, c20, c21, c22, c23, 2 * NR);
        }
        if (WR > 3) {
            Sgemm.store(tile, c30, c31, c32, c33, 3 * NR);
        }
        if (WR > 4) {
            Sgemm.store(tile, c40, c41, c42, c43, 4 * NR);
        }
        if (WR > 5) {
            Sgemm.store(tile, c50, c51, c52, c53, 5 * NR);
        }
    }
}
