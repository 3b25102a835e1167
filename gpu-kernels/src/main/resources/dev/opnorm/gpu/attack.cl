/* attack.cl: the l_p projected gradient ascent of robust.attack.Pga on device-resident batches.
 * Java twins: AttackTwins (the same formulas in the same order).
 *
 * Per-example bookkeeping lives in one float tensor `stats` of n rows of ATTACK_STATS floats:
 *   0 clean prediction, 1 reference label, 2 prediction at the kept point, 3 success (0/1),
 *   4 loss at the kept point, 5 ||x* - x||_p, 6 restart of the kept point, 7 "this restart is better"
 * so that a whole attack returns with ONE download of n * 8 floats.
 * Loss codes: 0 cross-entropy, 1 / 2 / 3 the l_1 / l_2 / l_inf logit loss ||f(x*) - f(x)||_q.
 * Norm codes (p): 1, 2, 3 = inf. */
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define ATTACK_STATS 8

/* Java's Math.signum on floats: keeps +-0 (and NaN), unlike OpenCL's sign() on NaN */
#define SIGNUM(v) ((v) > 0.0f ? 1.0f : (v) < 0.0f ? -1.0f : (v))

/* Tree reductions over buf[0, REDUCE_WG) of doubles (sum as TREE_REDUCE, and max), leaving the result in
 * buf[0]; the caller reads it, then BARRIER_AFTER_READ before buf is written again. */
#define TREE_MAX(buf, lid)                                                                      \
    barrier(CLK_LOCAL_MEM_FENCE);                                                               \
    for (int s_ = REDUCE_WG / 2; s_ > 0; s_ >>= 1) {                                             \
        if ((lid) < s_)                                                                         \
            buf[lid] = buf[lid] >= buf[(lid) + s_] ? buf[lid] : buf[(lid) + s_];                \
        barrier(CLK_LOCAL_MEM_FENCE);                                                           \
    }

/* range n: stats[i, 0] = argmax clean_i (first maximum); with usePredicted the reference ref[i] is set to
 * it (the untargeted attack on the model's own prediction); stats[i, 1] = ref[i]. */
__kernel void attack_init_stats(__global float *stats, __global int *ref, __global const float *clean,
                                const int usePredicted, const int n, const int k) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    int arg = 0;
    for (int j = 1; j < k; j++) {
        if (clean[i * k + j] > clean[i * k + arg]) {
            arg = j;
        }
    }
    if (usePredicted) {
        ref[i] = arg;
    }
    stats[i * ATTACK_STATS + 0] = (float) arg;
    stats[i * ATTACK_STATS + 1] = (float) ref[i];
}

/* range n: gy[i, :] = dl/df at the adversarial logits z of example i (overwritten), AdversarialLoss.gradient:
 * cross-entropy softmax(z) - e_ref in double (maximum subtracted); the logit loss D_q(z - clean) with
 * d = z - clean in float. Targeted attacks descend: the gradient is negated. */
__kernel void attack_loss_grad(__global float *gy, __global const float *z, __global const float *clean,
                               __global const int *ref, const int lossCode, const int targeted,
                               const int n, const int k) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    const int off = i * k;
    if (lossCode == 0) {
        double m = -INFINITY;
        for (int j = 0; j < k; j++) {
            m = fmax(m, (double) z[off + j]);
        }
        double s = 0.0;
        for (int j = 0; j < k; j++) {
            s += exp(z[off + j] - m);
        }
        for (int j = 0; j < k; j++) {
            const double softmax = exp(z[off + j] - m) / s;
            gy[off + j] = (float) (softmax - (j == ref[i] ? 1.0 : 0.0));
        }
    } else if (lossCode == 1) {
        for (int j = 0; j < k; j++) {
            const float d = z[off + j] - clean[off + j];
            gy[off + j] = SIGNUM(d);
        }
    } else {
        double m = 0.0;
        for (int j = 0; j < k; j++) {
            m = fmax(m, (double) fabs(z[off + j] - clean[off + j]));
        }
        if (m == 0.0) {
            for (int j = 0; j < k; j++) {
                gy[off + j] = 0.0f;
            }
        } else if (lossCode == 3) {
            int ties = 0;
            for (int j = 0; j < k; j++) {
                ties += fabs(z[off + j] - clean[off + j]) == m ? 1 : 0;
            }
            const float share = (float) (1.0 / ties);
            for (int j = 0; j < k; j++) {
                const float d = z[off + j] - clean[off + j];
                gy[off + j] = fabs(d) == m ? SIGNUM(d) * share : 0.0f;
            }
        } else {
            double ss = 0.0;
            for (int j = 0; j < k; j++) {
                const double t = z[off + j] - clean[off + j];
                ss += t * t;
            }
            const double nrm = sqrt(ss);
            for (int j = 0; j < k; j++) {
                gy[off + j] = (float) ((z[off + j] - clean[off + j]) / nrm);
            }
        }
    }
    if (targeted) {
        for (int j = 0; j < k; j++) {
            gy[off + j] = -gy[off + j];
        }
    }
}

/* range len: xk = clamp(x + off) (hasOff) or clamp(x): the start of a run, AFTER Pga.initialize */
__kernel void attack_start(__global float *xk, __global const float *x, __global const float *off,
                           const int hasOff, const float lo, const float hi, const int len) {
    const int e = get_global_id(0);
    if (e < len) {
        const float v = hasOff ? x[e] + off[e] : x[e];
        xk[e] = fmax(lo, fmin(hi, v));
    }
}

/* One PGA step of Pga.run is four launches (the host picks the projection kernel by p); every barrier
 * is reached unconditionally (PoCL compiles work-groups into loops and does not allow barriers under
 * conditions that it cannot prove uniform), so the reductions below run for every p:
 *   pga_direction:  p = 1: g_i = 0 where x_i sits on the domain boundary and g_i points outward
 *                   (Pga.maskSaturated); g = N_p(g) (DualMaps.steepestAscent: p = 2 g / ||g||_2,
 *                   p = inf sign(g), p = 1 one-hot on argmax |g_i|, ties sharing 1/|I|)
 *   pga_offset:     infinite: xk = clamp(x + eps g); else g = (float) (xk - x + step g) in double
 *   project_*:      off = Proj_{||.||_p <= eps}(g) in double; xk = clamp(x + off)
 * Reductions: one work-group of REDUCE_WG per example r (range n*REDUCE_WG); work-item t owns elements
 * t, t + REDUCE_WG, ... of the row in every loop, sums in double, fixed trees. */
__kernel void pga_direction(__global float *g, __global const float *xk, const int p, const float lo,
                            const float hi, const int per) {
    __local double buf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    const int base = r * per;
    double m = 0.0, ss = 0.0;
    for (int i = t; i < per; i += REDUCE_WG) {
        const float gi = g[base + i], xi = xk[base + i];
        const float gm = p == 1 && ((gi > 0.0f && xi >= hi) || (gi < 0.0f && xi <= lo)) ? 0.0f : gi;
        g[base + i] = gm;
        m = fmax(m, (double) fabs(gm));
        ss += (double) gm * gm;
    }
    buf[t] = m;
    TREE_MAX(buf, t)
    m = buf[0];
    BARRIER_AFTER_READ
    buf[t] = ss;
    TREE_REDUCE(buf, t)
    const double nrm = sqrt(buf[0]);
    BARRIER_AFTER_READ
    double ties = 0.0;
    for (int i = t; i < per; i += REDUCE_WG) {
        ties += fabs(g[base + i]) == m ? 1.0 : 0.0;
    }
    buf[t] = ties;
    TREE_REDUCE(buf, t)
    ties = buf[0];
    const float share = (float) (1.0 / ties);
    for (int i = t; i < per; i += REDUCE_WG) {
        const float gi = g[base + i];
        float d;
        if (p == 1) {
            d = m != 0.0 && fabs(gi) == m ? SIGNUM(gi) * share : 0.0f;
        } else if (p == 2) {
            d = nrm == 0.0 ? 0.0f : (float) (gi / nrm);
        } else {
            d = SIGNUM(gi);
        }
        g[base + i] = d;
    }
}

/* range len (= n * per): the step along the direction g */
__kernel void pga_offset(__global float *xk, __global float *g, __global const float *x, const double step,
                         const double eps, const int infinite, const float lo, const float hi, const int len) {
    const int e = get_global_id(0);
    if (e >= len) {
        return;
    }
    if (infinite) {
        const float v = (float) (x[e] + eps * g[e]);
        xk[e] = fmax(lo, fmin(hi, v));
    } else {
        g[e] = (float) ((double) xk[e] - x[e] + step * g[e]);
    }
}

/* range len: l_inf ball = clipping (the identity inside the ball, so no norm test), x + off, clamped */
__kernel void project_linf_clamp(__global float *xk, __global const float *g, __global const float *x,
                                 const double eps, const float lo, const float hi, const int len) {
    const int e = get_global_id(0);
    if (e < len) {
        const float o = (float) fmax(-eps, fmin(eps, (double) g[e]));
        const float v = x[e] + o;
        xk[e] = fmax(lo, fmin(hi, v));
    }
}

/* work-group per row: l2 ball = rescale by eps / ||off||_2 when outside, x + off, clamped */
__kernel void project_l2_clamp(__global float *xk, __global const float *g, __global const float *x,
                               const double eps, const float lo, const float hi, const int per) {
    __local double buf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    const int base = r * per;
    double ss = 0.0;
    for (int i = t; i < per; i += REDUCE_WG) {
        const double v = g[base + i];
        ss += v * v;
    }
    buf[t] = ss;
    TREE_REDUCE(buf, t)
    const double nrm = sqrt(buf[0]);
    const double s = eps / nrm;
    for (int i = t; i < per; i += REDUCE_WG) {
        const float o = nrm <= eps ? g[base + i] : (float) (g[base + i] * s);
        const float v = x[base + i] + o;
        xk[base + i] = fmax(lo, fmin(hi, v));
    }
}

/* work-group per row: l1 ball, x + off, clamped. The threshold theta of off_i = sign(v_i) max(|v_i| - theta, 0)
 * is bracketed by L1_BISECTIONS halvings of [0, max |v_i|] (sum max(|v_i| - mid, 0) > eps: theta > mid),
 * then recomputed in closed form from the support {|v_i| > lo}: theta = (sum_support |v_i| - eps) / |support|,
 * the formula of the sort-based projection (Duchi et al. 2008). The bracket ends at the double resolution
 * of max |v_i|, so the support is exact unless two |v_i| agree to ~1e-16 relative, and then the error is
 * below that: the result equals linalg.Projections' to double rounding (then float). Inside the ball
 * (||v||_1 <= eps) the offsets are kept. */
__kernel void project_l1_clamp(__global float *xk, __global const float *g, __global const float *x,
                               const double eps, const float lo, const float hi, const int per) {
    __local double buf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    const int base = r * per;
    double s1 = 0.0, mx = 0.0;
    for (int i = t; i < per; i += REDUCE_WG) {
        const double v = fabs((double) g[base + i]);
        s1 += v;
        mx = fmax(mx, v);
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
#define G_ABS(i) fabs((double) g[base + (i)])
    L1_BALL_THRESHOLD(G_ABS, per, eps, hi0, buf, t, theta)
#undef G_ABS
    for (int i = t; i < per; i += REDUCE_WG) {
        const double v = g[base + i];
        const double mag = fmax(fabs(v) - theta, 0.0);
        const float o = s1 > eps ? (float) (v < 0.0 ? -mag : mag) : g[base + i];
        const float w = x[base + i] + o;
        xk[base + i] = fmax(lo, fmin(hi, w));
    }
}

/* range n: the loss and prediction at the end of restart `restart` (logits z), and whether this restart
 * beats the kept one (Pga.run: a success before a failure, then the higher loss; targeted: the lower);
 * restart 0 always wins. Updates stats[i, 2..4, 6] when better, sets stats[i, 7] = better. The loss is
 * AdversarialLoss.value in double, kept as float (so ties are decided on the float of the kept loss). */
__kernel void attack_keep_best(__global float *stats, __global const float *z, __global const float *clean,
                               __global const int *ref, const int lossCode, const int targeted,
                               const int restart, const int n, const int k) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    const int off = i * k, y = ref[i];
    int pred = 0;
    for (int j = 1; j < k; j++) {
        if (z[off + j] > z[off + pred]) {
            pred = j;
        }
    }
    double l;
    if (lossCode == 0) {
        double m = -INFINITY;
        for (int j = 0; j < k; j++) {
            m = fmax(m, (double) z[off + j]);
        }
        double s = 0.0;
        for (int j = 0; j < k; j++) {
            s += exp(z[off + j] - m);
        }
        l = m + log(s) - z[off + y];
    } else {
        /* Norms.lp(double[], q) of d = z - clean (in double) */
        double m = 0.0, s = 0.0;
        for (int j = 0; j < k; j++) {
            const double d = (double) z[off + j] - clean[off + j];
            if (lossCode == 1) {
                s += fabs(d);
            }
            m = fmax(m, fabs(d));
        }
        if (lossCode == 1) {
            l = s;
        } else if (lossCode == 3 || m == 0.0) {
            l = m;
        } else {
            for (int j = 0; j < k; j++) {
                const double d = ((double) z[off + j] - clean[off + j]) / m;
                s += d * d;
            }
            l = m * sqrt(s);
        }
    }
    const int ok = targeted ? pred == y : pred != y;
    __global float *st = stats + i * ATTACK_STATS;
    const int bestOk = st[3] != 0.0f;
    const double bestLoss = st[4];
    const int better = restart == 0 || (ok && !bestOk)
            || (ok == bestOk && (targeted ? l < bestLoss : l > bestLoss));
    if (better) {
        st[2] = (float) pred;
        st[3] = ok ? 1.0f : 0.0f;
        st[4] = (float) l;
        st[6] = (float) restart;
    }
    st[7] = better ? 1.0f : 0.0f;
}

/* range n*len: dst[r, :] = src[r, :] for the rows whose stats[r, 7] (better) is set; other rows unchanged */
__kernel void copy_rows_where_better(__global float *dst, __global const float *src, __global const float *stats,
                                     const int n, const int len) {
    const int e = get_global_id(0);
    if (e < n * len && stats[(e / len) * ATTACK_STATS + 7] != 0.0f) {
        dst[e] = src[e];
    }
}

/* One work-group per example (range n*REDUCE_WG): stats[r, 5] = ||a_r - b_r||_p of the difference in
 * double (p = 1: sum, 2: sqrt of the sum of squares, 3: max), a fixed tree */
__kernel void attack_norms(__global float *stats, __global const float *a, __global const float *b,
                           const int p, const int per) {
    __local double buf[REDUCE_WG];
    const int r = get_group_id(0), t = get_local_id(0);
    const int base = r * per;
    double acc = 0.0;
    for (int i = t; i < per; i += REDUCE_WG) {
        const double d = (double) a[base + i] - b[base + i];
        acc = p == 1 ? acc + fabs(d) : p == 2 ? acc + d * d : fmax(acc, fabs(d));
    }
    /* the max of non-negative partials and their sum, both unconditional (see pga_direction) */
    buf[t] = acc;
    TREE_MAX(buf, t)
    const double mx = buf[0];
    BARRIER_AFTER_READ
    buf[t] = acc;
    TREE_REDUCE(buf, t)
    if (t == 0) {
        stats[r * ATTACK_STATS + 5] = (float) (p == 3 ? mx : p == 2 ? sqrt(buf[0]) : buf[0]);
    }
}
