package dev.opnorm.robust.reg;

/** Argument checks shared by the regularizers. */
final class Checks {
    private Checks() {
    }

    /** @throws IllegalArgumentException naming the regularizer unless lambda is finite and >= 0 */
    static void lambda(String regularizer, double lambda) {
        if (!(lambda >= 0) || Double.isInfinite(lambda)) {
            throw new IllegalArgumentException(regularizer + ": lambda must be finite and >= 0, got " + lambda);
        }
    }

    /** @throws IllegalArgumentException naming the regularizer and the setting unless n >= 1 */
    static void atLeastOne(String regularizer, String what, int n) {
        if (n < 1) {
            throw new IllegalArgumentException(regularizer + ": " + what + " must be >= 1, got " + n);
        }
    }
}
