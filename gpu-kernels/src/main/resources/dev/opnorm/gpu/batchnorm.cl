/* batchnorm.cl: per-channel statistics with double accumulation (the precision of the CPU kernels),
 * x viewed as (n, c, hw). Reductions: one work-group of REDUCE_WG per channel ch; work-item t sums the
 * flattened (b, i) elements e = t, t + REDUCE_WG, ... in order, then a tree. Java twins: BatchNormTwins. */
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define BN_AT(e) (((e) / hw * c + ch) * hw + (e) % hw)

/* range c*REDUCE_WG, local REDUCE_WG: mean[ch] = sum x / (n*hw); var[ch] = sum (x - mean)^2 / (n*hw) */
__kernel void channel_mean_var(__global float *mean, __global float *var, __global const float *x,
                               const int n, const int c, const int hw) {
    __local double buf[REDUCE_WG];
    const int ch = get_group_id(0), t = get_local_id(0);
    const double count = (double) n * hw;
    double s = 0.0;
    for (int e = t; e < n * hw; e += REDUCE_WG) {
        s += x[BN_AT(e)];
    }
    buf[t] = s;
    TREE_REDUCE(buf, t)
    const double mu = buf[0] / count;
    barrier(CLK_LOCAL_MEM_FENCE); /* everyone has read buf[0] before it is overwritten */
    double ss = 0.0;
    for (int e = t; e < n * hw; e += REDUCE_WG) {
        const double dv = x[BN_AT(e)] - mu;
        ss += dv * dv;
    }
    buf[t] = ss;
    TREE_REDUCE(buf, t)
    if (t == 0) {
        mean[ch] = (float) mu;
        var[ch] = (float) (buf[0] / count);
    }
}

/* range n*c*hw: y = x * scale[ch] + shift[ch] (shift absent: hasShift == 0) */
__kernel void channel_affine(__global float *y, __global const float *x, __global const float *scale,
                             __global const float *shift, const int hasShift, const int n, const int c,
                             const int hw) {
    const int j = get_global_id(0);
    if (j < n * c * hw) {
        const int ch = j / hw % c;
        y[j] = x[j] * scale[ch] + (hasShift ? shift[ch] : 0.0f);
    }
}

/* range c*REDUCE_WG, local REDUCE_WG:
 * out = coef[ch] * (in - m1 - xhat * m2), m1 = mean(in), m2 = mean(in * xhat) over (n, hw), in double */
__kernel void bn_train_jacobian(__global float *out, __global const float *in, __global const float *xhat,
                                __global const float *coef, const int n, const int c, const int hw) {
    __local double buf1[REDUCE_WG];
    __local double buf2[REDUCE_WG];
    const int ch = get_group_id(0), t = get_local_id(0);
    const double count = (double) n * hw;
    double s1 = 0.0, s2 = 0.0;
    for (int e = t; e < n * hw; e += REDUCE_WG) {
        const int j = BN_AT(e);
        s1 += in[j];
        s2 += (double) in[j] * xhat[j];
    }
    buf1[t] = s1;
    buf2[t] = s2;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s_ = REDUCE_WG / 2; s_ > 0; s_ >>= 1) {
        if (t < s_) {
            buf1[t] += buf1[t + s_];
            buf2[t] += buf2[t + s_];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float m1 = (float) (buf1[0] / count), m2 = (float) (buf2[0] / count);
    const float k = coef[ch];
    for (int e = t; e < n * hw; e += REDUCE_WG) {
        const int j = BN_AT(e);
        out[j] = k * (in[j] - m1 - xhat[j] * m2);
    }
}

/* range c*REDUCE_WG, local REDUCE_WG: sumA[ch] += sum a; sumAB[ch] += sum a*b when hasB */
__kernel void channel_sums_accumulate(__global float *sumA, __global float *sumAB, __global const float *a,
                                      __global const float *b, const int hasB, const int n, const int c,
                                      const int hw) {
    __local double buf1[REDUCE_WG];
    __local double buf2[REDUCE_WG];
    const int ch = get_group_id(0), t = get_local_id(0);
    double s1 = 0.0, s2 = 0.0;
    for (int e = t; e < n * hw; e += REDUCE_WG) {
        const int j = BN_AT(e);
        s1 += a[j];
        if (hasB) {
            s2 += (double) a[j] * b[j];
        }
    }
    buf1[t] = s1;
    buf2[t] = s2;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s_ = REDUCE_WG / 2; s_ > 0; s_ >>= 1) {
        if (t < s_) {
            buf1[t] += buf1[t + s_];
            buf2[t] += buf2[t + s_];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) {
        sumA[ch] += (float) buf1[0];
        if (hasB) {
            sumAB[ch] += (float) buf2[0];
        }
    }
}

/* range c: the per-channel coefficients of BatchNorm2d from statistics (mean, var) - the batch
 * statistics in TRAIN mode, the running ones in EVAL mode - as the host layer computes them:
 * inv = 1 / sqrt(var + eps) (double, then float), negMeanInv = -mean * inv, scale = gamma * inv,
 * shift = beta - mean * scale (gamma = 1, beta = 0 when hasAffine == 0). All outputs overwritten. */
__kernel void bn_coefs(__global float *inv, __global float *negMeanInv, __global float *scale,
                       __global float *shift, __global const float *mean, __global const float *var,
                       __global const float *gamma, __global const float *beta, const int hasAffine,
                       const double eps, const int c) {
    const int ch = get_global_id(0);
    if (ch >= c) {
        return;
    }
    const float iv = (float) (1.0 / sqrt((double) var[ch] + eps));
    const float g = hasAffine ? gamma[ch] : 1.0f;
    const float b = hasAffine ? beta[ch] : 0.0f;
    const float sc = g * iv;
    inv[ch] = iv;
    negMeanInv[ch] = -mean[ch] * iv;
    scale[ch] = sc;
    shift[ch] = b - mean[ch] * sc;
}

/* range c: running statistics update of a TRAIN forward pass (BatchNorm2d's commit):
 * rm = (1 - m) rm + m mean, rv = (1 - m) rv + m var unbias, in double, then float. */
__kernel void bn_running_update(__global float *rm, __global float *rv, __global const float *mean,
                                __global const float *var, const double momentum, const double unbias,
                                const int c) {
    const int ch = get_global_id(0);
    if (ch >= c) {
        return;
    }
    rm[ch] = (float) ((1.0 - momentum) * rm[ch] + momentum * mean[ch]);
    rv[ch] = (float) ((1.0 - momentum) * rv[ch] + momentum * var[ch] * unbias);
}
