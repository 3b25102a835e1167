package dev.opnorm.robust.analysis;

/** Every tolerance of the analysis tests, with why it is that size. */
final class AnalysisTolerances {
    private AnalysisTolerances() {
    }

    /**
     * Relative agreement of singular values / sigma_max from two float code paths (JVP vs VJP extraction, or
     * the power method at relTol 1e-9 vs a double SVD): float round-off of the passes, relative to sigma_1.
     */
    static final double SIGMA_REL = 1e-4;

    /**
     * Entries of two extractions of the same Jacobian (rows through the VJP vs columns through the JVP), relative
     * to the largest entry: float accumulation order differs between the two passes.
     */
    static final double JACOBIAN_REL = 1e-5;

    /** Cosines of unit vectors built in double from float data. */
    static final double COSINE = 1e-5;

    /**
     * Deviation from linearity inside one activation cell, relative to ||z||_2 sigma_max + ||phi(x)||_2 (the
     * sizes of J z and of phi(x)): exactly 0 in exact arithmetic, float round-off of phi(x + z) - phi(x) - J z.
     */
    static final double IN_CELL_REL = 1e-5;

    /** Deviation treated as clearly nonzero once kinks are crossed (relative to ||J z||). */
    static final double OFF_CELL_REL = 1e-3;
}
