/* gemm.cl: row-major C = alpha * op(A) * op(B) + beta * C (Kernels.gemm). Java twin: GemmTwins. */

#define GEMM_A(i, l) (transA ? a[aOff + (l) * lda + (i)] : a[aOff + (i) * lda + (l)])
#define GEMM_B(l, j) (transB ? b[bOff + (j) * ldb + (l)] : b[bOff + (l) * ldb + (j)])

/* range: (ceil(n / TS) * LS, ceil(m / TSM) * LS), local (LS, LS) */
__kernel void gemm(const int transA, const int transB, const int m, const int n, const int k,
                   const float alpha, __global const float *a, const int aOff, const int lda,
                   __global const float *b, const int bOff, const int ldb,
                   const float beta, __global float *c, const int cOff, const int ldc) {
    TILED_ACCUMULATE(m, n, 0, k, GEMM_A, GEMM_B)
    for (int aa = 0; aa < WPTM; aa++) {
        for (int bb = 0; bb < WPT; bb++) {
            const int i = i0 + ty + aa * LS, j = j0 + tx + bb * LS;
            if (i < m && j < n) {
                const int ci = cOff + i * ldc + j;
                /* beta == 0 ignores the old C (NaN there does not propagate) */
                c[ci] = beta == 0.0f ? alpha * acc[aa][bb] : alpha * acc[aa][bb] + beta * c[ci];
            }
        }
    }
}
