package dev.opnorm.linalg;

import static dev.opnorm.linalg.Fixtures.INF;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NormsTest {

    @Test
    void lp_matchesDefinition_forSpecialAndGeneralP() {
        float[] x = {3, -4, 0, 1};
        assertEquals(8, Norms.lp(x, 1), 0);
        assertEquals(Math.sqrt(26), Norms.lp(x, 2), 1e-15);
        assertEquals(4, Norms.lp(x, INF), 0);
        assertEquals(Math.cbrt(27 + 64 + 1), Norms.lp(x, 3), 1e-13);
        double p = 1.5, s = Math.pow(3, p) + Math.pow(4, p) + 1;
        assertEquals(Math.pow(s, 1 / p), Norms.lp(x, p), 1e-13);
        assertEquals(Norms.lp(x, 3), Norms.lp(new double[] {3, -4, 0, 1}, 3), 1e-13);
    }

    @Test
    void lp_doesNotOverflow_whenEntriesAreHuge() {
        double[] x = {1e300, 1e300};
        assertEquals(1e300 * Math.pow(2, 1 / 3.0), Norms.lp(x, 3), 1e288);
        assertEquals(1e300 * Math.sqrt(2), Norms.lp(x, 2), 1e286);
        float[] f = {3e38f, 3e38f};
        assertTrue(Double.isFinite(Norms.lp(f, 7)));
    }

    @Test
    void lp_ofSlice_readsOnlyTheSlice() {
        float[] x = {100, 1, 2, 100};
        assertEquals(3, Norms.lp(x, 1, 2, 1), 0);
        assertThrows(IllegalArgumentException.class, () -> Norms.lp(x, 3, 2, 1));
    }

    @Test
    void conjugate_isHolderConjugate() {
        assertEquals(INF, Norms.conjugate(1));
        assertEquals(1, Norms.conjugate(INF));
        assertEquals(2, Norms.conjugate(2));
        assertEquals(1.5, Norms.conjugate(3), 1e-15);
        for (double p : new double[] {1.1, 1.7, 4, 10}) {
            assertEquals(1, 1 / p + 1 / Norms.conjugate(p), 1e-15);
        }
        assertThrows(IllegalArgumentException.class, () -> Norms.conjugate(0.5));
    }

    @Test
    void parse_acceptsInfAndNumbers_rejectsBelowOne() {
        assertEquals(INF, Norms.parse("inf"));
        assertEquals(INF, Norms.parse("Infinity"));
        assertEquals(2, Norms.parse("2"));
        assertEquals(1.5, Norms.parse(" 1.5 "));
        var e = assertThrows(IllegalArgumentException.class, () -> Norms.parse("0.5"));
        assertTrue(e.getMessage().contains("0.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Norms.parse("two"));
        assertThrows(IllegalArgumentException.class, () -> Norms.parse("nan"));
        assertEquals("inf", Norms.format(INF));
        assertEquals("2", Norms.format(2));
        assertEquals("1.5", Norms.format(1.5));
        assertEquals(1.5, Norms.parse(Norms.format(1.5)));
    }
}
