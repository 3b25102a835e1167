package dev.opnorm.gpu;

import dev.opnorm.nn.kernels.Conv2dDims;

/**
 * Java twins of conv2d.cl: each {@code ...At} method computes what one work-item computes for one
 * output element, with the kernel's index formulas in the kernel's order. Used by tests, never for speed.
 */
public final class Conv2dTwins {
    private Conv2dTwins() {
    }

    /** conv_im2col: x at (c, r, s) = l of output position (nb, p, q) = j, or 0 in the padding. */
    static float im2col(float[] x, int l, int j, Conv2dDims d) {
        int R = d.r(), S = d.s(), P = d.p(), Q = d.q();
        int c = l / (R * S), r = (l / S) % R, s = l % S;
        int nb = j / (P * Q), p = (j / Q) % P, q = j % Q;
        int ih = p * d.stride() - d.pad() + r, iw = q * d.stride() - d.pad() + s;
        return (ih >= 0 && ih < d.h() && iw >= 0 && iw < d.w()) ? x[((nb * d.c() + c) * d.h() + ih) * d.w() + iw] : 0f;
    }

    /** conv_col2im_gy: gy at (k, r, s) = l seen from input position (nb, ih, iw) = j, or 0. */
    static float col2imGy(float[] gy, int l, int j, Conv2dDims d) {
        int R = d.r(), S = d.s(), H = d.h(), W = d.w(), P = d.p(), Q = d.q();
        int k = l / (R * S), r = (l / S) % R, s = l % S;
        int nb = j / (H * W), ih = (j / W) % H, iw = j % W;
        int ph = ih + d.pad() - r, qw = iw + d.pad() - s;
        if (ph < 0 || qw < 0 || ph % d.stride() != 0 || qw % d.stride() != 0) {
            return 0f;
        }
        int p = ph / d.stride(), q = qw / d.stride();
        return (p < P && q < Q) ? gy[((nb * d.k() + k) * P + p) * Q + q] : 0f;
    }

    /** conv2d_forward for output channel k and position j = (nb, p, q). */
    public static void forwardAt(int k, int j, float[] y, float[] x, float[] w, float[] b, Conv2dDims d) {
        int crs = d.c() * d.r() * d.s(), pq = d.p() * d.q();
        float acc = Tiled.accumulate(k, j, 0, crs, (i, l) -> w[i * crs + l], (l, jj) -> im2col(x, l, jj, d));
        int nb = j / pq;
        y[(nb * d.k() + k) * pq + j % pq] = b != null ? acc + b[k] : acc;
    }

    /** conv2d_vjp_input for input channel c and position j = (nb, ih, iw). */
    public static void vjpInputAt(int c, int j, float[] gx, float[] gy, float[] w, Conv2dDims d) {
        int rs = d.r() * d.s(), hw = d.h() * d.w();
        float acc = Tiled.accumulate(c, j, 0, d.k() * rs,
                (i, l) -> w[(l / rs * d.c() + i) * rs + l % rs], (l, jj) -> col2imGy(gy, l, jj, d));
        int nb = j / hw;
        gx[(nb * d.c() + c) * hw + j % hw] = acc;
    }

    /** conv2d_vjp_weight_part for split {@code split}, output channel k and weight column j = (c, r, s). */
    public static void vjpWeightPartAt(int split, int k, int j, float[] part, float[] gy, float[] x, int chunk,
                                       Conv2dDims d) {
        int pq = d.p() * d.q(), crs = d.c() * d.r() * d.s();
        int lBegin = split * chunk, lEnd = Math.min(lBegin + chunk, d.n() * pq);
        float acc = Tiled.accumulate(k, j, lBegin, lEnd,
                (i, l) -> gy[(l / pq * d.k() + i) * pq + l % pq], (l, jj) -> im2col(x, jj, l, d));
        part[(split * d.k() + k) * crs + j] = acc;
    }

    /** conv2d_vjp_weight_sum for weight element o. */
    public static void vjpWeightSumAt(int o, float[] gw, float[] part, int size, int splits) {
        float total = 0f;
        for (int sp = 0; sp < splits; sp++) {
            total += part[sp * size + o];
        }
        gw[o] += total;
    }

    /** conv2d_vjp_bias for channel k with reduction work-group wg. */
    public static void vjpBiasAt(int k, int wg, float[] gb, float[] gy, Conv2dDims d) {
        int pq = d.p() * d.q(), len = d.n() * pq;
        float[] buf = new float[wg];
        for (int t = 0; t < wg; t++) {
            float acc = 0f;
            for (int e = t; e < len; e += wg) {
                acc += gy[(e / pq * d.k() + k) * pq + e % pq];
            }
            buf[t] = acc;
        }
        gb[k] += Reductions.tree(buf, wg);
    }

    // ---- whole ranges, as the launches in OpenClOps cover them ----

    public static void forward(float[] y, float[] x, float[] w, float[] b, Conv2dDims d) {
        for (int k = 0; k < d.k(); k++) {
            for (int j = 0; j < d.n() * d.p() * d.q(); j++) {
                forwardAt(k, j, y, x, w, b, d);
            }
        }
    }

    public static void vjpInput(float[] gx, float[] gy, float[] w, Conv2dDims d) {
        for (int c = 0; c < d.c(); c++) {
            for (int j = 0; j < d.n() * d.h() * d.w(); j++) {
                vjpInputAt(c, j, gx, gy, w, d);
            }
        }
    }

    /** Both weight-gradient kernels with {@code splits} parts (see OpenClOps.vjpWeightSplits). */
    public static void vjpWeight(float[] gw, float[] gy, float[] x, Conv2dDims d, int splits) {
        int chunk = OpenClOps.vjpWeightChunk(d.n() * d.p() * d.q(), splits);
        int used = OpenClOps.ceilDiv(d.n() * d.p() * d.q(), chunk);
        float[] part = new float[used * d.weightSize()];
        for (int sp = 0; sp < used; sp++) {
            for (int k = 0; k < d.k(); k++) {
                for (int j = 0; j < d.c() * d.r() * d.s(); j++) {
                    vjpWeightPartAt(sp, k, j, part, gy, x, chunk, d);
                }
            }
        }
        for (int o = 0; o < d.weightSize(); o++) {
            vjpWeightSumAt(o, gw, part, d.weightSize(), used);
        }
    }

    public static void vjpBias(float[] gb, float[] gy, Conv2dDims d, int wg) {
        for (int k = 0; k < d.k(); k++) {
            vjpBiasAt(k, wg, gb, gy, d);
        }
    }
}
