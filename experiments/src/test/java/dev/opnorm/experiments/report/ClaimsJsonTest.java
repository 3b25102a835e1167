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

    @Test
    @SuppressWarnings("unchecked")
    void claimsJson_parsesBack_withNumbersComparisonAndOutcome() throws IOException {
        Map<String, Double> nums = new LinkedHashMap<>();
        nums.put("AT \"cell\" fraction", 0.75);
        nums.put("standard", Double.NaN);
        List<Claim> claims = List.of(
                Claim.greater("fig3", "AT >> standard\n(Fig. 3)", "AT", 0.61, "standard", 0.08, 0.2),
                Claim.within("fig7", "same robustness across the grid", "min", 0.50, "max", 0.58, 0.05),
                Claim.of("fig5", "cells enlarge near data", "AT > standard", nums, true).withNote("n = 20"),
                Claim.atLeast("table2", "AT clean accuracy", "AT", 3, 2));
        Path file = tmp.resolve("claims.json");
        ClaimsJson.write(file, claims, new RunManifest("reproduce").put("seed", 5));

        Map<String, Object> root = (Map<String, Object>) MiniJson.parse(Files.readString(file));
        assertEquals(List.of("run", "summary", "claims"), List.copyOf(root.keySet()));
        assertEquals("reproduce", ((Map<String, Object>) root.get("run")).get("command"));
        assertEquals("5", ((Map<String, Object>) root.get("run")).get("seed"));
        assertEquals(Map.of("total", 4.0, "held", 2.0, "failed", 2.0), root.get("summary"));
        List<Object> cs = (List<Object>) root.get("claims");
        assertEquals(4, cs.size());

        Map<String, Object> c0 = (Map<String, Object>) cs.get(0);
        assertEquals("fig3", c0.get("id"));
        assertEquals("AT >> standard\n(Fig. 3)", c0.get("statement"));
        assertEquals("AT > standard + 0.2", c0.get("comparison"));
        assertEquals(Map.of("AT", 0.61, "standard", 0.08), c0.get("numbers"));
        assertEquals(true, c0.get("held"));
        assertEquals(false, ((Map<String, Object>) cs.get(1)).get("held")); // |0.50 - 0.58| > 0.05

        Map<String, Object> c2 = (Map<String, Object>) cs.get(2);
        Map<String, Object> n2 = (Map<String, Object>) c2.get("numbers");
        assertEquals(0.75, n2.get("AT \"cell\" fraction"));
        assertTrue(n2.containsKey("standard"));
        assertNull(n2.get("standard"), "NaN is written as null");
        assertEquals(false, c2.get("held"), "a NaN number fails the claim");
        assertEquals("n = 20", c2.get("note"));
        assertEquals(3.0, ((Map<String, Object>) ((Map<String, Object>) cs.get(3)).get("numbers")).get("AT"));
    }

    @Test
    void claimsJson_withoutClaimsOrManifest_isStillWellFormed() {
        Map<?, ?> root = (Map<?, ?>) MiniJson.parse(ClaimsJson.json(List.of(), null));
        assertEquals(Map.of("total", 0.0, "held", 0.0, "failed", 0.0), root.get("summary"));
        assertEquals(List.of(), root.get("claims"));
        assertFalse(root.containsKey("run"));
    }

    @Test
    void claims_badInput_isRejected() {
        Claim a = Claim.atMost("x", "s", "v", 1, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> ClaimsJson.json(List.of(a, a), null));
        assertTrue(e.getMessage().contains("x"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Claim.atMost("bad id", "s", "v", 1, 2));
        assertThrows(IllegalArgumentException.class, () -> Claim.of("y", "s", "c", Map.of(), true));
        assertThrows(IllegalArgumentException.class, () -> Claim.greater("z", "s", "v", 1, "v", 2, 0));
    }

    @Test
    void miniJson_rejectsMalformedText() {
        assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("{\"a\": 1,}"));
        assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("{\"a\": NaN}"));
        assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("[1] 2"));
        assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("{\"a\": 1, \"a\": 2}"));
    }
}
