package dev.opnorm.gpu;

/**
 * Java twins of training.cl and of batchnorm.cl's coefficient kernels: one call = one work-item.
 * Used by tests, never for speed. The optimizer kernels have no twin here: their reference is the host
 * implementation itself, the host {@code Kernels}' updates.
 */
public final class TrainingTwins {
    private TrainingTwins() {
    }

    /** Twin of softmax_xent_rows: the part [0, n) with weight 1 (1f * x == x, so nothing changes). */
    public static void softmaxXentRowAt(int i, float[] grad, float[] lossRow, float[] correct, float[] z,
                                        int[] labels, int n, int k) {
        softmaxXentPartAt(i, grad, lossRow, correct, z, labels, 0, n, k, 1f);
    }

    public static void meanAndCount(float[] out, float[] lossRow, float[] correct, int n) {
        double s = 0, c = 0;
        for (int i = 0; i < n; i++) {
            s += lossRow[i];
            c += correct[i];
        }
        out[0] = (float) (s / n);
        out[1] = (float) c;
    }

    public static void bnCoefsAt(int ch, float[] inv, float[] negMeanInv, float[] scale, float[] shift,
                                 float[] mean, float[] var, float[] gamma, float[] beta, double eps) {
        float iv = (float) (1.0 / Math.sqrt((double) var[ch] + eps));
        float g = gamma != null ? gamma[ch] : 1f;
        float b = beta != null ? beta[ch] : 0f;
        float sc = g * iv;
        inv[ch] = iv;
        negMeanInv[ch] = -mean[ch] * iv;
        scale[ch] = sc;
        shift[ch] = b - mean[ch] * sc;
    }

    public static void bnRunningUpdateAt(int ch, float[] rm, float[] rv, float[] mean, float[] var,
                                         double momentum, double unbias) {
        rm[ch] = (float) ((1.0 - momentum) * rm[ch] + momentum * mean[ch]);
        rv[ch] = (float) ((1.0 - momentum) * rv[ch] + momentum * var[ch] * unbias);
    }

    /** Twin of count_nonfinite (training.cl): the number of NaN / infinite values in x[0, len). */
    public static float countNonFinite(float[] x, int len) {
        int c = 0;
        for (int i = 0; i < len; i++) {
            c += Float.isFinite(x[i]) ? 0 : 1;
        }
        return c;
    }

    /** Twin of softmax_xent_part (training.cl): row i of the part [rowOff, rowOff + count). */
    public static void softmaxXentPartAt(int i, float[] grad, float[] lossRow, float[] correct, float[] z,
                                         int[] labels, int rowOff, int count, int k, float weight) {
        int y = labels[i], r = rowOff + i, off = r * k;
        double mx = Double.NEGATIVE_INFINITY;
        int arg = 0;
        boolean finite = true;
        for (int j = 0; j < k; j++) {
            float v = z[off + j];
            finite &= Float.isFinite(v);
            if (v > mx) {
                mx = v;
                arg = j;
            }
        }
        double sum = 0;
        for (int j = 0; j < k; j++) {
            sum += Math.exp(z[off + j] - mx);
        }
        double lse = mx + Math.log(sum);
        boolean ok = finite && y >= 0 && y < k;
        lossRow[r] = ok ? (float) (lse - z[off + y]) : Float.NaN;
        correct[r] = ok && arg == y ? 1f : 0f;
        for (int j = 0; j < k; j++) {
            double p = Math.exp(z[off + j] - lse);
            grad[off + j] = weight * (float) ((p - (j == y ? 1.0 : 0.0)) / count);
        }
    }

    /** Twin of mean_and_count_part (training.cl). */
    public static void meanAndCountPart(float[] out, int outOff, float[] lossRow, float[] correct, int rowOff,
                                        int count) {
        double s = 0, c = 0;
        for (int i = 0; i < count; i++) {
            s += lossRow[rowOff + i];
            c += correct[rowOff + i];
        }
        out[outOff] = (float) (s / count);
        out[outOff + 1] = (float) c;
    }
}
