/* training.cl: the loss and the optimizer update of a device-resident training step.
 * Java twins: TrainingTwins (the same formulas in the same order); for the optimizer updates the host
 * implementation nn.kernels.Kernels (sgdUpdate, adamUpdate, rmspropUpdate), operation for operation. */
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

/* one row of softmax_xent_part (and of softmax_xent_rows = the part [0, n) with weight 1, which
 * leaves every value unchanged: 1.0f * x == x) */
static void xent_row(__global float *grad, __global float *lossRow, __global float *correct,
                     __global const float *z, __global const int *labels, const int i, const int rowOff,
                     const int count, const int k, const float weight) {
    const int y = labels[i], r = rowOff + i, off = r * k;
    double mx = -INFINITY;
    int arg = 0;
    int finite = 1;
    for (int j = 0; j < k; j++) {
        const float v = z[off + j];
        finite = finite && isfinite(v);
        if (v > mx) {
            mx = v;
            arg = j;
        }
    }
    double sum = 0.0;
    for (int j = 0; j < k; j++) {
        sum += exp(z[off + j] - mx);
    }
    const double lse = mx + log(sum);
    const int ok = finite && y >= 0 && y < k;
    lossRow[r] = ok ? (float) (lse - z[off + y]) : NAN;
    correct[r] = ok && arg == y ? 1.0f : 0.0f;
    for (int j = 0; j < k; j++) {
        const double p = exp(z[off + j] - lse);
        grad[off + j] = weight * (float) ((p - (j == y ? 1.0 : 0.0)) / count);
    }
}

/* range n (one work-item per example i): softmax cross-entropy on logits z (n, k), as
 * nn.loss.SoftmaxCrossEntropy: in double with the maximum logit subtracted;
 * grad[i, j] = (softmax(z_i)_j - [j == y_i]) / n (overwritten), lossRow[i] = logsumexp(z_i) - z_i[y_i],
 * correct[i] = 1 when the first maximal logit is the label, else 0. A label outside [0, k) or a
 * non-finite logit makes lossRow[i] NaN (the host reads the mean and reports it). */
__kernel void softmax_xent_rows(__global float *grad, __global float *lossRow, __global float *correct,
                                __global const float *z, __global const int *labels, const int n, const int k) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    xent_row(grad, lossRow, correct, z, labels, i, 0, n, k, 1.0f);
}

/* range 1: out[0] = mean of lossRow (summed in double, in example order), out[1] = sum of correct */
__kernel void mean_and_count(__global float *out, __global const float *lossRow, __global const float *correct,
                             const int n) {
    if (get_global_id(0) != 0) {
        return;
    }
    double s = 0.0, c = 0.0;
    for (int i = 0; i < n; i++) {
        s += lossRow[i];
        c += correct[i];
    }
    out[0] = (float) (s / n);
    out[1] = (float) c;
}

/* range len: torch.optim.SGD as nn.optim.Sgd (fma exactly where libtorch fuses):
 *   g = grad + wd * p; buf = first ? g : keep * g + mom * buf; g = nesterov ? g + mom * buf : buf;
 *   p -= lr * g. hasMomentum == 0: no buffer (buf is not touched). p and buf overwritten. */
__kernel void sgd_update(__global float *p, __global const float *grad, __global float *buf,
                         const float wd, const float mom, const float keep, const float negLr,
                         const int hasMomentum, const int first, const int nesterov, const int len) {
    const int j = get_global_id(0);
    if (j >= len) {
        return;
    }
    float g = grad[j];
    if (wd != 0.0f) {
        g = fma(wd, p[j], g);
    }
    if (hasMomentum) {
        const float b = first ? g : fma(keep, g, buf[j] * mom);
        buf[j] = b;
        g = nesterov ? fma(mom, b, g) : b;
    }
    p[j] = fma(negLr, g, p[j]);
}

/* range len: torch.optim.Adam / AdamW as nn.optim.Adam (no amsgrad), one step t of len elements:
 *   Adam:  g = fma(wd, p, grad)              AdamW: p = p * decay (decay = 1 - lr wd); g = grad
 *   m = fma(w1, g, b1 m)  (w1 = 1 - beta1)   v = fma(w2 g, g, b2 v)  (w2 = 1 - beta2)
 *   denom = sqrt(v) / bc2Sqrt + eps          p = p + negStep * m / denom
 * with the per-step scalars negStep = -lr / (1 - beta1^t) and bc2Sqrt = sqrt(1 - beta2^t) computed on
 * the host in double (StrictMath) exactly as the host optimizer. p, m, v overwritten. */
__kernel void adam_update(__global float *p, __global const float *grad, __global float *m, __global float *v,
                          const float wd, const float decay, const int decoupled, const float w1, const float b1,
                          const float w2, const float b2, const float negStep, const float bc2Sqrt,
                          const float eps, const int len) {
    const int j = get_global_id(0);
    if (j >= len) {
        return;
    }
    float g = grad[j];
    float pj = p[j];
    if (wd != 0.0f) {
        if (decoupled) {
            pj = pj * decay;
        } else {
            g = fma(wd, pj, g);
        }
    }
    const float mj = fma(w1, g, m[j] * b1);
    const float vj = fma(w2 * g, g, v[j] * b2);
    m[j] = mj;
    v[j] = vj;
    const float denom = sqrt(vj) / bc2Sqrt + eps;
    p[j] = pj + negStep * mj / denom;
}

/* range len: torch.optim.RMSprop as nn.optim.RmsProp (eps outside the square root):
 *   g = fma(wd, p, grad); sq = fma(w g, g, alpha sq)  (w = 1 - alpha)
 *   centered: ga = fma(w, g, alpha ga); avg = sqrt(fma(-ga, ga, sq)) + eps   else avg = sqrt(sq) + eps
 *   momentum: buf = mom buf + g / avg; p = fma(negLr, buf, p)                 else p = p + negLr g / avg
 * p, sq and (when used) ga, buf overwritten; unused buffers are not touched. */
__kernel void rmsprop_update(__global float *p, __global const float *grad, __global float *sq, __global float *ga,
                             __global float *buf, const float wd, const float alpha, const float w, const float eps,
                             const float mom, const float negLr, const int centered, const int hasMomentum,
                             const int len) {
    const int j = get_global_id(0);
    if (j >= len) {
        return;
    }
    float g = grad[j];
    if (wd != 0.0f) {
        g = fma(wd, p[j], g);
    }
    const float s = fma(w * g, g, sq[j] * alpha);
    sq[j] = s;
    float avg;
    if (centered) {
        const float a = fma(w, g, ga[j] * alpha);
        ga[j] = a;
        avg = sqrt(fma(-a, a, s)) + eps;
    } else {
        avg = sqrt(s) + eps;
    }
    if (hasMomentum) {
        const float b = buf[j] * mom + g / avg;
        buf[j] = b;
        p[j] = fma(negLr, b, p[j]);
    } else {
        p[j] = p[j] + negLr * g / avg;
    }
}

/* one work-group of REDUCE_WG: out[slot] = the number of NaN / infinite values in x[0, len) (as a float;
 * exact below 2^24). Counts are integers, so the tree order does not matter; it is still the fixed tree. */
__kernel void count_nonfinite(__global float *out, const int slot, __global const float *x, const int len) {
    __local int buf[REDUCE_WG];
    const int t = get_local_id(0);
    int c = 0;
    for (int i = t; i < len; i += REDUCE_WG) {
        c += isfinite(x[i]) ? 0 : 1;
    }
    buf[t] = c;
    TREE_REDUCE(buf, t)
    if (t == 0) {
        out[slot] = (float) buf[0];
    }
}

/* range count: softmax cross-entropy of rows [rowOff, rowOff + count) of the logits z (rows, k) against
 * labels[0, count), as Objective's part(): grad rows rowOff + i (overwritten) =
 * weight * (float) ((softmax - onehot) / count) (the gradient of weight * the part's MEAN loss),
 * lossRow[rowOff + i] and correct[rowOff + i] as softmax_xent_rows. */
__kernel void softmax_xent_part(__global float *grad, __global float *lossRow, __global float *correct,
                                __global const float *z, __global const int *labels, const int rowOff,
                                const int count, const int k, const float weight) {
    const int i = get_global_id(0);
    if (i >= count) {
        return;
    }
    xent_row(grad, lossRow, correct, z, labels, i, rowOff, count, k, weight);
}

/* range 1: out[outOff] = mean of lossRow[rowOff, rowOff + count) (double, in order),
 * out[outOff + 1] = sum of correct over the same rows */
__kernel void mean_and_count_part(__global float *out, const int outOff, __global const float *lossRow,
                                  __global const float *correct, const int rowOff, const int count) {
    if (get_global_id(0) != 0) {
        return;
    }
    double s = 0.0, c = 0.0;
    for (int i = 0; i < count; i++) {
        s += lossRow[rowOff + i];
        c += correct[rowOff + i];
    }
    out[outOff] = (float) (s / count);
    out[outOff + 1] = (float) c;
}

/* range len: dst[dstOff + i] = src[srcOff + i] (a device-to-device copy of a range) */
__kernel void copy_range(__global float *dst, const int dstOff, __global const float *src, const int srcOff,
                         const int len) {
    const int i = get_global_id(0);
    if (i < len) {
        dst[dstOff + i] = src[srcOff + i];
    }
}

/* range rows: h[r, j] = (float) (coef * p_j * (w_j - sum_l p_l w_l)) with p = s_r + onehot(labels[r]) (the
 * softmax recovered from s = softmax - onehot), in double: coef H_r w_r for the softmax cross-entropy's
 * Hessian in the logits H = diag(p) - p p^T (the input-gradient regularizer's term through the logits) */
__kernel void softmax_hessian_rows(__global float *h, __global const float *s, __global const float *w,
                                   __global const int *labels, const int rows, const int k, const double coef) {
    const int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    const int off = r * k, y = labels[r];
    double pw = 0.0;
    for (int j = 0; j < k; j++) {
        pw += ((double) s[off + j] + (j == y ? 1.0 : 0.0)) * w[off + j];
    }
    for (int j = 0; j < k; j++) {
        const double p = (double) s[off + j] + (j == y ? 1.0 : 0.0);
        h[off + j] = (float) (coef * p * (w[off + j] - pw));
    }
}
