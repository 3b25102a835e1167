package dev.opnorm.robust.attack;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.kernels.AttackRows;

/**
 * The objective l_adv an attack ascends, as a function of the adversarial logits f(x*) of one example:
 *
 * <pre>
 *   cross-entropy:   l = -log softmax(f(x*))_y            dl/df = softmax(f(x*)) - e_y
 *   l_q logit loss:  l = ||f(x*) - f(x)||_q               dl/df = D_q(f(x*) - f(x))   (the dual map, D_q(0) = 0)
 * </pre>
 *
 * y is the true label, the clean prediction, or (targeted attacks, which DEScend the loss) the target
 * class. Cross-entropy is per example here (nn's {@code SoftmaxCrossEntropy} is the batch mean, whose gradient
 * is this one divided by n). The logit loss needs no label; its gradient vanishes at x* = x, so it needs a random (or given)
 * start. Values and gradients are computed in double.
 */
public final class AdversarialLoss {
    private final boolean logit;
    private final double q;

    private AdversarialLoss(boolean logit, double q) {
        this.logit = logit;
        this.q = q;
    }

    /** Softmax cross-entropy with the reference label. */
    public static AdversarialLoss crossEntropy() {
        return new AdversarialLoss(false, Double.NaN);
    }

    /**
     * ||f(x*) - f(x)||_q for q in {1, 2, inf}.
     *
     * @throws IllegalArgumentException for another q
     */
    public static AdversarialLoss logitLq(double q) {
        AttackChecks.checkQ(q);
        return new AdversarialLoss(true, q);
    }

    public boolean isLogitLoss() {
        return logit;
    }

    /** q of the logit loss (NaN for cross-entropy). */
    public double q() {
        return q;
    }

    /**
     * The loss of one example.
     *
     * @param logits adversarial logits, slice [off, off+classes)
     * @param clean  clean logits f(x), same layout (read by the logit loss only)
     * @param label  reference class (read by cross-entropy only)
     */
    double value(float[] logits, float[] clean, int off, int classes, int label) {
        return AttackRows.lossValue(logits, clean, off, classes, label, q);
    }

    /** gy[off, off+classes) = dl/df at the adversarial logits (overwritten). */
    void gradient(float[] logits, float[] clean, int off, int classes, int label, float[] gy) {
        AttackRows.lossGradient(logits, clean, off, classes, label, q, gy);
    }

    @Override
    public String toString() {
        return logit ? "l_" + Norms.format(q) + " logit loss" : "cross-entropy";
    }
}
