/* conv2d.cl: convolution (cross-correlation) as implicit GEMMs on the tiled body of common.cl.
 * x (n, C, H, W), w (K, C, R, S), y (n, K, P, Q); stride and symmetric zero padding pad.
 * Java twins: Conv2dTwins (same index formulas, same order). */

/* ---- forward: y[nb, k, p, q] = sum over l = (c, r, s) of w[k, l] * x[nb, c, ih, iw] (+ b[k] at the end)
 * GEMM view: i = k (M = K), j = (nb, p, q) (N = n*P*Q), l = (c, r, s) (C*R*S). */
float conv_im2col(__global const float *x, const int l, const int j, const int C, const int H,
                         const int W, const int R, const int S, const int P, const int Q,
                         const int stride, const int pad) {
    const int c = l / (R * S), r = (l / S) % R, s = l % S;
    const int nb = j / (P * Q), p = (j / Q) % P, q = j % Q;
    const int ih = p * stride - pad + r, iw = q * stride - pad + s;
    return (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[((nb * C + c) * H + ih) * W + iw] : 0.0f;
}

#define FWD_A(i, l) w[(i) * (C * R * S) + (l)]
#define FWD_B(l, j) conv_im2col(x, l, j, C, H, W, R, S, P, Q, stride, pad)

/* range: (ceil(n*P*Q / TS) * LS, ceil(K / TSM) * LS), local (LS, LS) */
__kernel void conv2d_forward(__global float *y, __global const float *x, __global const float *w,
                             __global const float *bias, const int hasBias,
                             const int n, const int C, const int H, const int W, const int K, const int R,
                             const int S, const int stride, const int pad, const int P, const int Q) {
    TILED_ACCUMULATE(K, n * P * Q, 0, C * R * S, FWD_A, FWD_B)
    for (int aa = 0; aa < WPTM; aa++) {
        for (int bb = 0; bb < WPT; bb++) {
            const int k = i0 + ty + aa * LS, j = j0 + tx + bb * LS;
            if (k < K && j < n * P * Q) {
                const int nb = j / (P * Q), pq = j % (P * Q);
                y[(nb * K + k) * (P * Q) + pq] = hasBias ? acc[aa][bb] + bias[k] : acc[aa][bb];
            }
        }
    }
}

/* ---- input VJP: gx[nb, c, ih, iw] = sum over l = (k, r, s) of w[k, c, r, s] * gy[nb, k, p, q]
 * where ih = p*stride - pad + r (terms whose p is not an integer in [0, P) are zero); a gather, so
 * every gx element is written by one work-item. GEMM view: i = c (M = C), j = (nb, ih, iw) (N = n*H*W),
 * l = (k, r, s) (K*R*S). */
float conv_col2im_gy(__global const float *gy, const int l, const int j, const int K, const int H,
                            const int W, const int R, const int S, const int P, const int Q,
                            const int stride, const int pad) {
    const int k = l / (R * S), r = (l / S) % R, s = l % S;
    const int nb = j / (H * W), ih = (j / W) % H, iw = j % W;
    const int ph = ih + pad - r, qw = iw + pad - s;
    if (ph < 0 || qw < 0 || ph % stride != 0 || qw % stride != 0) {
        return 0.0f;
    }
    const int p = ph / stride, q = qw / stride;
    return (p < P && q < Q) ? gy[((nb * K + k) * P + p) * Q + q] : 0.0f;
}

#define VJPIN_A(i, l) w[((l) / (R * S) * C + (i)) * (R * S) + (l) % (R * S)]
#define VJPIN_B(l, j) conv_col2im_gy(gy, l, j, K, H, W, R, S, P, Q, stride, pad)

/* range: (ceil(n*H*W / TS) * LS, ceil(C / TSM) * LS), local (LS, LS) */
__kernel void conv2d_vjp_input(__global float *gx, __global const float *gy, __global const float *w,
                               const int n, const int C, const int H, const int W, const int K,
                               const int R, const int S, const int stride, const int pad, const int P,
                               const int Q) {
    TILED_ACCUMULATE(C, n * H * W, 0, K * R * S, VJPIN_A, VJPIN_B)
    for (int aa = 0; aa < WPTM; aa++) {
        for (int bb = 0; bb < WPT; bb++) {
            const int c = i0 + ty + aa * LS, j = j0 + tx + bb * LS;
            if (c < C && j < n * H * W) {
                const int nb = j / (H * W), hw = j % (H * W);
                gx[(nb * C + c) * (H * W) + hw] = acc[aa][bb];
            }
        }
    }
}

/* ---- weight VJP, split over the reduction: part[split, k, (c, r, s)] = sum over l = (nb, p, q) in the
 * split's range [split*chunk, min((split+1)*chunk, n*P*Q)) of gy[nb, k, p, q] * x[nb, c, ih, iw].
 * GEMM view: i = k (M = K), j = (c, r, s) (N = C*R*S), l = (nb, p, q). Then conv2d_vjp_weight_sum adds
 * the splits in order: gw += (0 + part[0] + part[1] + ...). Deterministic for a fixed split count. */
#define VJPW_A(i, l) gy[((l) / (P * Q) * K + (i)) * (P * Q) + (l) % (P * Q)]
#define VJPW_B(l, j) conv_im2col(x, j, l, C, H, W, R, S, P, Q, stride, pad)

/* range: (ceil(C*R*S / TS) * LS, ceil(K / TSM) * LS, splits), local (LS, LS, 1) */
__kernel void conv2d_vjp_weight_part(__global float *part, __global const float *gy,
                                     __global const float *x, const int chunk,
                                     const int n, const int C, const int H, const int W, const int K,
                                     const int R, const int S, const int stride, const int pad,
                                     const int P, const int Q) {
    const int split = get_global_id(2);
    const int lBegin = split * chunk, lEnd = min(lBegin + chunk, n * P * Q);
    TILED_ACCUMULATE(K, C * R * S, lBegin, lEnd, VJPW_A, VJPW_B)
    for (int aa = 0; aa < WPTM; aa++) {
        for (int bb = 0; bb < WPT; bb++) {
            const int k = i0 + ty + aa * LS, j = j0 + tx + bb * LS;
            if (k < K && j < C * R * S) {
                part[(split * K + k) * (C * R * S) + j] = acc[aa][bb];
            }
        }
    }
}

/* range: (K*C*R*S); gw[o] += sum over splits of part[split, o], split ascending from 0 */
__kernel void conv2d_vjp_weight_sum(__global float *gw, __global const float *part, const int size,
                                    const int splits) {
    const int o = get_global_id(0);
    if (o >= size) {
        return;
    }
    float total = 0.0f;
    for (int sp = 0; sp < splits; sp++) {
        total += part[sp * size + o];
    }
    gw[o] += total;
}

/* ---- bias VJP: gb[k] += sum over (nb, i) of gy[nb, k, i]; one work-group of REDUCE_WG per k,
 * work-item t sums elements e = t, t + REDUCE_WG, ... of the flattened (nb, i) range, then a tree. */
__kernel void conv2d_vjp_bias(__global float *gb, __global const float *gy, const int n, const int K,
                              const int PQ) {
    __local float buf[REDUCE_WG];
    const int k = get_group_id(0), t = get_local_id(0);
    float acc = 0.0f;
    for (int e = t; e < n * PQ; e += REDUCE_WG) {
        acc += gy[(e / PQ * K + k) * PQ + e % PQ];
    }
    buf[t] = acc;
    TREE_REDUCE(buf, t)
    if (t == 0) {
        gb[k] += buf[0];
    }
}
