/* pooling.cl: x (n, c, H, W) -> y (n, c, P, Q), window KH x KW, stride, symmetric padding.
 * Java twins: PoolingTwins. The VJPs are gathers (one work-item per input element, windows visited
 * in ascending (p, q) order), so no two work-items write the same element and sums have a fixed order. */

/* range n*c*P*Q; padding never wins, the first maximum in row-major order wins ties, NaN propagates */
__kernel void max_pool_forward(__global float *y, __global int *argmax, __global const float *x,
                               const int n, const int c, const int H, const int W, const int KH,
                               const int KW, const int stride, const int pad, const int P, const int Q) {
    const int o = get_global_id(0);
    if (o >= n * c * P * Q) {
        return;
    }
    const int plane = o / (P * Q), p = o / Q % P, q = o % Q;
    const int base = plane * H * W;
    float best = -INFINITY;
    int bestIdx = -1;
    for (int r = 0; r < KH; r++) {
        const int ih = p * stride - pad + r;
        if (ih < 0 || ih >= H) {
            continue;
        }
        for (int s = 0; s < KW; s++) {
            const int iw = q * stride - pad + s;
            if (iw < 0 || iw >= W) {
                continue;
            }
            const int idx = base + ih * W + iw;
            const float v = x[idx];
            if (bestIdx < 0 || (!isnan(best) && (v > best || isnan(v)))) {
                best = v;
                bestIdx = idx;
            }
        }
    }
    y[o] = best;
    argmax[o] = bestIdx;
}

/* range len: dy[o] = dx[argmax[o]] */
__kernel void max_pool_jvp(__global float *dy, __global const float *dx, __global const int *argmax,
                           const int len) {
    const int o = get_global_id(0);
    if (o < len) {
        dy[o] = dx[argmax[o]];
    }
}

/* First and last output row/column whose window covers input row/column `i` (empty when lo > hi). */
int pool_lo(const int i, const int pad, const int k, const int stride) {
    const int num = i + pad - k + 1;
    return num <= 0 ? 0 : (num + stride - 1) / stride;
}

int pool_hi(const int i, const int pad, const int stride, const int P) {
    return min((i + pad) / stride, P - 1);
}

/* range n*c*H*W: gx[e] = sum over windows o covering e with argmax[o] == e of gy[o] */
__kernel void max_pool_vjp(__global float *gx, __global const float *gy, __global const int *argmax,
                           const int n, const int c, const int H, const int W, const int KH, const int KW,
                           const int stride, const int pad, const int P, const int Q) {
    const int e = get_global_id(0);
    if (e >= n * c * H * W) {
        return;
    }
    const int plane = e / (H * W), ih = e / W % H, iw = e % W;
    float acc = 0.0f;
    const int pHi = pool_hi(ih, pad, stride, P), qHi = pool_hi(iw, pad, stride, Q);
    for (int p = pool_lo(ih, pad, KH, stride); p <= pHi; p++) {
        for (int q = pool_lo(iw, pad, KW, stride); q <= qHi; q++) {
            const int o = (plane * P + p) * Q + q;
            if (argmax[o] == e) {
                acc += gy[o];
            }
        }
    }
    gx[e] = acc;
}

/* range n*c*P*Q: y = inv * sum of the window, inv = 1/(KH*KW) passed from the host (padding counts) */
__kernel void avg_pool_forward(__global float *y, __global const float *x, const float inv, const int n,
                               const int c, const int H, const int W, const int KH, const int KW,
                               const int stride, const int pad, const int P, const int Q) {
    const int o = get_global_id(0);
    if (o >= n * c * P * Q) {
        return;
    }
    const int plane = o / (P * Q), p = o / Q % P, q = o % Q;
    const int base = plane * H * W;
    float acc = 0.0f;
    for (int r = 0; r < KH; r++) {
        const int ih = p * stride - pad + r;
        if (ih < 0 || ih >= H) {
            continue;
        }
        for (int s = 0; s < KW; s++) {
            const int iw = q * stride - pad + s;
            if (iw >= 0 && iw < W) {
                acc += x[base + ih * W + iw];
            }
        }
    }
    y[o] = acc * inv;
}

/* range n*c*H*W: gx[e] = sum over windows o covering e of gy[o] * inv */
__kernel void avg_pool_vjp(__global float *gx, __global const float *gy, const float inv, const int n,
                           const int c, const int H, const int W, const int KH, const int KW,
                           const int stride, const int pad, const int P, const int Q) {
    const int e = get_global_id(0);
    if (e >= n * c * H * W) {
        return;
    }
    const int plane = e / (H * W), ih = e / W % H, iw = e % W;
    float acc = 0.0f;
    const int pHi = pool_hi(ih, pad, stride, P), qHi = pool_hi(iw, pad, stride, Q);
    for (int p = pool_lo(ih, pad, KH, stride); p <= pHi; p++) {
        for (int q = pool_lo(iw, pad, KW, stride); q <= qHi; q++) {
            acc += gy[(plane * P + p) * Q + q] * inv;
        }
    }
    gx[e] = acc;
}
