package dev.opnorm.gpu;

/** Java twin of gemm.cl: one call = one element (i, j) of C. Used by tests, never for speed. */
public final class GemmTwins {
    private GemmTwins() {
    }

    /** c[cOff + i*ldc + j] = alpha * sum_l op(A)(i, l) op(B)(l, j) (+ beta * old C unless beta == 0). */
    public static void gemmAt(int i, int j, boolean transA, boolean transB, int k, float alpha,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              float beta, float[] c, int cOff, int ldc) {
        float acc = Tiled.accumulate(i, j, 0, k,
                (ii, l) -> transA ? a[aOff + l * lda + ii] : a[aOff + ii * lda + l],
                (l, jj) -> transB ? b[bOff + jj * ldb + l] : b[bOff + l * ldb + jj]);
        int ci = cOff + i * ldc + j;
        c[ci] = beta == 0f ? alpha * acc : alpha * acc + beta * c[ci];
    }

    /** Every element, as the kernel's range does. */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                gemmAt(i, j, transA, transB, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            }
        }
    }
}
