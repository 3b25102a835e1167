package dev.opnorm.nn.kernels;

import static dev.opnorm.nn.kernels.Sgemm.MR;
import static dev.opnorm.nn.kernels.Sgemm.NR;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * The operands that turn a convolution into one {@link Sgemm} over the whole batch, with the im2col
 * matrix never materialized: the packers read the activation tensor directly (implicit im2col), and
 * the sink scatters tiles back into NCHW.
 *
 * <pre>
 * forward   y (K x N*P*Q)   = W (K x C*R*S)             * im2col(x) (C*R*S x N*P*Q)
 * vjpInput  gx (C x N*H*W)  = W^T (C x K*R*S)           * im2colT(gy) (K*R*S x N*H*W)   (transposed conv)
 * vjpWeight gw (K x C*R*S) += gy (K x N*P*Q)             * im2col(x)^T (N*P*Q x C*R*S)
 * </pre>
 *
 * im2colT(gy)[(k, r, s), (n, h, w)] = gy[n, k, (h + pad - r) / stride, (w + pad - s) / stride] where
 * both divisions are exact and in range, else 0: the input VJP is a direct sum over output positions,
 * no col2im scatter, so each gx element is written by exactly one tile (determinism, no races). When
 * that matrix is mostly zeros, {@link #preferCol2im} picks dcol = W^T gy followed by {@link #col2im},
 * which gathers per input plane in a fixed order.
 */
final class ConvPack {
    private ConvPack() {
    }

    /**
     * Implicit im2col of a source tensor (n, cs, hs, ws), rows (ch, r, s) over cs*R*S, columns (n, p, q)
     * over N*P*Q. Forward (stride mul): source row = p*stride + r - pad. Transposed (stride div): source row
     * = (p + pad - r) / stride when exact.
     */
    static final class Im2colB extends Sgemm.PackB {
        private static final int SHORT_RUN = 8;
        private final float[] x;
        private final int cs, hs, ws, r, s, gridP, gridQ, stride, pad;
        private final boolean transposed;

        Im2colB(float[] x, int cs, int hs, int ws, int r, int s, int gridP, int gridQ, int stride, int pad,
                boolean transposed) {
            this.x = x;
            this.cs = cs;
            this.hs = hs;
            this.ws = ws;
            this.r = r;
            this.s = s;
            this.gridP = gridP;
            this.gridQ = gridQ;
            this.stride = stride;
            this.pad = pad;
            this.transposed = transposed;
        }

        static Im2colB forward(float[] x, Conv2dDims d) {
            return new Im2colB(x, d.c(), d.h(), d.w(), d.r(), d.s(), d.p(), d.q(), d.stride(), d.pad(), false);
        }

        static Im2colB transposed(float[] gy, Conv2dDims d) {
            return new Im2colB(gy, d.k(), d.p(), d.q(), d.r(), d.s(), d.h(), d.w(), d.stride(), d.pad(), true);
        }

        @Override
        void pack(float[] dst, int l0, int kc, int j0, int cols) {
            int rs = r * s, pq = gridP * gridQ;
            boolean unit = stride == 1;
            for (int s0 = 0; s0 < cols; s0 += NR) {
                int base = (s0 / NR) * kc * NR, live = Math.min(NR, cols - s0);
                int jStart = j0 + s0;
                int n0 = jStart / pq, p0 = (jStart % pq) / gridQ, q0 = jStart % gridQ;
                for (int l = 0; l < kc; l++) {
                    int ll = l0 + l, ch = ll / rs, rr = (ll % rs) / s, ss = ll % s;
                    int offH = transposed ? pad - rr : rr - pad, offW = transposed ? pad - ss : ss - pad;
                    int d = base + l * NR;
                    int n = n0, p = p0, q = q0, jj = 0;
                    while (jj < live) {
                        int run = Math.min(live - jj, gridQ - q); // columns sharing (n, p): consecutive q
                        int plane = (n * cs + ch) * hs;
                        if (unit) {
                            int ih = p + offH;
                            if (ih < 0 || ih >= hs) {
                                Arrays.fill(dst, d + jj, d + jj + run, 0f);
                            } else {
                                int iw0 = q + offW, row = (plane + ih) * ws;
                                if (run <= SHORT_RUN) { // small maps: a call per run would cost more than the copy
                                    for (int t = 0, iw = iw0; t < run; t++, iw++) {
                                        dst[d + jj + t] = iw >= 0 && iw < ws ? x[row + iw] : 0f;
                                    }
                                    jj += run;
                                    q = 0;
                                    if (++p == gridP) {
                                        p = 0;
                                        n++;
                                    }
                                    continue;
                                }
                                int lo = Math.min(run, Math.max(0, -iw0)), hi = Math.max(lo, Math.min(run, ws - iw0));
                                if (lo > 0) {
                                    Arrays.fill(dst, d + jj, d + jj + lo, 0f);
                                }
                                if (hi > lo) {
                                    System.arraycopy(x, row + iw0 + lo, dst, d + jj + lo, hi - lo);
                                }
                                if (hi < run) {
                                    Arrays.fill(dst, d + jj + hi, d + jj + run, 0f);
                                }
                            }
                        } else {
                            for (int t = 0; t < run; t++) {
                                dst[d + jj + t] = at(plane, p, q + t, offH, offW);
                            }
                        }
                        jj += run;
                        q = 0;
                        if (++p == gridP) {
                            p = 0;
                            n++;
                        }
                    }
                    if (live < NR) {
                        Arrays.fill(dst, d + live, d + NR, 0f);
                    }
                }
            }
        }

        /** Element at grid position (p, q) of source plane row base {@code plane} = (n*cs + ch)*hs, stride > 1. */
        private float at(int plane, int p, int q, int offH, int offW) {
            int ih, iw;
            if (transposed) {
                int nh = p + offH, nw = q + offW;
                if (nh < 0 || nw < 0 || nh % stride != 0 || nw % stride != 0) {
                    return 0f;
                }
                ih = nh / stride;
                iw = nw / stride;
            } else {
                ih = p * stride + offH;
                iw = q * stride + offW;
            }
            return ih >= 0 && ih < hs && iw >= 0 && iw < ws ? x[(plane + ih) * ws + iw] : 0f;
        }
    }

    /** W^T as the A operand of the input VJP: A(c, (k, r, s)) = w[((k*C + c)*R + r)*S + s]. */
    static final class WeightTA extends Sgemm.PackA {
        private final float[] w;
        private final int c, rs;

        WeightTA(float[] w, Conv2dDims d) {
            this.w = w;
            this.c = d.c();
            this.rs = d.r() * d.s();
        }

        @Override
        void pack(float[] dst, int i0, int rows, int l0, int kc) {
            for (int s0 = 0; s0 < rows; s0 += MR) {
                int base = (s0 / MR) * kc * MR, live = Math.min(MR, rows - s0);
                for (int l = 0; l < kc; l++) {
                    int ll = l0 + l, k = ll / rs, t = ll % rs, d = base + l * MR;
                    int src = (k * c + i0 + s0) * rs + t;
                    for (int ii = 0; ii < live; ii++) {
                        dst[d + ii] = w[src + ii * rs];
                    }
                    for (int ii = live; ii < MR; ii++) {
                        dst[d + ii] = 0f;
                    }
                }
            }
        }
    }

    /** gy as the A operand of the weight VJP: A(k, (n, pq)) = gy[(n*K + k)*PQ + pq]. */
    static final class CotangentA extends Sgemm.PackA {
        private final float[] gy;
        private final int k, pq;

        CotangentA(float[] gy, Conv2dDims d) {
            this.gy = gy;
            this.k = d.k();
            this.pq = d.p() * d.q();
        }

        @Override
        void pack(float[] dst, int i0, int rows, int l0, int kc) {
            for (int s0 = 0; s0 < rows; s0 += MR) {
                int base = (s0 / MR) * kc * MR, live = Math.min(MR, rows - s0);
                for (int ii = 0; ii < MR; ii++) {
                    if (ii >= live) {
                        for (int l = 0; l < kc; l++) {
                            dst[base + l * MR + ii] = 0f;
                        }
                        continue;
                    }
                    int row = i0 + s0 + ii;
                    int l = 0;
                    while (l < kc) { // runs of consecutive pq inside one sample
                        int ll = l0 + l, n = ll / pq, t = ll % pq, run = Math.min(kc - l, pq - t);
                        int src = (n * k + row) * pq + t, d = base + l * MR + ii;
                        for (int u = 0; u < run; u++) {
                            dst[d + u * MR] = gy[src + u];
                        }
                        l += run;
                    }
                }
            }
        }
    }

    /** im2col(x)^T as the B operand of the weight VJP: B((n, p, q), (c, r, s)) = x[n, c, p*st - pad + r, q*st - pad + s]. */
    static final class Im2colTB extends Sgemm.PackB {
        private final float[] x;
        private final int c, h, w, r, s, p, q, stride, pad;

        Im2colTB(float[] x, Conv2dDims d) {
            this.x = x;
            this.c = d.c();
            this.h = d.h();
            this.w = d.w();
            this.r = d.r();
            this.s = d.s();
            this.p = d.p();
            this.q = d.q();
            this.stride = d.stride();
            this.pad = d.pad();
        }

        @Override
        void pack(float[] dst, int l0, int kc, int j0, int cols) {
            int rs = r * s, pq = p * q;
            for (int s0 = 0; s0 < cols; s0 += NR) {
                int base = (s0 / NR) * kc * NR, live = Math.min(NR, cols - s0);
                for (int jj = 0; jj < NR; jj++) {
                    int d = base + jj;
                    if (jj >= live) {
                        for (int l = 0; l < kc; l++) {
                            dst[d + l * NR] = 0f;
                        }
                        continue;
                    }
                    int col = j0 + s0 + jj, ch = col / rs, rr = (col % rs) / s, ss = col % s;
                    int l = 0;
                    while (l < kc) { // runs of consecutive q inside one (n, p)
                        int ll = l0 + l, n = ll / pq, t = ll % pq, pp = t / q, qq = t % q;
                        int run = Math.min(kc - l, q - qq);
                        int ih = pp * stride - pad + rr;
                        int o = d + l * NR;
                        if (ih < 0 || ih >= h) {
                            for (int u = 0; u < run; u++) {
                                dst[o + u * NR] = 0f;
                            }
                        } else {
                            int row = ((n * c + ch) * h + ih) * w;
                            int iw = qq * stride - pad + ss;
                            for (int u = 0; u < run; u++, iw += stride) {
                                dst[o + u * NR] = iw >= 0 && iw < w ? x[row + iw] : 0f;
                            }
                        }
                        l += run;
                    }
                }
            }
        }
    }

    /** An NCHW tensor (n, M, PQ) read as the (M x N*PQ) matrix B(i, (n, t)) = y[(n*M + i)*PQ + t]. */
    static final class NchwB extends Sgemm.PackB {
        private final float[] y;
        private final int m, pq;

        NchwB(float[] y, int m, int pq) {
            this.y = y;
            this.m = m;
            this.pq = pq;
        }

        @Override
        void pack(float[] dst, int l0, int kc, int j0, int cols) {
            for (int s0 = 0; s0 < cols; s0 += NR) {
                int base = (s0 / NR) * kc * NR, live = Math.min(NR, cols - s0), jStart = j0 + s0;
                for (int l = 0; l < kc; l++) {
                    int d = base + l * NR, jj = 0;
                    while (jj < live) {
                        int j = jStart + jj, n = j / pq, t = j % pq, run = Math.min(live - jj, pq - t);
                        System.arraycopy(y, (n * m + l0 + l) * pq + t, dst, d + jj, run);
                        jj += run;
                    }
                    if (live < NR) {
                        Arrays.fill(dst, d + live, d + NR, 0f);
                    }
                }
            }
        }
    }

    /** gy^T as a B operand: B((n, t), k) = gy[(n*K + k)*PQ + t], for the weight gradient. */
    static final class NchwTB extends Sgemm.PackB {
        private final float[] gy;
        private final int k, pq;

        NchwTB(float[] gy, int k, int pq) {
            this.gy = gy;
            this.k = k;
            this.pq = pq;
        }

        @Override
        void pack(float[] dst, int l0, int kc, int j0, int cols) {
            for (int s0 = 0; s0 < cols; s0 += NR) {
                int base = (s0 / NR) * kc * NR, live = Math.min(NR, cols - s0);
                for (int jj = 0; jj < NR; jj++) {
                    int d = base + jj;
                    if (jj >= live) {
                        for (int l = 0; l < kc; l++) {
                            dst[d + l * NR] = 0f;
                        }
                        continue;
                    }
                    int ch = j0 + s0 + jj, l = 0;
                    while (l < kc) { // runs of consecutive t inside one sample
                        int ll = l0 + l, n = ll / pq, t = ll % pq, run = Math.min(kc - l, pq - t);
                        int src = (n * k + ch) * pq + t, o = d + l * NR;
                        for (int u = 0; u < run; u++) {
                            dst[o + u * NR] = gy[src + u];
                        }
                        l += run;
                    }
                }
            }
        }
    }

    /**
     * Whether the input VJP should go through dcol = W^T gy and col2im instead of one implicit GEMM on
     * im2colT(gy). A rough cost model in nanoseconds per core (about 0.01 ns per flop in the GEMM, 0.5 ns
     * per packed B element, 1 ns per dcol element written and read back): the implicit GEMM wins for
     * stride 1 "same" convs with many input channels; col2im wins when im2colT is mostly structural
     * zeros (stride 2, "valid" padding on small maps) or when the input has few channels, so that
     * packing im2colT (K*R*S rows) would cost more than the multiply-adds it feeds.
     */
    static boolean preferCol2im(Conv2dDims d) {
        double density = validPairs(d.h(), d.r(), d.p(), d.stride(), d.pad()) / ((double) d.h() * d.r())
                * validPairs(d.w(), d.s(), d.q(), d.stride(), d.pad()) / ((double) d.w() * d.s());
        double nhw = (double) d.n() * d.h() * d.w(), npq = (double) d.n() * d.p() * d.q();
        double krs = (double) d.k() * d.r() * d.s(), crs = (double) d.c() * d.r() * d.s();
        double implicit = 0.01 * 2 * d.c() * nhw * krs + 0.5 * krs * nhw;
        double col2im = 0.01 * 2 * crs * npq * d.k() + 0.5 * d.k() * npq + 1.0 * crs * npq;
        return density < 0.5 || col2im < implicit;
    }

    private static long validPairs(int in, int taps, int out, int stride, int pad) {
        long count = 0;
        for (int o = 0; o < out; o++) {
            for (int t = 0; t < taps; t++) {
                int i = o * stride - pad + t;
                if (i >= 0 && i < in) {
                    count++;
                }
            }
        }
        return count;
    }

    /**
     * gx[n, c, :, :] = col2im(dcol) for planes [u0, u1) of (n, c), where dcol is (C*R*S x N*P*Q) row-major.
     * Each gx element sums its taps in (r, s, p, q) order: fixed, whatever the split over planes.
     */
    static void col2im(float[] gx, float[] dcol, Conv2dDims d, int u0, int u1) {
        int P = d.p(), Q = d.q(), H = d.h(), W = d.w(), rs = d.r() * d.s(), npq = d.n() * P * Q;
        Arrays.fill(gx, u0 * H * W, u1 * H * W, 0f);
        for (int u = u0; u < u1; u++) {
            int n = u / d.c(), c = u % d.c(), plane = u * H * W;
            for (int r = 0; r < d.r(); r++) {
                for (int s = 0; s < d.s(); s++) {
                    int row = (c * rs + r * d.s() + s) * npq + n * P * Q;
                    for (int p = 0; p < P; p++) {
                        int ih = p * d.stride() - d.pad() + r;
                        if (ih < 0 || ih >= H) {
                            continue;
                        }
                        for (int q = 0; q < Q; q++) {
                            int iw = q * d.stride() - d.pad() + s;
                            if (iw >= 0 && iw < W) {
                                gx[plane + ih * W + iw] += dcol[row + p * Q + q];
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Tiles of an (M x N*PQ) product scattered into an NCHW tensor (n, M, PQ): C(i, (n, t)) at
     * y[(n*M + i)*PQ + t]. First slice overwrites (plus bias[i] if given), later slices add.
     */
    static final class NchwC extends Sgemm.Sink {
        private final float[] y;
        private final float[] bias;
        private final int m, pq;

        NchwC(float[] y, float[] bias, int m, int pq) {
            this.y = y;
            this.bias = bias;
            this.m = m;
            this.pq = pq;
        }

        @Override
        void write(float[] tile, int i0, int rows, int j0, int cols, boolean first) {
            int jj = 0, n = j0 / pq, t = j0 % pq;
            while (jj < cols) { // runs of columns inside one sample; (n, t) advance without divisions
                int run = Math.min(cols - jj, pq - t);
                for (int ii = 0; ii < rows; ii++) {
                    int i = i0 + ii, o = (n * m + i) * pq + t, src = ii * NR + jj;
                    int u = 0;
                    if (first) {
                        float b = bias == null ? 0f : bias[i];
                        if (Simd.ENABLED) {
                            for (int bound = Simd.F.loopBound(run); u < bound; u += Simd.LANES) {
                                FloatVector.fromArray(Simd.F, tile, src + u).add(b).intoArray(y, o + u);
                            }
                        }
                        for (; u < run; u++) {
                            y[o + u] = tile[src + u] + b;
                        }
                    } else {
                        if (Simd.ENABLED) {
                            for (int bound = Simd.F.loopBound(run); u < bound; u += Simd.LANES) {
                                FloatVector.fromArray(Simd.F, tile, src + u).add(FloatVector.fromArray(Simd.F, y, o + u))
                                        .intoArray(y, o + u);
                            }
                        }
                        for (; u < run; u++) {
                            y[o + u] += tile[src + u];
                        }
                    }
                }
                jj += run;
                t += run;
                if (t == pq) {
                    t = 0;
                    n++;
                }
            }
        }
    }
}
