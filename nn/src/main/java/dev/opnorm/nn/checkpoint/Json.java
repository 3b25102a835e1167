package dev.opnorm.nn.checkpoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) reader and writer, enough for safetensors headers and run configs, with
 * no dependency.
 *
 * <p>Values map to Java as: object -> {@code Map<String, Object>} (a {@link LinkedHashMap} in document order,
 * unmodifiable), array -> {@code List<Object>} (unmodifiable), string -> {@link String}, number without
 * fraction or exponent -> {@link Long}, other numbers -> {@link Double}, true/false -> {@link Boolean},
 * null -> {@code null}.
 *
 * <p>Strict: exactly one value surrounded by optional whitespace; no comments, no trailing commas, no
 * single quotes, no NaN/Infinity, no leading zeros, no control characters in strings, no unpaired
 * surrogate escapes, no duplicate keys, integers must fit in a long, nesting at most {@link #MAX_DEPTH}.
 * Every problem is a {@link JsonException} giving the character offset.
 */
public final class Json {
    /** Deepest nesting of arrays and objects accepted by {@link #parse}. */
    public static final int MAX_DEPTH = 64;

    private final String s;
    private int pos;

    private Json(String s) {
        this.s = s;
    }

    /** A malformed document; {@link #offset()} is the character index of the problem. */
    public static final class JsonException extends Exception {
        private final int offset;

        JsonException(String message, int offset) {
            super(message + " at offset " + offset);
            this.offset = offset;
        }

        public int offset() {
            return offset;
        }
    }

    /** Parses one JSON document. */
    public static Object parse(String text) throws JsonException {
        if (text == null) {
            throw new JsonException("no JSON text (null)", 0);
        }
        Json p = new Json(text);
        p.skipWs();
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != text.length()) {
            throw new JsonException("unexpected content after the JSON value", p.pos);
        }
        return v;
    }

    /** Parses a document that must be an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) throws JsonException {
        Object v = parse(text);
        if (!(v instanceof Map)) {
            throw new JsonException("expected a JSON object, got " + typeName(v), 0);
        }
        return (Map<String, Object>) v;
    }

    /** "object", "array", "string", "number", "boolean" or "null". */
    public static String typeName(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Map) {
            return "object";
        }
        if (v instanceof List) {
            return "array";
        }
        if (v instanceof String) {
            return "string";
        }
        if (v instanceof Boolean) {
            return "boolean";
        }
        return v instanceof Number ? "number" : v.getClass().getSimpleName();
    }

    private void skipWs() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                pos++;
            } else {
                break;
            }
        }
    }

    private Object value(int depth) throws JsonException {
        if (pos >= s.length()) {
            throw new JsonException("unexpected end of JSON, expected a value", pos);
        }
        char c = s.charAt(pos);
        switch (c) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw new JsonException("unexpected character '" + printable(c) + "', expected a value", pos);
        }
    }

    private Object literal(String word, Object v) throws JsonException {
        if (!s.startsWith(word, pos)) {
            throw new JsonException("invalid literal, expected '" + word + "'", pos);
        }
        pos += word.length();
        return v;
    }

    private Map<String, Object> object(int depth) throws JsonException {
        if (depth > MAX_DEPTH) {
            throw new JsonException("nesting deeper than " + MAX_DEPTH, pos);
        }
        pos++; // '{'
        Map<String, Object> m = new LinkedHashMap<>();
        skipWs();
        if (pos < s.length() && s.charAt(pos) == '}') {
            pos++;
            return Collections.unmodifiableMap(m);
        }
        while (true) {
            skipWs();
            if (pos >= s.length() || s.charAt(pos) != '"') {
                throw new JsonException("expected a string key", pos);
            }
            int keyAt = pos;
            String key = string();
            skipWs();
            expect(':');
            skipWs();
            Object v = value(depth);
            if (m.containsKey(key)) {
                throw new JsonException("duplicate key \"" + key + "\"", keyAt);
            }
            m.put(key, v);
            skipWs();
            if (pos >= s.length()) {
                throw new JsonException("unterminated object", pos);
            }
            char c = s.charAt(pos++);
            if (c == '}') {
                return Collections.unmodifiableMap(m);
            }
            if (c != ',') {
                throw new JsonException("expected ',' or '}' in object, got '" + printable(c) + "'", pos - 1);
            }
        }
    }

    private List<Object> array(int depth) throws JsonException {
        if (depth > MAX_DEPTH) {
            throw new JsonException("nesting deeper than " + MAX_DEPTH, pos);
        }
        pos++; // '['
        List<Object> a = new ArrayList<>();
        skipWs();
        if (pos < s.length() && s.charAt(pos) == ']') {
            pos++;
            return Collections.unmodifiableList(a);
        }
        while (true) {
            skipWs();
            a.add(value(depth));
            skipWs();
            if (pos >= s.length()) {
                throw new JsonException("unterminated array", pos);
            }
            char c = s.charAt(pos++);
            if (c == ']') {
                return Collections.unmodifiableList(a);
            }
            if (c != ',') {
                throw new JsonException("expected ',' or ']' in array, got '" + printable(c) + "'", pos - 1);
            }
        }
    }

    private void expect(char c) throws JsonException {
        if (pos >= s.length() || s.charAt(pos) != c) {
            throw new JsonException("expected '" + c + "'", pos);
        }
        pos++;
    }

    private String string() throws JsonException {
        int start = pos;
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw new JsonException("unterminated string", start);
            }
            char c = s.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                throw new JsonException("unescaped control character 0x" + Integer.toHexString(c) + " in string",
                        pos - 1);
            }
            if (Character.isSurrogate(c)) {
                // a strict UTF-8 decoder only produces pairs, but parse() also takes arbitrary Java strings
                if (!Character.isHighSurrogate(c) || pos >= s.length() || !Character.isLowSurrogate(s.charAt(pos))) {
                    throw new JsonException("unpaired surrogate character in string", pos - 1);
                }
                sb.append(c).append(s.charAt(pos++));
                continue;
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= s.length()) {
                throw new JsonException("unterminated escape", pos);
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"': sb.append('"'); break;
                case '\\': sb.append('\\'); break;
                case '/': sb.append('/'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'n': sb.append('\n'); break;
                case 'r': sb.append('\r'); break;
                case 't': sb.append('\t'); break;
                case 'u': {
                    char u = hex4();
                    if (Character.isHighSurrogate(u)) {
                        if (!s.startsWith("\\u", pos)) {
                            throw new JsonException("unpaired high surrogate \\u" + hexOf(u), pos);
                        }
                        pos += 2;
                        char low = hex4();
                        if (!Character.isLowSurrogate(low)) {
                            throw new JsonException("high surrogate \\u" + hexOf(u) + " not followed by a low one",
                                    pos - 6);
                        }
                        sb.append(u).append(low);
                    } else if (Character.isLowSurrogate(u)) {
                        throw new JsonException("unpaired low surrogate \\u" + hexOf(u), pos - 6);
                    } else {
                        sb.append(u);
                    }
                    break;
                }
                default:
                    throw new JsonException("invalid escape '\\" + printable(e) + "'", pos - 2);
            }
        }
    }

    private char hex4() throws JsonException {
        if (pos + 4 > s.length()) {
            throw new JsonException("truncated \\u escape", pos);
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(s.charAt(pos + i), 16);
            if (d < 0 || s.charAt(pos + i) > 'f') {
                throw new JsonException("invalid hex digit in \\u escape", pos + i);
            }
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private Object number() throws JsonException {
        int start = pos;
        if (s.charAt(pos) == '-') {
            pos++;
        }
        if (pos >= s.length() || !isDigit(s.charAt(pos))) {
            throw new JsonException("invalid number: expected a digit", pos);
        }
        if (s.charAt(pos) == '0') {
            pos++;
            if (pos < s.length() && isDigit(s.charAt(pos))) {
                throw new JsonException("invalid number: leading zero", start);
            }
        } else {
            while (pos < s.length() && isDigit(s.charAt(pos))) {
                pos++;
            }
        }
        boolean integral = true;
        if (pos < s.length() && s.charAt(pos) == '.') {
            integral = false;
            pos++;
            if (pos >= s.length() || !isDigit(s.charAt(pos))) {
                throw new JsonException("invalid number: expected a digit after '.'", pos);
            }
            while (pos < s.length() && isDigit(s.charAt(pos))) {
                pos++;
            }
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            integral = false;
            pos++;
            if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                pos++;
            }
            if (pos >= s.length() || !isDigit(s.charAt(pos))) {
                throw new JsonException("invalid number: expected a digit in the exponent", pos);
            }
            while (pos < s.length() && isDigit(s.charAt(pos))) {
                pos++;
            }
        }
        String tok = s.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(tok);
            } catch (NumberFormatException ex) {
                throw new JsonException("integer " + tok + " does not fit in 64 bits", start);
            }
        }
        double d = Double.parseDouble(tok);
        if (Double.isInfinite(d)) {
            throw new JsonException("number " + tok + " overflows a double", start);
        }
        return d;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static String printable(char c) {
        return c < 0x20 || c > 0x7e ? "\\u" + hexOf(c) : String.valueOf(c);
    }

    private static String hexOf(char c) {
        return String.format("%04x", (int) c);
    }

    // ---- writing ----

    /**
     * Compact JSON for a value built from Map (String keys), List, String, Number, Boolean and null, in
     * the maps' iteration order. Long/Integer/Short/Byte are written as integers, Double/Float with
     * {@code Double.toString} (which is valid JSON).
     *
     * @throws IllegalArgumentException for non-finite numbers, non-String keys or other types
     */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("JSON value nested deeper than " + MAX_DEPTH);
        }
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String str) {
            quote(sb, str);
        } else if (v instanceof Boolean b) {
            sb.append(b.booleanValue());
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            sb.append(((Number) v).longValue());
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException("JSON cannot represent the number " + d);
            }
            sb.append(v instanceof Float f ? Float.toString(f) : Double.toString(d));
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                quote(sb, key);
                sb.append(':');
                write(sb, e.getValue(), depth + 1);
            }
            sb.append('}');
        } else if (v instanceof List<?> list) {
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                write(sb, list.get(i), depth + 1);
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    /** Appends {@code str} as a JSON string literal (quotes, backslash and control characters escaped). */
    public static void quote(StringBuilder sb, String str) {
        sb.append('"');
        for (int i = 0; i < str.length(); i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    if (c < 0x20) {
                        sb.append("\\u").append(hexOf(c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }
}
