package dev.opnorm.experiments.report;

import dev.opnorm.experiments.run.RunManifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ClaimsJsonTest {
    @TempDir
    Path tmp;

    private static Estimate est(double v, double lo, double hi) {
        return new Estimate(v, lo, hi, "paired bootstrap over 100 test images, 2000 resamples");
    }

    @Test
    @SuppressWarnings("unchecked")
    void claimsJson_parsesBack_withEffectIntervalBoundAndVerdict() throws IOException {
        Map<String, Double> nums = new LinkedHashMap<>();
        nums.put("AT \"cell\" fraction", 0.75);
        nums.put("standard", Double.NaN);
        List<Claim> claims = List.of(
                Claim.above("fig3", "AT >> standard\n(Fig. 3)", "AT - standard", est(0.53, 0.4, 0.66), 0.2,
                        "much more robust: 20 points").withNumbers(Map.of("AT", 0.61)),
                Claim.within("fig7", "same robustness across the grid", "spread", est(0.3, 0.2, 0.4), 0.1, "same"),
                Claim.below("fig5", "cells enlarge near data", "ratio", est(0.5, Double.NaN, Double.NaN), 1,
                        "half").withNumbers(nums).withNote("n = 20"),
                Claim.above("table2", "AT clean accuracy", "AT", Estimate.wilson(8, 10), 0.5, "majority"));
        Path file = tmp.resolve("claims.json");
        ClaimsJson.write(file, claims, new RunManifest("reproduce").put("seed", 5).put("ok", true));

        Map<String, Object> root = (Map<String, Object>) MiniJson.parse(Files.readString(file));
        assertEquals(List.of("run", "summary", "claims"), List.copyOf(root.keySet()));
        Map<String, Object> run = (Map<String, Object>) root.get("run");
        assertEquals("reproduce", run.get("command"));
        assertEquals(5.0, run.get("seed"), "typed: a number");
        assertEquals(true, run.get("ok"), "typed: a boolean");
        assertEquals(Map.of("total", 4.0, "held", 1.0, "contradicted", 1.0, "inconclusive", 2.0),
                root.get("summary"));
        List<Object> cs = (List<Object>) root.get("claims");
        assertEquals(4, cs.size());

        Map<String, Object> c0 = (Map<String, Object>) cs.get(0);
        assertEquals("fig3", c0.get("id"));
        assertEquals("AT >> standard\n(Fig. 3)", c0.get("statement"));
        assertEquals("AT - standard", c0.get("effect"));
        assertEquals(0.53, c0.get("estimate"));
        assertEquals(List.of(0.4, 0.66), c0.get("ci95"));
        assertEquals("above", c0.get("side"));
        assertEquals(0.2, c0.get("bound"));
        assertEquals("much more robust: 20 points", c0.get("bound_reason"));
        assertEquals("AT - standard > 0.2", c0.get("comparison"));
        assertEquals("held", c0.get("verdict"));
        assertEquals(Map.of("AT", 0.61), c0.get("numbers"));
        assertEquals("contradicted", ((Map<String, Object>) cs.get(1)).get("verdict")); // [0.2, 0.4] > 0.1

        Map<String, Object> c2 = (Map<String, Object>) cs.get(2);
        Map<String, Object> n2 = (Map<String, Object>) c2.get("numbers");
        assertEquals(0.75, n2.get("AT \"cell\" fraction"));
        assertTrue(n2.containsKey("standard"));
        assertNull(n2.get("standard"), "NaN is written as null");
        assertEquals(java.util.Arrays.asList(null, null), c2.get("ci95"));
        assertEquals("inconclusive", c2.get("verdict"), "no interval: undecided");
        assertEquals("n = 20", c2.get("note"));
        Map<String, Object> c3 = (Map<String, Object>) cs.get(3);
        assertEquals(0.8, c3.get("estimate"));
        assertEquals("inconclusive", c3.get("verdict"), "Wilson [0.49, 0.94] reaches 0.5");
        assertTrue(((String) c3.get("interval")).startsWith("Wilson"), (String) c3.get("interval"));
    }

    @Test
    void claimsJson_withoutClaimsOrManifest_isStillWellFormed() {
        Map<?, ?> root = (Map<?, ?>) MiniJson.parse(ClaimsJson.json(List.of(), null));
        assertEquals(Map.of("total", 0.0, "held", 0.0, "contradicted", 0.0, "inconclusive", 0.0), root.get("summary"));
        assertEquals(List.of(), root.get("claims"));
        assertFalse(root.containsKey("run"));
    }

    @Test
    void claims_badInput_isRejected() {
        Claim a = Claim.below("x", "s", "v", est(1, 0, 2), 2, "r");
        var e = assertThrows(IllegalArgumentException.class, () -> ClaimsJson.json(List.of(a, a), null));
        assertTrue(e.getMessage().contains("x"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Claim.below("bad id", "s", "v", est(1, 0, 2), 2, "r"));
        e = assertThrows(IllegalArgumentException.class, () -> Claim.above("y", "s", "v", est(1, 0, 2), 2, " "));
        assertTrue(e.getMessage().contains("reason"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Claim.within("z", "s", "v", est(1, 0, 2), 0, "r"));
        assertThrows(IllegalArgumentException.class, () -> Claim.above("w", "s", "v", est(1, 0, 2),
                Double.NaN, "r"));
        assertThrows(IllegalArgumentException.class, () -> est(1, 2, 0));
    }

    @Test
    void miniJson_rejectsMalformedText() {
        assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("{\"a\": 1,}"));
        assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("{\"a\": NaN}"));
        assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("[1] 2"));
        assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("{\"a\": 1, \"a\": 2}"));
    }
}
