package dev.opnorm.gpu;

/** Every tolerance of the gpu-kernels tests, in one place. */
final class GpuTolerances {
    private GpuTolerances() {
    }

    /**
     * OpenCL vs ScalarKernels: |got - want| <= BACKEND_F32 * (1 + |want|) * sqrt(terms). The kernels fuse
     * multiply-adds and sum in other orders (tiles, trees), so float results differ by a few ulps per term.
     */
    static final double BACKEND_F32 = 2e-6;

    /**
     * OpenCL vs its Java twin: the same operations in the same order. fma, + and * are correctly rounded
     * on every OpenCL device, so the twin matches exactly except where OpenCL allows a few ulps
     * (division and sqrt, used by scale_rows_inv_sqrt only).
     */
    static final double TWIN_F32 = 0;

    /** scale_rows_inv_sqrt: OpenCL's single-precision 1/sqrt may be off by up to 2.5 + 3 ulp. */
    static final double TWIN_DIV_SQRT_F32 = 1e-6;

    /** Power iteration on the device vs on the host with ScalarKernels (relative, on sigma). */
    static final double POWER_ITERATION = 1e-4;

    /**
     * softmax_xent_rows vs its twin: OpenCL's double exp and log may differ from Java's by a few ulps
     * (relative to 1 + |value|, after rounding to float).
     */
    static final double TWIN_EXP_LOG = 1e-6;

    /**
     * norms.cl vs NormTwins for exponents other than 1, 2, inf: OpenCL's double pow may differ from
     * Java's by a few ulps before the result is rounded to float (relative, to 1 + |value|).
     */
    static final double TWIN_POW = 1e-6;

    /**
     * The norm twins vs linalg's Norms / DualMaps: the same double arithmetic summed in a tree instead of
     * in sequence, rounded to float (relative, to 1 + |value|).
     */
    static final double TWIN_VS_LINALG = 1e-6;

    /**
     * The PGA step twin vs the host's DualMaps + Projections (absolute, values in [-1, 1]): both compute in
     * double with sums in other orders (trees vs sequential, bisection + closed form vs sort for l1), then
     * round to float, so results differ by at most a float rounding or two.
     */
    static final double PGA_STEP_VS_HOST = 2 * Math.ulp(1f);

    /** A norm computed in double and rounded to float vs Norms.lp in double (relative). */
    static final double NORM_F32 = 1e-6;

    /**
     * The finite-alpha sphere step twin vs linalg's Projections.ontoSphere (absolute, values in [-1, 1]):
     * the same double arithmetic with sums in other orders (and, for l1, bisection + closed form vs sort),
     * rounded to float: a float rounding or two.
     */
    static final double SPHERE_STEP_VS_HOST = 2 * Math.ulp(1f);
}
