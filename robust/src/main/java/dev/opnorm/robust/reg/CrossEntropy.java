package dev.opnorm.robust.reg;

/**
 * Softmax cross-entropy on logits, PyTorch's {@code F.cross_entropy}: CE_i = logsumexp(f_i) - f_i[y_i],
 * gradient d CE_i / d f_i = softmax(f_i) - onehot(y_i). Logits are rows of a (n, classes) array.
 * Computed in double with the max subtracted (no overflow) and {@link StrictMath} (the same bits on
 * every JVM and in interpreted and compiled code, which bit-identical resumed runs rely on).
 *
 * <p>(Kept here until the nn module has a loss package.)
 */
public final class CrossEntropy {
    private CrossEntropy() {
    }

    /**
     * Sum of CE over examples [from, to) and their scaled gradients: gy row i = scale * (softmax(f_i) -
     * onehot(y_i)), OVERWRITTEN for those rows (other rows untouched).
     *
     * @param logits (n, classes) row-major
     * @param labels label of example i at labels[i]
     * @param gy     gradient output, may be null when only the value is wanted
     * @return sum over the range of CE_i
     * @throws IllegalArgumentException for a label outside [0, classes) or an array too short
     */
    public static double sum(float[] logits, int classes, int[] labels, int from, int to, double scale, float[] gy) {
        if (from < 0 || to > labels.length || from > to || (long) to * classes > logits.length
                || (gy != null && (long) to * classes > gy.length)) {
            throw new IllegalArgumentException("cross-entropy: rows [" + from + ", " + to + ") out of range for "
                    + logits.length + " logits of " + classes + " classes and " + labels.length + " labels");
        }
        double total = 0;
        double[] p = new double[classes];
        for (int i = from; i < to; i++) {
            int y = labels[i];
            if (y < 0 || y >= classes) {
                throw new IllegalArgumentException("cross-entropy: label " + y + " of example " + i + " outside [0, "
                        + classes + ")");
            }
            int off = i * classes;
            double lse = softmax(logits, off, classes, p);
            total += lse - logits[off + y];
            if (gy != null) {
                for (int j = 0; j < classes; j++) {
                    gy[off + j] = (float) (scale * (p[j] - (j == y ? 1 : 0)));
                }
            }
        }
        return total;
    }

    /**
     * p = softmax(logits[off, off + classes)), overwritten; returns logsumexp of the row.
     * A row with a NaN or infinite logit gives NaN probabilities and a NaN result.
     */
    public static double softmax(float[] logits, int off, int classes, double[] p) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < classes; j++) {
            m = Math.max(m, logits[off + j]);
        }
        if (!Double.isFinite(m)) {
            java.util.Arrays.fill(p, 0, classes, Double.NaN);
            return Double.NaN;
        }
        double s = 0;
        for (int j = 0; j < classes; j++) {
            p[j] = StrictMath.exp(logits[off + j] - m);
            s += p[j];
        }
        for (int j = 0; j < classes; j++) {
            p[j] /= s;
        }
        return m + StrictMath.log(s);
    }

    /** The number of examples in [from, to) whose largest logit (first on ties) is their label. */
    public static int correct(float[] logits, int classes, int[] labels, int from, int to) {
        int c = 0;
        for (int i = from; i < to; i++) {
            int off = i * classes, best = 0;
            for (int j = 1; j < classes; j++) {
                if (logits[off + j] > logits[off + best]) {
                    best = j;
                }
            }
            if (best == labels[i]) {
                c++;
            }
        }
        return c;
    }
}
