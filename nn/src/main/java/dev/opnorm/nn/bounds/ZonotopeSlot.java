package dev.opnorm.nn.bounds;

/**
 * Where a {@link Backsub} context keeps the zonotope of the values at its point until the next step takes
 * it ({@link Backsub#takeZonotope}: its generators are large, and the next step may reuse them), and the
 * box of its bounds, which stays ({@link Backsub#prior}).
 */
public final class ZonotopeSlot {
    private Zonotope held;
    private Box known;

    /** A slot holding z (null: an empty slot). */
    public ZonotopeSlot(Zonotope z) {
        this.held = z;
    }

    /** The zonotope while it has not been taken. */
    public Zonotope peek() {
        return held;
    }

    /** Hands the zonotope over (null when taken already or none). */
    public Zonotope take() {
        Zonotope z = held;
        held = null;
        return z;
    }

    /**
     * {@code in} intersected with the zonotope's bounds (computed once, before the zonotope is taken); {@code in}
     * itself when there is none or its bounds are not finite.
     */
    public Box prior(Box in) {
        if (known == null && held != null) {
            known = held.box();
            if (known == null) { // not finite: nothing known, and nothing worth handing on
                held = null;
            }
        }
        return known == null ? in : in.intersect(known);
    }
}
