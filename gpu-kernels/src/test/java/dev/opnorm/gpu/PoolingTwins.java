package dev.opnorm.gpu;

import dev.opnorm.nn.kernels.PoolDims;

/**
 * Java twins of pooling.cl: one call = one work-item (one output element for the forward passes and
 * the max-pool JVP, one input element for the VJP gathers). Used by tests, never for speed.
 */
public final class PoolingTwins {
    private PoolingTwins() {
    }

    public static void maxForwardAt(int o, float[] y, int[] argmax, float[] x, PoolDims d) {
        int P = d.p(), Q = d.q(), H = d.h(), W = d.w();
        int plane = o / (P * Q), p = o / Q % P, q = o % Q;
        int base = plane * H * W;
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
                int idx = base + ih * W + iw;
                float v = x[idx];
                if (bestIdx < 0 || (!Float.isNaN(best) && (v > best || Float.isNaN(v)))) {
                    best = v;
                    bestIdx = idx;
                }
            }
        }
        y[o] = best;
        argmax[o] = bestIdx;
    }

    public static void maxJvpAt(int o, float[] dy, float[] dx, int[] argmax) {
        dy[o] = dx[argmax[o]];
    }

    /** pool_lo: the first output row whose window covers input row i. */
    static int lo(int i, int pad, int k, int stride) {
        int num = i + pad - k + 1;
        return num <= 0 ? 0 : (num + stride - 1) / stride;
    }

    /** pool_hi: the last output row whose window covers input row i. */
    static int hi(int i, int pad, int stride, int p) {
        return Math.min((i + pad) / stride, p - 1);
    }

    public static void maxVjpAt(int e, float[] gx, float[] gy, int[] argmax, PoolDims d) {
        int P = d.p(), Q = d.q(), H = d.h(), W = d.w();
        int plane = e / (H * W), ih = e / W % H, iw = e % W;
        float acc = 0f;
        int pHi = hi(ih, d.pad(), d.stride(), P), qHi = hi(iw, d.pad(), d.stride(), Q);
        for (int p = lo(ih, d.pad(), d.kh(), d.stride()); p <= pHi; p++) {
            for (int q = lo(iw, d.pad(), d.kw(), d.stride()); q <= qHi; q++) {
                int o = (plane * P + p) * Q + q;
                if (argmax[o] == e) {
                    acc += gy[o];
                }
            }
        }
        gx[e] = acc;
    }

    public static void avgForwardAt(int o, float[] y, float[] x, PoolDims d) {
        int P = d.p(), Q = d.q(), H = d.h(), W = d.w();
        float inv = 1f / (d.kh() * d.kw());
        int plane = o / (P * Q), p = o / Q % P, q = o % Q;
        int base = plane * H * W;
        float acc = 0f;
        for (int r = 0; r < d.kh(); r++) {
            int ih = p * d.stride() - d.pad() + r;
            if (ih < 0 || ih >= H) {
                continue;
            }
            for (int s = 0; s < d.kw(); s++) {
                int iw = q * d.stride() - d.pad() + s;
                if (iw >= 0 && iw < W) {
                    acc += x[base + ih * W + iw];
                }
            }
        }
        y[o] = acc * inv;
    }

    public static void avgVjpAt(int e, float[] gx, float[] gy, PoolDims d) {
        int P = d.p(), Q = d.q(), H = d.h(), W = d.w();
        float inv = 1f / (d.kh() * d.kw());
        int plane = e / (H * W), ih = e / W % H, iw = e % W;
        float acc = 0f;
        int pHi = hi(ih, d.pad(), d.stride(), P), qHi = hi(iw, d.pad(), d.stride(), Q);
        for (int p = lo(ih, d.pad(), d.kh(), d.stride()); p <= pHi; p++) {
            for (int q = lo(iw, d.pad(), d.kw(), d.stride()); q <= qHi; q++) {
                acc += gy[(plane * P + p) * Q + q] * inv;
            }
        }
        gx[e] = acc;
    }
}
