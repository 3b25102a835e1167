package dev.opnorm.gpu;

/**
 * Java twins of elementwise.cl: one call = one work-item (or one work-group for the row reductions).
 * Used by tests, never for speed.
 */
public final class ElementwiseTwins {
    private ElementwiseTwins() {
    }

    public static void fillAt(int i, float[] y, float v) {
        y[i] = v;
    }

    // ReLU'(0) = 0 (x > 0 strict), identical in relu / relu_mask and on every backend
    public static void reluAt(int i, float[] y, float[] x) {
        y[i] = x[i] > 0f ? x[i] : 0f;
    }

    public static void reluMaskAt(int i, float[] out, float[] in, float[] x) {
        out[i] = x[i] > 0f ? in[i] : 0f;
    }

    public static void axpyAt(int i, float[] y, float a, float[] x) {
        y[i] += a * x[i];
    }

    public static void addAt(int i, float[] y, float[] a, float[] b) {
        y[i] = a[i] + b[i];
    }

    public static void scaleAt(int i, float[] y, float alpha, float[] x) {
        y[i] = alpha * x[i];
    }

    public static void addRowBiasAt(int e, float[] c, float[] bias, int n) {
        c[e] += bias[e % n];
    }

    public static void sumRowsAccumulateAt(int j, float[] gb, float[] g, int m, int n) {
        float acc = 0f;
        for (int i = 0; i < m; i++) {
            acc += g[i * n + j];
        }
        gb[j] += acc;
    }

    /** dot_rows for row r with reduction work-group wg. */
    public static void dotRowsAt(int r, int wg, float[] out, int outOff, float[] a, float[] b, int cols) {
        float[] buf = new float[wg];
        for (int t = 0; t < wg; t++) {
            float acc = 0f;
            for (int i = t; i < cols; i += wg) {
                acc += a[r * cols + i] * b[r * cols + i];
            }
            buf[t] = acc;
        }
        out[outOff + r] = Reductions.tree(buf, wg);
    }

    public static void scaleRowsInvSqrtAt(int e, float[] y, float[] x, float[] ss, int ssOff, int cols) {
        float v = ss[ssOff + e / cols];
        float inv = v > 0f ? 1f / (float) Math.sqrt(v) : 0f;
        y[e] = x[e] * inv;
    }
}
