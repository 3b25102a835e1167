package dev.opnorm.experiments.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EstimateTest {
    /** Reference values: R's prop.test(k, n, correct = FALSE)$conf.int (the Wilson score interval). */
    @Test
    void wilson_matchesKnownValues() {
        Estimate half = Estimate.wilson(5, 10);
        assertEquals(0.5, half.value());
        assertEquals(0.2365931, half.low(), 1e-7);
        assertEquals(0.7634069, half.high(), 1e-7);
        Estimate none = Estimate.wilson(0, 10);
        assertEquals(0.0, none.low(), 1e-12);
        assertEquals(0.2775328, none.high(), 1e-7);
        Estimate all = Estimate.wilson(10, 10);
        assertEquals(0.7224672, all.low(), 1e-7);
        assertEquals(1.0, all.high(), 1e-12);
        Estimate big = Estimate.wilson(886, 1000);
        assertEquals(0.8648, big.low(), 1e-4);
        assertEquals(0.9042, big.high(), 1e-4);
    }

    @Test
    void wilson_rejectsImpossibleCounts() {
        var e = assertThrows(IllegalArgumentException.class, () -> Estimate.wilson(11, 10));
        assertTrue(e.getMessage().contains("11/10"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Estimate.wilson(0, 0));
    }
}
