package dev.opnorm.linalg;

/** Every tolerance of the linalg tests, in one place. */
final class Tolerances {
    private Tolerances() {}

    /** Float vectors with double reductions: relative error of one norm / product. */
    static final double F32 = 2e-6;
    /** Power method vs EJML's SVD, relative (the brief's requirement). */
    static final double SIGMA = 1e-6;
    /** The iteration may exceed the exact value only by round-off of one float product (relative). */
    static final double LOWER_BOUND = 1e-5;
    /** "Reaches the exact value" on the tractable cells (relative). */
    static final double REACHES = 1e-5;
    /** Double-precision identities (closed forms vs enumeration, duality), relative. */
    static final double F64 = 1e-10;
    /** The numeric general-p ball projection, relative. */
    static final double GENERAL_P = 1e-6;
}
