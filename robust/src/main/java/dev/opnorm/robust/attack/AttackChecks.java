package dev.opnorm.robust.attack;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;

/** Argument checks shared by the attacks; every message names the offending flag and value. */
final class AttackChecks {
    private AttackChecks() {
    }

    static void checkP(double p) {
        if (!(p == 1 || p == 2 || p == Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("unknown attack norm p = " + p + ": supported are p in {1, 2, inf}");
        }
    }

    static void checkQ(double q) {
        if (!(q == 1 || q == 2 || q == Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("unknown logit loss norm q = " + q + ": supported are q in {1, 2, inf}");
        }
    }

    static void checkEps(double eps) {
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("attack radius eps = " + eps + " must be positive and finite");
        }
    }

    /** x must be finite and inside the domain: the attack clamps to it and must start from a valid input. */
    static void checkInput(Tensor x, Domain domain) {
        if (x == null) {
            throw new IllegalArgumentException("input x must not be null");
        }
        int per = x.shape.perExample();
        for (int i = 0; i < x.data.length; i++) {
            float v = x.data[i];
            if (Float.isNaN(v)) {
                throw new IllegalArgumentException("input x has NaN at element " + i + " (example " + i / per + ")");
            }
            if (!(v >= domain.low() && v <= domain.high())) {
                throw new IllegalArgumentException("input x[" + i + "] = " + v + " (example " + i / per
                        + ") is outside the input domain " + domain + "; scale inputs to the domain or set it with domain(...)");
            }
        }
    }

    static void checkLabels(int[] labels, int n, int classes, String what) {
        if (labels == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (labels.length != n) {
            throw new IllegalArgumentException(labels.length + " " + what + " for a batch of " + n);
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(what + "[" + i + "] = " + labels[i] + " outside [0, " + classes + ")");
            }
        }
    }
}
