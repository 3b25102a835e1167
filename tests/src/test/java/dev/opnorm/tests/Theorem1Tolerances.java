package dev.opnorm.tests;

/**
 * Tolerances of the Theorem 1 tests, in one place. Each multiplies a round-off level the test measures
 * (see {@link Theorem1Support#compareSteps}): eta, the relative error of PGA's float forward difference
 * f(x_k) - f(x) against eps J v_k, plus the storage error of the float iterate x_k = x + eps v_k.
 */
final class Theorem1Tolerances {
    private Theorem1Tolerances() {
    }

    /** One PGA step vs one power step from the same iterate: gap <= STEP * (eta + floor). Measured ratios: <= 0.15 (MLP), <= 0.1 (CNN). */
    static final double STEP = 10;
    /** Discrete choices decided by less than TIE * eta (relative to the largest entry) may flip under the noise. */
    static final double TIE = 3;
    /** Whole trajectories vs OperatorNorm: per-step errors add up, so gap_k <= TRAJECTORY * k * (eta + floor). */
    static final double TRAJECTORY = 10;
    /** AT-term vs ONR parameter gradients: relative gap <= GRADIENT * (eta + floor). */
    static final double GRADIENT = 10;
}
