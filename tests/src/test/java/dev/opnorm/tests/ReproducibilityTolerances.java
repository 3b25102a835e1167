package dev.opnorm.tests;

/** Tolerances of the reproducibility tests, in one place. */
final class ReproducibilityTolerances {
    private ReproducibilityTolerances() {
    }

    /**
     * CPU (Vector API) vs OpenCL norms of the same run: |a - b| <= RTOL * max(|a|, |b|) + ATOL. Both backends
     * compute in float with different summation orders; 10 power iterations on cnn7-w0.0625 amplify the
     * per-product relative error of ~1e-6 by at most a few times, so 1e-4 (opnorm compare's default) leaves
     * a wide margin while still catching a wrong kernel (which is off by O(1)).
     */
    static final double BACKEND_RTOL = 1e-4;
    /** Absolute floor for values near zero. */
    static final double BACKEND_ATOL = 1e-9;
}
