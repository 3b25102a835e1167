package dev.opnorm.robust.attack;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;

/**
 * Per-example outcome of an attack on a batch of n examples. Arrays are indexed by example
 * (logits: example-major, n x classes); record equality compares array references.
 *
 * @param attack           {@link Attack#describe()} of the attack that produced it
 * @param bnMode           the BatchNorm mode the network ran in (always EVAL for the attacks here)
 * @param targeted         whether the attack was targeted
 * @param adversarial      (n, c, h, w) adversarial inputs x*, inside the ball and the domain
 * @param classes          logits per example
 * @param logits           f(x*), n x classes
 * @param predictions      argmax f(x*) (first maximum on ties)
 * @param cleanPredictions argmax f(x)
 * @param labels           the reference labels: true labels, clean predictions, or the targets
 * @param success          untargeted: prediction != label; targeted: prediction == target
 * @param loss             the attack objective at x*: cross-entropy of the reference label (targeted attacks
 *                         minimize it, untargeted maximize it) or the l_q logit distance ||f(x*) - f(x)||_q
 * @param perturbationNorm ||x* - x||_p in the attack's p, computed in double
 * @param restart          which restart (0-based) produced the reported point
 */
public record AttackResult(String attack, BnMode bnMode, boolean targeted, Tensor adversarial, int classes,
                           float[] logits, int[] predictions, int[] cleanPredictions, int[] labels,
                           boolean[] success, double[] loss, double[] perturbationNorm, int[] restart) {
    /** Number of examples. */
    public int size() {
        return success.length;
    }

    /** Number of successful examples. */
    public int successes() {
        int s = 0;
        for (boolean b : success) {
            if (b) {
                s++;
            }
        }
        return s;
    }

    /** successes / size. */
    public double successRate() {
        return successes() / (double) size();
    }

    /** Mean of {@link #loss()}. */
    public double meanLoss() {
        double s = 0;
        for (double l : loss) {
            s += l;
        }
        return s / loss.length;
    }
}
