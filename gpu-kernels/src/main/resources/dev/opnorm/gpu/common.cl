/* common.cl: prepended to every kernel family before it is built (see OpenCl.program).
 *
 * Conventions shared by all kernels:
 * - no fused contraction: a*b + c is a rounded product then a rounded sum, exactly as in Java, unless
 *   the kernel calls fma() explicitly (then its Java twin calls Math.fma);
 * - no float atomics and no data-dependent summation order: every sum has one fixed order, so results
 *   are bit-identical from run to run on a device;
 * - REDUCE_WG (a power of two) is the work-group size of the tree reductions; it is a build option.
 */
#pragma OPENCL FP_CONTRACT OFF

#ifndef REDUCE_WG
#define REDUCE_WG 256
#endif

/* Tiled GEMM-like kernels: a TSM x TS output tile per work-group of LS x LS work-items, each work-item
 * owning WPTM x WPT outputs strided by LS (i = i0 + ty + wa*LS, j = j0 + tx + wb*LS); the reduction
 * dimension advances in slices of TK staged in local memory. TSM (rows per tile: 16, 32 or 64) is a
 * build option: the runtime builds a narrower variant for ops with few output rows (a 3-channel input
 * gradient), so that tiles are not mostly padding. The order of the sums does not depend on it. */
#ifndef TSM
#define TSM 64
#endif
#define TS 64
#define TK 16
#define LS 16
#define WPT 4
#define WPTM (TSM / LS)

/* The body shared by gemm and the three convolutions (an implicit GEMM). For the tile of outputs
 * (i, j) of this work-group it leaves acc[wa][wb] = sum over l in [L_BEGIN, L_END) of
 * A_AT(i, l) * B_AT(l, j), l ascending, each term fused: acc = fma(A, B, acc).
 * A_AT / B_AT are expressions of (i, l) / (l, j) that read global memory; they are only evaluated in
 * range (i < M, j < N, l < L_END), elsewhere the tile holds 0 (fma(x, 0, acc) == acc).
 * Java twin: Tiled.accumulate. Needs local memory TK * (TSM + TS) floats. */
#define TILED_ACCUMULATE(M, N, L_BEGIN, L_END, A_AT, B_AT)                                     \
    __local float As[TK][TSM];                                                                  \
    __local float Bs[TK][TS];                                                                   \
    const int tx = get_local_id(0), ty = get_local_id(1);                                       \
    const int i0 = get_group_id(1) * TSM, j0 = get_group_id(0) * TS;                            \
    const int lid = ty * LS + tx;                                                               \
    float acc[WPTM][WPT];                                                                       \
    for (int wa = 0; wa < WPTM; wa++)                                                           \
        for (int wb = 0; wb < WPT; wb++)                                                        \
            acc[wa][wb] = 0.0f;                                                                 \
    for (int l0 = (L_BEGIN); l0 < (L_END); l0 += TK) {                                          \
        /* A slice: consecutive work-items walk l */                                            \
        for (int t = 0; t < (TSM * TK) / (LS * LS); t++) {                                      \
            const int e = lid + t * LS * LS;                                                    \
            const int ai = i0 + e / TK, al = l0 + e % TK;                                       \
            As[e % TK][e / TK] = (ai < (M) && al < (L_END)) ? (A_AT(ai, al)) : 0.0f;            \
        }                                                                                       \
        /* B slice: consecutive work-items walk j */                                            \
        for (int t = 0; t < (TS * TK) / (LS * LS); t++) {                                       \
            const int e = lid + t * LS * LS;                                                    \
            const int bl = l0 + e / TS, bj = j0 + e % TS;                                       \
            Bs[e / TS][e % TS] = (bj < (N) && bl < (L_END)) ? (B_AT(bl, bj)) : 0.0f;            \
        }                                                                                       \
        barrier(CLK_LOCAL_MEM_FENCE);                                                           \
        for (int kk = 0; kk < TK; kk++) {                                                       \
            float av[WPTM], bv[WPT];                                                            \
            for (int wa = 0; wa < WPTM; wa++)                                                   \
                av[wa] = As[kk][ty + wa * LS];                                                  \
            for (int wb = 0; wb < WPT; wb++)                                                    \
                bv[wb] = Bs[kk][tx + wb * LS];                                                  \
            for (int wa = 0; wa < WPTM; wa++)                                                   \
                for (int wb = 0; wb < WPT; wb++)                                                \
                    acc[wa][wb] = fma(av[wa], bv[wb], acc[wa][wb]);                             \
        }                                                                                       \
        barrier(CLK_LOCAL_MEM_FENCE);                                                           \
    }

/* Tree reduction of buf[0, REDUCE_WG) into buf[0] by the work-group; lid = get_local_id(0).
 * Java twin: Reductions.tree. Pairs (t, t + s) for s = REDUCE_WG/2, ..., 1. */
#define TREE_REDUCE(buf, lid)                                                                   \
    barrier(CLK_LOCAL_MEM_FENCE);                                                               \
    for (int s_ = REDUCE_WG / 2; s_ > 0; s_ >>= 1) {                                             \
        if ((lid) < s_)                                                                         \
            buf[lid] += buf[(lid) + s_];                                                        \
        barrier(CLK_LOCAL_MEM_FENCE);                                                           \
    }

/* The caller has read buf[0] (every work-item) and is about to write buf again. */
#define BARRIER_AFTER_READ barrier(CLK_LOCAL_MEM_FENCE);

/* Threshold of the l1-ball projection of a row, by the work-group: the theta of
 * y_i -> sign(y_i) max(|y_i| - theta, 0) whose result has l1 norm `radius`, for a row with ||y||_1 >= radius.
 * ABS(i) is |y_i| in double for i in [0, n); hi0 = max_i ABS(i); buf a __local double[REDUCE_WG]; lid the
 * local id; the result goes into the caller's double `theta`. theta is bracketed by L1_BISECTIONS halvings
 * of [0, hi0] (sum max(ABS(i) - mid, 0) > radius: theta > mid), then taken in closed form on the support
 * {ABS(i) > lo}: theta = (sum_support ABS(i) - radius) / |support| (the sort-based formula of Duchi et al.
 * 2008). The bracket ends at the double resolution of hi0, so the support is exact unless two ABS(i) agree
 * to ~1e-16 relative. Every work-item runs every barrier; buf may be written afterwards. Double precision:
 * only the families that need cl_khr_fp64 expand it. Java twin: Reductions.l1BallThreshold. */
#define L1_BISECTIONS 64
#define L1_BALL_THRESHOLD(ABS, n, radius, hi0, buf, lid, theta)                                  \
    {                                                                                           \
        double lo_ = 0.0, hi_ = (hi0);                                                          \
        for (int it_ = 0; it_ < L1_BISECTIONS; it_++) {                                         \
            const double mid_ = 0.5 * (lo_ + hi_);                                              \
            double f_ = 0.0;                                                                    \
            for (int i_ = (lid); i_ < (n); i_ += REDUCE_WG)                                     \
                f_ += fmax(ABS(i_) - mid_, 0.0);                                                \
            buf[lid] = f_;                                                                      \
            TREE_REDUCE(buf, lid)                                                               \
            const int above_ = buf[0] > (radius);                                               \
            lo_ = above_ ? mid_ : lo_;                                                          \
            hi_ = above_ ? hi_ : mid_;                                                          \
            BARRIER_AFTER_READ                                                                  \
        }                                                                                       \
        double sa_ = 0.0, cnt_ = 0.0;                                                           \
        for (int i_ = (lid); i_ < (n); i_ += REDUCE_WG) {                                       \
            const double a_ = ABS(i_);                                                          \
            sa_ += a_ > lo_ ? a_ : 0.0;                                                         \
            cnt_ += a_ > lo_ ? 1.0 : 0.0;                                                       \
        }                                                                                       \
        buf[lid] = sa_;                                                                         \
        TREE_REDUCE(buf, lid)                                                                   \
        sa_ = buf[0];                                                                           \
        BARRIER_AFTER_READ                                                                      \
        buf[lid] = cnt_;                                                                        \
        TREE_REDUCE(buf, lid)                                                                   \
        cnt_ = buf[0];                                                                          \
        BARRIER_AFTER_READ                                                                      \
        theta = (sa_ - (radius)) / cnt_;                                                        \
    }
