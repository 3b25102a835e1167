package dev.opnorm.gpu.net;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outcome of one device training step, the device twin of {@code robust.train.StepResult} (the
 * experiments module converts one into the other).
 *
 * @param loss            the total loss whose gradient was accumulated (NaN/Inf when the step diverged)
 * @param cleanLoss       mean cross-entropy on the clean examples (0 when none were used)
 * @param adversarialLoss mean cross-entropy on adversarial examples (0 without an attack)
 * @param penalties       each regularizer's value by name, in order
 * @param correct         examples classified correctly (clean ones, or adversarial ones without a clean part)
 * @param counted         examples {@code correct} counts over
 */
public record DeviceStepResult(double loss, double cleanLoss, double adversarialLoss, Map<String, Double> penalties,
                               int correct, int counted) {
    public DeviceStepResult {
        penalties = Collections.unmodifiableMap(new LinkedHashMap<>(penalties));
    }

    /** Whether the loss is finite. */
    public boolean finite() {
        return Double.isFinite(loss);
    }
}
