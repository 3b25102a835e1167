package dev.opnorm.experiments.report;

import java.util.Locale;

/** The JSON encodings the report writers need: strings, numbers, booleans and null. */
final class Json {
    private Json() {
    }

    /** A JSON string literal (quotes, backslash and control characters escaped). */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** A JSON number, round-trip exact; null for NaN and infinities, which JSON cannot represent. */
    static String number(double v) {
        if (!Double.isFinite(v)) {
            return "null";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    /** A scalar: a Number as a JSON number, a Boolean as true/false, null as null, anything else as a string. */
    static String value(Object v) {
        if (v == null) {
            return "null";
        } else if (v instanceof Boolean b) {
            return b.toString();
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return v.toString();
        } else if (v instanceof Number n) {
            return number(n.doubleValue());
        }
        return quote(String.valueOf(v));
    }
}
