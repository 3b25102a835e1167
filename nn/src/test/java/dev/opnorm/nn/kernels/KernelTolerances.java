package dev.opnorm.nn.kernels;

/**
 * Every tolerance the kernel tests use, in one place. Floating-point sums computed in a different
 * order (blocked GEMM, SIMD lanes, fused multiply-add, a GPU) differ from the reference by a few
 * ulps of the magnitude of their terms, not of the result: an output that is a small difference of
 * large terms can carry a large relative error and still be right. So comparisons are relative to
 * {@code magnitude}, the same sum taken over the absolute values of its terms, which the tests
 * compute alongside each reference result (llm.c's validate_result does the same with a fixed slack).
 */
public final class KernelTolerances {

    /**
     * Allowed error of a float sum, relative to the sum of the absolute values of its terms. Summation
     * in another order can lose up to (terms * 2^-24) of that magnitude in the worst case; typical
     * reorderings lose far less. An index bug loses O(1) of it.
     */
    public static final double SUM_REL = 3e-5;

    /** Absolute slack for outputs whose terms are all (close to) zero. */
    public static final double SUM_ABS = 1e-6;

    /** Relative tolerance of adjoint identities {@code <A x, y> == <x, A^T y>} evaluated in double. */
    public static final double ADJOINT_REL = 1e-5;

    /** Relative tolerance of a central finite difference taken in double (step 1e-4). */
    public static final double FD_DOUBLE_REL = 1e-6;

    private KernelTolerances() {
    }

    /** The allowed absolute difference of an output whose terms have total absolute value {@code magnitude}. */
    public static double sum(double magnitude) {
        return SUM_REL * magnitude + SUM_ABS;
    }
}
