package dev.opnorm.robust.train;

import java.util.Map;

/**
 * The outcome of one training step.
 *
 * @param loss            the total loss whose gradient was accumulated (NaN/Inf when the step diverged)
 * @param cleanLoss       mean cross-entropy on the clean examples (0 when none were used)
 * @param adversarialLoss mean cross-entropy on the adversarial examples (0 without an attack)
 * @param penalties       each regularizer's value by name, in order
 * @param correct         clean examples classified correctly (adversarial ones when the step had no clean part)
 * @param counted         examples {@code correct} counts over
 */
public record StepResult(double loss, double cleanLoss, double adversarialLoss, Map<String, Double> penalties,
                         int correct, int counted) {
    public StepResult {
        penalties = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(penalties));
    }

    /** Whether the loss is finite. */
    public boolean finite() {
        return Double.isFinite(loss);
    }

    /** A one-line breakdown, e.g. "loss=0.52 (clean 0.41, adv 0.80, dd-snr-sos 0.03)". */
    public String breakdown() {
        StringBuilder sb = new StringBuilder("loss=" + loss + " (clean " + cleanLoss);
        if (adversarialLoss != 0) {
            sb.append(", adversarial ").append(adversarialLoss);
        }
        for (Map.Entry<String, Double> e : penalties.entrySet()) {
            sb.append(", ").append(e.getKey()).append(' ').append(e.getValue());
        }
        return sb.append(')').toString();
    }
}
