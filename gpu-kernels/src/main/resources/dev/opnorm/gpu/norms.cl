/* norms.cl: per-example (row) l_p norms and the dual maps D_q / N_p = D_{p*} of linalg.DualMaps, for the
 * (p,q) iteration and the data-dependent regularizers on the device. Java twins: NormTwins (the same
 * formulas in the same order).
 *
 * Row kernels run one work-group of REDUCE_WG work-items per row r (range rows*REDUCE_WG): work-item t
 * visits i = t, t + REDUCE_WG, ... in order, then the work-group reduces in a fixed tree (no atomics),
 * so results are bit-reproducible. As in linalg.Norms / DualMaps, sums and the maps' arithmetic are in
 * double and results are rounded to float once. The exponent q is a double, INFINITY for inf; q = 1, 2
 * and inf take the exact paths of linalg (no pow). */
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

/* Math.signum on a float: +-1, and x itself for +-0 and NaN */
#define SIGNUM_F(x) ((x) > 0.0f ? 1.0f : (x) < 0.0f ? -1.0f : (x))

/* NaN-propagating max of two non-negative floats (Math.max semantics on |a_i|) */
#define MAX_NAN(a, b) ((isnan(a) || (a) > (b)) ? (a) : (b))

/* Tree reductions of buf[0, REDUCE_WG) into buf[0] for the work-group: pairs (t, t + s),
 * s = REDUCE_WG/2, ..., 1 (the order of TREE_REDUCE in common.cl). */
#define TREE_MAX(buf, lid)                                                                      \
    barrier(CLK_LOCAL_MEM_FENCE);                                                               \
    for (int s_ = REDUCE_WG / 2; s_ > 0; s_ >>= 1) {                                             \
        if ((lid) < s_)                                                                         \
            buf[lid] = MAX_NAN(buf[(lid) + s_], buf[lid]);                                      \
        barrier(CLK_LOCAL_MEM_FENCE);                                                           \
    }

/* The statistics of row r that every row kernel needs, left in m and s for every work-item of the
 * work-group (both reductions always run, so every barrier is reached by the whole work-group):
 *   m = max |a_i| (NaN if any element is NaN);
 *   s = sum of the term of q: q = 1: |a_i|; q = inf: [|a_i| == m] (the ties); q = 2: a_i^2;
 *       other q: (|a_i| / m)^q (0 when m is 0). */
#define ROW_STATS(a, base, cols, q, t, mbuf, sbuf, m, s)                                        \
    {                                                                                           \
        float m_ = 0.0f;                                                                        \
        for (int i = (t); i < (cols); i += REDUCE_WG)                                           \
            m_ = MAX_NAN(fabs(a[(base) + i]), m_);                                              \
        mbuf[t] = m_;                                                                           \
    }                                                                                           \
    TREE_MAX(mbuf, t)                                                                           \
    const float m = mbuf[0];                                                                    \
    {                                                                                           \
        double s_ = 0.0;                                                                        \
        for (int i = (t); i < (cols); i += REDUCE_WG) {                                         \
            const float x_ = a[(base) + i];                                                     \
            if ((q) == 1.0)                                                                     \
                s_ += fabs(x_);                                                                 \
            else if ((q) == INFINITY)                                                           \
                s_ += fabs(x_) == m ? 1.0 : 0.0;                                                \
            else if ((q) == 2.0)                                                                \
                s_ += (double) x_ * x_;                                                         \
            else if (m != 0.0f)                                                                 \
                s_ += pow(fabs(x_) / (double) m, (q));                                          \
        }                                                                                       \
        sbuf[t] = s_;                                                                           \
    }                                                                                           \
    TREE_REDUCE(sbuf, t)                                                                        \
    const double s = sbuf[0];

/* range rows*REDUCE_WG, local REDUCE_WG: out[outOff + r] = (float) ||a[r, 0..cols)||_q, computed as
 * linalg.Norms.lp: q = 1 sum |a_i|; q = inf max |a_i|; q = 2 sqrt(sum a_i^2); other q: m (sum (|a_i|/m)^q)^(1/q)
 * with m = max |a_i| (no overflow); 0 (or NaN) when m is 0 (or NaN). */
__kernel void row_norms(__global float *out, const int outOff, __global const float *a, const int cols,
                        const double q) {
    __local float mbuf[REDUCE_WG];
    __local double sbuf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    const long base = (long) r * cols;
    ROW_STATS(a, base, cols, q, t, mbuf, sbuf, m, s)
    if (t == 0) {
        float n;
        if (q == 1.0) {
            n = (float) s;
        } else if (q == INFINITY || m == 0.0f || isnan(m)) {
            n = m;
        } else if (q == 2.0) {
            n = (float) sqrt(s);
        } else {
            n = (float) (m * pow(s, 1.0 / q));
        }
        out[outOff + r] = n;
    }
}

/* range rows*REDUCE_WG, local REDUCE_WG: out[r, .] = D_q(a[r, .]) (overwritten; out may alias a: each
 * element is written by the work-item that read it, after the row's reductions), as linalg.DualMaps.dual:
 *   q = 1: sign(a);  otherwise a zero row (m = 0) maps to 0, else
 *   q = inf: |I|^-1 sign(a) 1_I with I = {i : |a_i| = m} (ties share the mass equally);
 *   q = 2: a / ||a||_2;  other q: sign(a) (|a| / ||a||_q)^(q-1) with ||a||_q = m (sum (|a_i|/m)^q)^(1/q).
 * N_p(z) = D_{p*}(z): call with the conjugate exponent. */
__kernel void dual_rows(__global float *out, __global const float *a, const int cols, const double q) {
    __local float mbuf[REDUCE_WG];
    __local double sbuf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    const long base = (long) r * cols;
    ROW_STATS(a, base, cols, q, t, mbuf, sbuf, m, s)
    const float share = (float) (1.0 / s);         /* q = inf: s counts the ties */
    const double n2 = sqrt(s);                     /* q = 2 */
    const double norm = m * pow(s, 1.0 / q);       /* other q */
    for (int i = t; i < cols; i += REDUCE_WG) {
        const float x = a[base + i];
        float y;
        if (q == 1.0) {
            y = SIGNUM_F(x);
        } else if (m == 0.0f) {
            y = 0.0f;
        } else if (q == INFINITY) {
            y = fabs(x) == m ? SIGNUM_F(x) * share : 0.0f;
        } else if (q == 2.0) {
            y = (float) (x / n2);
        } else {
            y = (float) (SIGNUM_F(x) * pow(fabs(x) / norm, q - 1.0));
        }
        out[base + i] = y;
    }
}

/* range rows*cols: dst[r, i] = src[r, i] where flags[r] != 0, untouched elsewhere (keeps the best iterate
 * of each example without moving it to the host). */
__kernel void copy_rows_where(__global float *dst, __global const float *src, __global const int *flags,
                              const int rows, const int cols) {
    const int e = get_global_id(0);
    if (e < rows * cols && flags[e / cols] != 0) {
        dst[e] = src[e];
    }
}

/* range len: y[i] = (float) (alpha * x[i]) with alpha and the product in double (a host expression
 * (float) (double * float)); y may alias x. */
__kernel void scale_double(__global float *y, const double alpha, __global const float *x, const int len) {
    const int i = get_global_id(0);
    if (i < len) {
        y[i] = (float) (alpha * x[i]);
    }
}

/* range len: g[i] = (float) (coef * sign(d_i) |d_i|^(q-1)) in double: the gradient of (coef/q) ||d||_q^q
 * (q = 2: coef * d, no pow). g may alias d. */
__kernel void q_power_grad(__global float *g, __global const float *d, const double coef, const double q,
                           const int len) {
    const int i = get_global_id(0);
    if (i < len) {
        const float a = d[i];
        const double mag = q == 2.0 ? (double) fabs(a) : pow((double) fabs(a), q - 1.0);
        g[i] = (float) (coef * SIGNUM_F(a) * mag);
    }
}
