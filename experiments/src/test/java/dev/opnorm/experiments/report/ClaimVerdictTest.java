package dev.opnorm.experiments.report;

import org.junit.jupiter.api.Test;

import static dev.opnorm.experiments.report.Claim.Verdict.CONTRADICTED;
import static dev.opnorm.experiments.report.Claim.Verdict.HELD;
import static dev.opnorm.experiments.report.Claim.Verdict.INCONCLUSIVE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The verdict comes from the interval and the bound alone, not from the point estimate. */
class ClaimVerdictTest {
    private static Claim.Verdict above(double v, double lo, double hi, double bound) {
        return Claim.above("a", "s", "e", new Estimate(v, lo, hi, "m"), bound, "r").verdict();
    }

    private static Claim.Verdict below(double v, double lo, double hi, double bound) {
        return Claim.below("b", "s", "e", new Estimate(v, lo, hi, "m"), bound, "r").verdict();
    }

    private static Claim.Verdict within(double v, double lo, double hi, double bound) {
        return Claim.within("w", "s", "e", new Estimate(v, lo, hi, "m"), bound, "r").verdict();
    }

    @Test
    void above_heldOnlyWhenTheWholeIntervalIsAbove() {
        assertEquals(HELD, above(0.3, 0.21, 0.4, 0.2));
        assertEquals(INCONCLUSIVE, above(0.3, 0.19, 0.4, 0.2), "the point estimate alone would pass");
        assertEquals(INCONCLUSIVE, above(0.1, 0.0, 0.2, 0.2), "touching the bound is not beyond it");
        assertEquals(CONTRADICTED, above(0.1, 0.0, 0.19, 0.2));
    }

    @Test
    void below_isTheMirrorImage() {
        assertEquals(HELD, below(0.3, 0.2, 0.49, 0.5));
        assertEquals(INCONCLUSIVE, below(0.45, 0.4, 0.55, 0.5));
        assertEquals(CONTRADICTED, below(0.7, 0.51, 0.9, 0.5));
    }

    @Test
    void within_heldInsideTheBand_contradictedEntirelyOutsideOnEitherSide() {
        assertEquals(HELD, within(0.0, -0.09, 0.09, 0.1));
        assertEquals(INCONCLUSIVE, within(0.05, -0.02, 0.12, 0.1));
        assertEquals(INCONCLUSIVE, within(0.0, -0.2, 0.2, 0.1), "wider than the band on both sides");
        assertEquals(CONTRADICTED, within(0.2, 0.11, 0.3, 0.1));
        assertEquals(CONTRADICTED, within(-0.2, -0.3, -0.11, 0.1));
    }

    @Test
    void anUncomputedInterval_isInconclusive() {
        assertEquals(INCONCLUSIVE, above(5, Double.NaN, Double.NaN, 0));
        Claim c = Claim.above("a", "s", "e", new Estimate(5, Double.NaN, Double.NaN, "m"), 0, "r");
        assertFalse(c.held());
        assertTrue(c.comparison().endsWith("> 0.0"), c.comparison());
    }
}
