package dev.opnorm.robust.attack;

/** Every tolerance of the attack tests, in one place. */
final class AttackTolerances {
    private AttackTolerances() {
    }

    /** Relative slack on ||x* - x||_p <= eps: the float rounding of x + delta and of the projection. */
    static final double BALL = 1e-5;
    /**
     * Kolmogorov-Smirnov bound on sup |F_emp - F| for N samples: 1.95 / sqrt(N) is the 0.1% level of the
     * KS distribution, so a correct sampler fails with probability 1e-3 (fixed seeds: it either passes
     * always or never), while a wrong radius law (e.g. r = eps U) is off by tenths.
     */
    static final double KS_COEFFICIENT = 1.95;
}
