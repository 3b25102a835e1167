package dev.opnorm.experiments.report;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One claim of the paper as a measured effect, its 95 % interval and a bound: the paper's sentence made numeric
 * (e.g. "much more robust": accuracy of AT minus standard above 0.2), with the reason for the number. The verdict
 * follows from the interval alone:
 * <ul>
 *   <li>{@link Verdict#HELD}: the whole interval lies on the claim's side of the bound;</li>
 *   <li>{@link Verdict#CONTRADICTED}: the whole interval lies on the other side;</li>
 *   <li>{@link Verdict#INCONCLUSIVE}: the interval reaches the bound (or could not be computed): the data cannot
 *       tell.</li>
 * </ul>
 * Ends are compared strictly: an interval touching the bound is inconclusive.
 *
 * <pre>
 *   Claim.above("fig3-at-much-more-robust", "Fig. 3: AT is much more robust than standard training",
 *           "AT - standard accuracy at eps_train", estimate, 0.2, "'much more robust' read as 20 points");
 * </pre>
 *
 * @param id         a stable identifier, e.g. "fig2-at-dampens-spectrum" (letters, digits, '-', '_', '.')
 * @param statement  the claim in words, with the figure it comes from
 * @param effectName what the effect measures
 * @param effect     the effect, its interval and the interval's method
 * @param side       on which side of the bound the claim puts the effect
 * @param bound      the numeric bound (for {@link Side#WITHIN}: the half width around 0)
 * @param reason     why this bound: the paper's words it stands for
 * @param numbers    context numbers by name (e.g. each network's accuracy), in a stable order (copied, read-only)
 * @param note       context (sample sizes, caveats); may be empty
 */
public record Claim(String id, String statement, String effectName, Estimate effect, Side side, double bound,
                    String reason, Map<String, Double> numbers, String note) {

    /** Where the claim puts the effect relative to the bound. */
    public enum Side {
        /** effect &gt; bound. */
        ABOVE,
        /** effect &lt; bound. */
        BELOW,
        /** -bound &lt; effect &lt; bound (e.g. "about the same"). */
        WITHIN
    }

    /** The three outcomes of a claim. */
    public enum Verdict {
        HELD, CONTRADICTED, INCONCLUSIVE;

        /** Lower case, as in claims.json. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Claim {
        if (id == null || !id.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new IllegalArgumentException("claim id '" + id + "' must be letters, digits, '-', '_', '.'");
        }
        if (statement == null || statement.isBlank()) {
            throw new IllegalArgumentException("claim " + id + ": statement must not be blank");
        }
        if (effectName == null || effectName.isBlank()) {
            throw new IllegalArgumentException("claim " + id + ": effect name must not be blank");
        }
        if (effect == null || side == null) {
            throw new IllegalArgumentException("claim " + id + ": effect and side are required");
        }
        if (!Double.isFinite(bound) || side == Side.WITHIN && bound <= 0) {
            throw new IllegalArgumentException("claim " + id + ": bound " + bound + " must be finite (and positive "
                    + "for a WITHIN claim)");
        }
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("claim " + id + ": the bound needs its reason");
        }
        numbers = numbers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(numbers));
        for (var e : numbers.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank() || e.getValue() == null) {
                throw new IllegalArgumentException("claim " + id + ": number '" + e.getKey() + "' = " + e.getValue());
            }
        }
        note = note == null ? "" : note;
    }

    /** effect &gt; bound. */
    public static Claim above(String id, String statement, String effectName, Estimate effect, double bound,
                              String reason) {
        return new Claim(id, statement, effectName, effect, Side.ABOVE, bound, reason, Map.of(), "");
    }

    /** effect &lt; bound. */
    public static Claim below(String id, String statement, String effectName, Estimate effect, double bound,
                              String reason) {
        return new Claim(id, statement, effectName, effect, Side.BELOW, bound, reason, Map.of(), "");
    }

    /** |effect| &lt; bound. */
    public static Claim within(String id, String statement, String effectName, Estimate effect, double bound,
                               String reason) {
        return new Claim(id, statement, effectName, effect, Side.WITHIN, bound, reason, Map.of(), "");
    }

    /** The verdict from the interval (see the class comment). */
    public Verdict verdict() {
        double lo = effect.low(), hi = effect.high();
        if (!(lo <= hi)) {
            return Verdict.INCONCLUSIVE; // NaN: the interval could not be computed
        }
        return switch (side) {
            case ABOVE -> lo > bound ? Verdict.HELD : hi < bound ? Verdict.CONTRADICTED : Verdict.INCONCLUSIVE;
            case BELOW -> hi < bound ? Verdict.HELD : lo > bound ? Verdict.CONTRADICTED : Verdict.INCONCLUSIVE;
            case WITHIN -> lo > -bound && hi < bound ? Verdict.HELD
                    : lo > bound || hi < -bound ? Verdict.CONTRADICTED : Verdict.INCONCLUSIVE;
        };
    }

    /** Whether the verdict is {@link Verdict#HELD}. */
    public boolean held() {
        return verdict() == Verdict.HELD;
    }

    /** The claim's side of the bound as text, e.g. "AT - standard > 0.2". */
    public String comparison() {
        return switch (side) {
            case ABOVE -> effectName + " > " + bound;
            case BELOW -> effectName + " < " + bound;
            case WITHIN -> "|" + effectName + "| < " + bound;
        };
    }

    /** A copy with context numbers. */
    public Claim withNumbers(Map<String, Double> values) {
        return new Claim(id, statement, effectName, effect, side, bound, reason, values, note);
    }

    /** A copy with the note set. */
    public Claim withNote(String text) {
        return new Claim(id, statement, effectName, effect, side, bound, reason, numbers, text);
    }
}
