/* elementwise.cl: one work-item per element (range: len) unless stated; row reductions use one
 * work-group of REDUCE_WG per row. Java twins: ElementwiseTwins. */

__kernel void fill(__global float *y, const float v, const int len) {
    const int i = get_global_id(0);
    if (i < len) {
        y[i] = v;
    }
}

/* ReLU'(0) = 0: the predicate is x > 0 (strict), the same in relu, relu_mask and on every backend */
__kernel void relu(__global float *y, __global const float *x, const int len) {
    const int i = get_global_id(0);
    if (i < len) {
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    }
}

__kernel void relu_mask(__global float *out, __global const float *in, __global const float *x, const int len) {
    const int i = get_global_id(0);
    if (i < len) {
        out[i] = x[i] > 0.0f ? in[i] : 0.0f;
    }
}

/* y += a * x (a rounded product, then a rounded sum: FP_CONTRACT OFF) */
__kernel void axpy(__global float *y, const float a, __global const float *x, const int len) {
    const int i = get_global_id(0);
    if (i < len) {
        y[i] += a * x[i];
    }
}

__kernel void add(__global float *y, __global const float *a, __global const float *b, const int len) {
    const int i = get_global_id(0);
    if (i < len) {
        y[i] = a[i] + b[i];
    }
}

__kernel void scale(__global float *y, const float alpha, __global const float *x, const int len) {
    const int i = get_global_id(0);
    if (i < len) {
        y[i] = alpha * x[i];
    }
}

/* range: m*n; c[i, j] += bias[j] */
__kernel void add_row_bias(__global float *c, __global const float *bias, const int m, const int n) {
    const int e = get_global_id(0);
    if (e < m * n) {
        c[e] += bias[e % n];
    }
}

/* range: n (one work-item per column, rows summed in order: the reference's order) */
__kernel void sum_rows_accumulate(__global float *gb, __global const float *g, const int m, const int n) {
    const int j = get_global_id(0);
    if (j < n) {
        float acc = 0.0f;
        for (int i = 0; i < m; i++) {
            acc += g[i * n + j];
        }
        gb[j] += acc;
    }
}

/* One work-group per row r (range rows*REDUCE_WG, local REDUCE_WG):
 * out[outOff + r] = sum over i of a[r*cols + i] * b[r*cols + i]; work-item t sums i = t, t+REDUCE_WG, ...
 * in order, then a tree. With a == b this is the squared l2 norm of each row (batched power iteration). */
__kernel void dot_rows(__global float *out, const int outOff, __global const float *a,
                       __global const float *b, const int cols) {
    __local float buf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    float acc = 0.0f;
    for (int i = t; i < cols; i += REDUCE_WG) {
        acc += a[r * cols + i] * b[r * cols + i];
    }
    buf[t] = acc;
    TREE_REDUCE(buf, t)
    if (t == 0) {
        out[outOff + r] = buf[0];
    }
}

/* range rows*cols: y[r, i] = x[r, i] * inv where inv = 1 / sqrt(ss[ssOff + r]), or 0 when ss <= 0
 * (a zero row stays zero). Normalizes each row on the device from its squared norm. */
__kernel void scale_rows_inv_sqrt(__global float *y, __global const float *x, __global const float *ss,
                                  const int ssOff, const int rows, const int cols) {
    const int e = get_global_id(0);
    if (e < rows * cols) {
        const float v = ss[ssOff + e / cols];
        const float inv = v > 0.0f ? 1.0f / sqrt(v) : 0.0f;
        y[e] = x[e] * inv;
    }
}
