package dev.opnorm.nn.checkpoint;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class JsonTest {
    @Test
    void parse_readsAllValueKinds() throws Exception {
        Map<String, Object> m = Json.parseObject(
                " {\"a\": [1, -2, 3.5, -0.25e2, 1E3], \"b\": {\"c\": true, \"d\": false, \"e\": null}, \"s\": \"x\\ty\\u00e9\\ud83d\\ude00\\\"\\\\\\/\"} ");
        assertEquals(List.of(1L, -2L, 3.5, -25.0, 1000.0), m.get("a"));
        @SuppressWarnings("unchecked")
        Map<String, Object> b = (Map<String, Object>) m.get("b");
        assertEquals(Boolean.TRUE, b.get("c"));
        assertEquals(Boolean.FALSE, b.get("d"));
        assertTrue(b.containsKey("e"));
        assertNull(b.get("e"));
        assertEquals("x\ty\u00e9\ud83d\ude00\"\\/", m.get("s"));
        assertEquals(List.of("a", "b", "s"), List.copyOf(m.keySet())); // document order
    }

    @Test
    void parse_rejectsMalformedDocuments() {
        String[] bad = {
            "", " ", "{", "}", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{a:1}", "{'a':1}", "01", "-", "1.", ".5",
            "1e", "+1", "NaN", "Infinity", "tru", "nul", "\"abc", "\"a\\x\"", "\"a\nb\"", "\"\\u12\"", "\"\\ud800\"",
            "\"\\udc00\"", "\"\\ud800\\u0041\"", "{\"a\":1,\"a\":2}", "1 2", "[1]x", "99999999999999999999",
            "1e999", "/* c */ 1", "\"\ud800\"", "\"\\u00g0\"", "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1),
        };
        for (String s : bad) {
            assertThrows(Json.JsonException.class, () -> Json.parse(s), () -> "accepted: " + s);
        }
    }

    @Test
    void parse_reportsOffsetOfProblem() {
        Json.JsonException e = assertThrows(Json.JsonException.class, () -> Json.parse("{\"a\": [1, 2,]}"));
        assertEquals(12, e.offset(), e.getMessage());
        assertTrue(e.getMessage().contains("offset 12"));
        Json.JsonException dup = assertThrows(Json.JsonException.class, () -> Json.parse("{\"k\":1, \"k\":2}"));
        assertTrue(dup.getMessage().contains("duplicate key \"k\""), dup.getMessage());
    }

    @Test
    void parse_acceptsMaximumNestingAndLongBounds() throws Exception {
        String deep = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertNotNull(Json.parse(deep));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertThrows(Json.JsonException.class, () -> Json.parse("9223372036854775808"));
    }

    @Test
    void writeThenParse_roundTrips() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "quote\" backslash\\ newline\n tab\t ctrl\u0001 unicode \u00e9\ud83d\ude00");
        m.put("ints", List.of(0L, -1L, Long.MAX_VALUE));
        m.put("doubles", List.of(0.1, -2.5e-10, 1e300));
        m.put("nested", Map.of("t", true));
        m.put("nothing", null);
        String text = Json.write(m);
        assertEquals(m, Json.parse(text));
        Map<String, Object> small = new LinkedHashMap<>();
        small.put("a", List.of(1, 2.5, "x"));
        small.put("b", null);
        assertEquals("{\"a\":[1,2.5,\"x\"],\"b\":null}", Json.write(small));
    }

    @Test
    void write_rejectsNonFiniteAndUnknownTypes() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(Float.POSITIVE_INFINITY)));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, "x")));
    }
}
