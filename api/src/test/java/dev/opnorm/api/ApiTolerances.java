package dev.opnorm.api;

/** Every tolerance of the facade tests. */
final class ApiTolerances {
    /** Power iteration (float products, converged to 1e-9 relative) vs EJML's SVD of the dense Jacobian. */
    static final double POWER_VS_SVD = 1e-4;
    /** Dense Jacobian from replicated batches vs one map on the original batch (float kernels, other batch size). */
    static final double JACOBIAN_ENTRY = 1e-5;

    private ApiTolerances() {
    }
}
