package dev.opnorm.experiments.report;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One qualitative claim of the paper checked against measured numbers: what the paper says, the numbers
 * that were compared, the comparison as text, and whether it held. A claim is decided by the numbers
 * alone; a NaN among them makes it fail (nothing was shown). A failing claim is reported as failing.
 *
 * <pre>
 *   Claim.greater("fig3-at-beats-standard", "AT is much more robust than standard training (Fig. 3)",
 *           "AT accuracy at eps_train", 0.61, "standard accuracy at eps_train", 0.08, 0.2);
 * </pre>
 *
 * @param id         a stable identifier, e.g. "fig2-at-dampens-spectrum" (letters, digits, '-', '_', '.')
 * @param statement  the claim in words, with the figure it comes from
 * @param comparison how the numbers were compared, e.g. "AT > standard + 0.2"
 * @param numbers    the numbers compared, by name, in a stable order (copied, read-only)
 * @param held       whether the comparison held
 * @param note       context (sample sizes, caveats); may be empty
 */
public record Claim(String id, String statement, String comparison, Map<String, Double> numbers, boolean held,
                    String note) {
    public Claim {
        if (id == null || !id.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new IllegalArgumentException("claim id '" + id + "' must be letters, digits, '-', '_', '.'");
        }
        if (statement == null || statement.isBlank()) {
            throw new IllegalArgumentException("claim " + id + ": statement must not be blank");
        }
        if (comparison == null || comparison.isBlank()) {
            throw new IllegalArgumentException("claim " + id + ": comparison must not be blank");
        }
        if (numbers == null || numbers.isEmpty()) {
            throw new IllegalArgumentException("claim " + id + ": no numbers compared");
        }
        for (var e : numbers.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank() || e.getValue() == null) {
                throw new IllegalArgumentException("claim " + id + ": number '" + e.getKey() + "' = " + e.getValue());
            }
            if (Double.isNaN(e.getValue())) {
                held = false;
            }
        }
        numbers = Collections.unmodifiableMap(new LinkedHashMap<>(numbers));
        note = note == null ? "" : note;
    }

    /** A claim decided elsewhere (held is forced to false if any number is NaN). */
    public static Claim of(String id, String statement, String comparison, Map<String, Double> numbers, boolean held) {
        return new Claim(id, statement, comparison, numbers, held, "");
    }

    /** Holds iff a &gt; b + margin. */
    public static Claim greater(String id, String statement, String aName, double a, String bName, double b,
                                double margin) {
        return new Claim(id, statement, aName + " > " + bName + (margin != 0 ? " + " + margin : ""),
                two(aName, a, bName, b), a > b + margin, "");
    }

    /** Holds iff a &lt;= factor * b (e.g. "at most half of": factor 0.5). */
    public static Claim atMostFactor(String id, String statement, String aName, double a, String bName, double b,
                                     double factor) {
        return new Claim(id, statement, aName + " <= " + factor + " * " + bName, two(aName, a, bName, b),
                a <= factor * b, "");
    }

    /** Holds iff |a - b| &lt;= tolerance. */
    public static Claim within(String id, String statement, String aName, double a, String bName, double b,
                               double tolerance) {
        return new Claim(id, statement, "|" + aName + " - " + bName + "| <= " + tolerance, two(aName, a, bName, b),
                Math.abs(a - b) <= tolerance, "");
    }

    /** Holds iff a &gt;= threshold. */
    public static Claim atLeast(String id, String statement, String aName, double a, double threshold) {
        return new Claim(id, statement, aName + " >= " + threshold, Map.of(aName, a), a >= threshold, "");
    }

    /** Holds iff a &lt;= threshold. */
    public static Claim atMost(String id, String statement, String aName, double a, double threshold) {
        return new Claim(id, statement, aName + " <= " + threshold, Map.of(aName, a), a <= threshold, "");
    }

    /** A copy with the note set. */
    public Claim withNote(String text) {
        return new Claim(id, statement, comparison, numbers, held, text);
    }

    private static Map<String, Double> two(String aName, double a, String bName, double b) {
        if (aName.equals(bName)) {
            throw new IllegalArgumentException("claim compares '" + aName + "' with itself");
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put(aName, a);
        m.put(bName, b);
        return m;
    }
}
