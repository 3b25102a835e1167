package dev.opnorm.nn.loss;

import dev.opnorm.nn.Tensor;

/**
 * Softmax cross-entropy on logits, PyTorch's {@code F.cross_entropy(logits, labels)} with mean
 * reduction: L = (1/n) sum_i [ logsumexp(z_i) - z_i[y_i] ]. Its gradient with respect to the logits
 * is g_i = (softmax(z_i) - onehot(y_i)) / n. Computed per example in double with the maximum logit
 * subtracted, so large logits neither overflow nor lose the small terms.
 */
public final class SoftmaxCrossEntropy {
    private SoftmaxCrossEntropy() {
    }

    /**
     * The mean loss over the batch, and optionally its gradient.
     *
     * @param logits (n, classes, 1, 1) logits
     * @param labels n class indices in [0, classes)
     * @param grad   output (n * classes), overwritten with dL/dlogits; may be null
     * @return the mean cross-entropy
     * @throws IllegalArgumentException on a shape mismatch, a label out of range, or a non-finite logit
     */
    public static double lossAndGradient(Tensor logits, int[] labels, float[] grad) {
        int n = logits.shape.n(), k = logits.shape.perExample();
        if (logits.shape.h() != 1 || logits.shape.w() != 1) {
            throw new IllegalArgumentException("cross-entropy expects logits of shape (n, classes, 1, 1), got "
                    + logits.shape);
        }
        if (labels == null || labels.length != n) {
            throw new IllegalArgumentException("cross-entropy: " + (labels == null ? "no" : labels.length)
                    + " labels for a batch of " + n + " (logits " + logits.shape + ")");
        }
        if (grad != null && grad.length < n * k) {
            throw new IllegalArgumentException("cross-entropy: gradient buffer of " + grad.length
                    + " elements, logits " + logits.shape + " need " + n * k);
        }
        float[] z = logits.data;
        double total = 0;
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            if (y < 0 || y >= k) {
                throw new IllegalArgumentException("cross-entropy: label " + y + " of example " + i
                        + " outside [0, " + k + ")");
            }
            int off = i * k;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                if (!Float.isFinite(z[off + j])) {
                    throw new IllegalArgumentException("cross-entropy: logit " + j + " of example " + i + " is "
                            + z[off + j]);
                }
                max = Math.max(max, z[off + j]);
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += Math.exp(z[off + j] - max);
            }
            double logSumExp = max + Math.log(sum);
            total += logSumExp - z[off + y];
            if (grad != null) {
                for (int j = 0; j < k; j++) {
                    double p = Math.exp(z[off + j] - logSumExp);
                    grad[off + j] = (float) ((p - (j == y ? 1 : 0)) / n);
                }
            }
        }
        return total / n;
    }

    /** The mean loss only. */
    public static double loss(Tensor logits, int[] labels) {
        return lossAndGradient(logits, labels, null);
    }
}
