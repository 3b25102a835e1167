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

/* range rows * cols: y[r, i] = (float) ((double) x[r, i] / n[nOff + r]) for the rows whose n is > 0; the
   other rows of y (norm 0 or NaN) are left as they are. y may alias x. The quotient in double, rounded
   once: linalg's row normalization of the power method (HostBatchOps.divideRows). */
__kernel void divide_rows(__global float *y, __global const float *x, __global const float *n, const int nOff,
                          const int rows, const int cols) {
    const int e = get_global_id(0);
    if (e < rows * cols) {
        const float d = n[nOff + e / cols];
        if (d > 0.0f) {
            y[e] = (float) ((double) x[e] / (double) d);
        }
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

/* ---- the finite-alpha step of the (p,q) iteration (Eq. 11): v <- Proj_{||x||_p = 1}(v + alpha z) ----
 * As linalg.OperatorNorm + linalg.Projections.ontoSphere (radius 1): y_i = (float) (v_i + alpha z_i) in
 * double, then the nearest point of the unit l_p sphere, computed in double and rounded to float once.
 * One kernel per p (1, 2, inf; each reaches every barrier unconditionally), one work-group per row,
 * v overwritten in place (each work-item writes only the elements it read, after the row's reductions).
 * zeroFill is the host's value for a zero y: n^(-1/p) (p = 1, 2). Java twins: SphereTwins. */

#define SPHERE_Y(i) ((float) ((double) v[base + (i)] + alpha * (double) z[base + (i)]))

/* p = 2: y / ||y||_2 with ||y||_2 = m sqrt(sum (y_i/m)^2), m = max |y_i| (Norms.lp); zeroFill for y = 0. */
__kernel void sphere_step_l2(__global float *v, __global const float *z, const double alpha, const int cols,
                             const float zeroFill) {
    __local float mbuf[REDUCE_WG];
    __local double sbuf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    const long base = (long) r * cols;
    float m = 0.0f;
    for (int i = t; i < cols; i += REDUCE_WG)
        m = MAX_NAN(fabs(SPHERE_Y(i)), m);
    mbuf[t] = m;
    TREE_MAX(mbuf, t)
    const double md = mbuf[0];
    double s = 0.0;
    for (int i = t; i < cols; i += REDUCE_WG) {
        const double q = SPHERE_Y(i) / md;
        s += q * q;
    }
    sbuf[t] = s;
    TREE_REDUCE(sbuf, t)
    const double scale = 1.0 / (md * sqrt(sbuf[0]));
    for (int i = t; i < cols; i += REDUCE_WG) {
        const float y = SPHERE_Y(i);
        v[base + i] = md == 0.0 ? zeroFill : (float) (y * scale);
    }
}

/* p = inf: max |y_i| >= 1: clip to [-1, 1]; inside: the first i with |y_i| = max |y_j| moves to sign(y_i)
 * (sign(0) = +), the rest stays (a zero row: e_0). */
__kernel void sphere_step_linf(__global float *v, __global const float *z, const double alpha, const int cols) {
    __local float mbuf[REDUCE_WG];
    __local int ibuf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    const long base = (long) r * cols;
    float m = 0.0f;
    for (int i = t; i < cols; i += REDUCE_WG)
        m = MAX_NAN(fabs(SPHERE_Y(i)), m);
    mbuf[t] = m;
    TREE_MAX(mbuf, t)
    m = mbuf[0];
    int arg = cols;
    for (int i = t; i < cols; i += REDUCE_WG)
        arg = (arg == cols && fabs(SPHERE_Y(i)) == m) ? i : arg;
    ibuf[t] = arg;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s_ = REDUCE_WG / 2; s_ > 0; s_ >>= 1) {
        if (t < s_)
            ibuf[t] = min(ibuf[t], ibuf[t + s_]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    arg = ibuf[0];
    for (int i = t; i < cols; i += REDUCE_WG) {
        const float y = SPHERE_Y(i);
        float o;
        if (m >= 1.0f)
            o = fmax(-1.0f, fmin(1.0f, y));
        else
            o = i == arg ? (y < 0.0f ? -1.0f : 1.0f) : y;
        v[base + i] = o;
    }
}

/* p = 1: ||y||_1 >= 1: the l1 ball projection sign(y) max(|y| - theta, 0), theta bracketed by
 * L1_BISECTIONS halvings of [0, max |y_i|] and then taken in closed form on the support
 * {|y_i| > lo} (the sort formula of Projections), the magnitudes finally rescaled to sum 1 (as
 * Projections does); inside: y + delta sign(y), delta = (1 - ||y||_1) / n, sign(0) = +; zeroFill for y = 0. */
__kernel void sphere_step_l1(__global float *v, __global const float *z, const double alpha, const int cols,
                             const float zeroFill) {
    __local double buf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    const long base = (long) r * cols;
    double s1 = 0.0, mx = 0.0;
    for (int i = t; i < cols; i += REDUCE_WG) {
        const double a = fabs((double) SPHERE_Y(i));
        s1 += a;
        mx = fmax(mx, a);
    }
    buf[t] = s1;
    TREE_REDUCE(buf, t)
    s1 = buf[0];
    BARRIER_AFTER_READ
    buf[t] = mx;
    TREE_MAX(buf, t)
    const double hi0 = buf[0];
    BARRIER_AFTER_READ
    double theta;
#define Y_ABS(i) fabs((double) SPHERE_Y(i))
    L1_BALL_THRESHOLD(Y_ABS, cols, 1.0, hi0, buf, t, theta)
#undef Y_ABS
    double sm = 0.0;
    for (int i = t; i < cols; i += REDUCE_WG)
        sm += fmax(fabs((double) SPHERE_Y(i)) - theta, 0.0);
    buf[t] = sm;
    TREE_REDUCE(buf, t)
    const double fix = 1.0 / buf[0];
    const double delta = (1.0 - s1) / cols;
    for (int i = t; i < cols; i += REDUCE_WG) {
        const float y = SPHERE_Y(i);
        float o;
        if (s1 == 0.0) {
            o = zeroFill;
        } else if (s1 >= 1.0) {
            const double mag = fmax(fabs((double) y) - theta, 0.0) * fix;
            o = (float) (y < 0.0f ? -mag : mag);
        } else {
            o = (float) (y < 0.0f ? (double) y - delta : (double) y + delta);
        }
        v[base + i] = o;
    }
}
