package dev.opnorm.linalg;

import java.util.Locale;

/**
 * l_p norms for p in [1, inf], the Holder conjugate, and parsing/printing of p.
 *
 * <p>Convention: {@code p} is a {@code double}, {@link Double#POSITIVE_INFINITY} stands for inf.
 * p = 1, 2 and inf have exact fast paths; any other p >= 1 is computed with a max-rescaling so that
 * {@code |x_i|^p} neither overflows nor underflows. All sums accumulate in double. The ranged
 * overloads (offset, length) read the slice {@code x[off, off+len)}, which is how a batch stores
 * one example.
 */
public final class Norms {
    private Norms() {}

    /** ||x||_p of the whole array. */
    public static double lp(float[] x, double p) {
        return lp(x, 0, x.length, p);
    }

    /** ||x||_p of the whole array. */
    public static double lp(double[] x, double p) {
        checkP(p, "p");
        if (p == 1) {
            double s = 0;
            for (double v : x) s += Math.abs(v);
            return s;
        }
        if (p == Double.POSITIVE_INFINITY) {
            double m = 0;
            for (double v : x) m = Math.max(m, Math.abs(v));
            return m;
        }
        double m = 0;
        for (double v : x) m = Math.max(m, Math.abs(v));
        if (m == 0 || Double.isNaN(m)) return m;
        double s = 0;
        if (p == 2) {
            for (double v : x) { double t = v / m; s += t * t; }
            return m * Math.sqrt(s);
        }
        for (double v : x) s += Math.pow(Math.abs(v) / m, p);
        return m * Math.pow(s, 1 / p);
    }

    /**
     * ||x[off, off+len)||_p.
     *
     * @throws IllegalArgumentException if p &lt; 1 or NaN, or the slice is out of range
     */
    public static double lp(float[] x, int off, int len, double p) {
        checkP(p, "p");
        checkSlice(x.length, off, len);
        if (p == 1) {
            double s = 0;
            for (int i = off; i < off + len; i++) s += Math.abs(x[i]);
            return s;
        }
        double m = 0;
        for (int i = off; i < off + len; i++) m = Math.max(m, Math.abs((double) x[i]));
        if (p == Double.POSITIVE_INFINITY || m == 0 || Double.isNaN(m)) return m;
        if (p == 2) {
            // float squares cannot overflow a double, so no rescaling is needed on this path
            double s = 0;
            for (int i = off; i < off + len; i++) { double t = x[i]; s += t * t; }
            return Math.sqrt(s);
        }
        double s = 0;
        for (int i = off; i < off + len; i++) s += Math.pow(Math.abs(x[i]) / m, p);
        return m * Math.pow(s, 1 / p);
    }

    /** &lt;a, b&gt; over the whole arrays, accumulated in double. */
    public static double dot(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("dot: lengths differ (" + a.length + " vs " + b.length + ")");
        }
        return dot(a, 0, b, 0, a.length);
    }

    /** &lt;a[ao, ao+len), b[bo, bo+len)&gt;, accumulated in double. */
    public static double dot(float[] a, int ao, float[] b, int bo, int len) {
        checkSlice(a.length, ao, len);
        checkSlice(b.length, bo, len);
        double s = 0;
        for (int i = 0; i < len; i++) s += (double) a[ao + i] * b[bo + i];
        return s;
    }

    /**
     * The Holder conjugate p* with 1/p + 1/p* = 1: 1 -> inf, inf -> 1, 2 -> 2, otherwise p/(p-1).
     *
     * @throws IllegalArgumentException if p &lt; 1 or NaN
     */
    public static double conjugate(double p) {
        checkP(p, "p");
        if (p == 1) return Double.POSITIVE_INFINITY;
        if (p == Double.POSITIVE_INFINITY) return 1;
        if (p == 2) return 2;
        return p / (p - 1);
    }

    /**
     * Parses an exponent: "inf", "infinity", "Infinity" (any case) give {@link Double#POSITIVE_INFINITY};
     * anything else must be a decimal number >= 1.
     *
     * @throws IllegalArgumentException naming the text if it is not a number >= 1 or inf
     */
    public static double parse(String text) {
        if (text == null) throw new IllegalArgumentException("norm exponent missing: expected a number >= 1 or 'inf'");
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("inf") || t.equals("infinity") || t.equals("+inf")) return Double.POSITIVE_INFINITY;
        double p;
        try {
            p = Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid norm exponent '" + text + "': expected a number >= 1 or 'inf'");
        }
        if (!(p >= 1)) {
            throw new IllegalArgumentException("invalid norm exponent '" + text + "': must be >= 1 (or 'inf')");
        }
        return p;
    }

    /** Prints p as "inf", "1", "2" or the shortest decimal, the inverse of {@link #parse}. */
    public static String format(double p) {
        if (p == Double.POSITIVE_INFINITY) return "inf";
        if (p == Math.rint(p) && Math.abs(p) < 1e15) return Long.toString((long) p);
        return Double.toString(p);
    }

    /** @throws IllegalArgumentException unless p >= 1 (inf allowed); {@code name} is used in the message */
    public static void checkP(double p, String name) {
        if (!(p >= 1)) {
            throw new IllegalArgumentException("invalid " + name + " = " + p + ": norm exponents must be >= 1 (or inf)");
        }
    }

    static void checkSlice(int length, int off, int len) {
        if (off < 0 || len < 0 || off + len > length || off + len < 0) {
            throw new IllegalArgumentException("slice [" + off + ", " + off + "+" + len + ") out of range for length " + length);
        }
    }
}
