package dev.opnorm.robust.attack;

import dev.opnorm.nn.data.Domain;

/**
 * The fast gradient method, a one-step baseline: x* = clamp_domain(x + eps N_p(grad_x l_adv(x))) (FGSM for
 * p = inf). It is PGA with one iteration, alpha = eps and no random start (the step already lands on the
 * sphere, so the projection is the identity up to rounding), and shares its BatchNorm EVAL mode, losses,
 * validation and results.
 */
public final class Fgm {
    private Fgm() {
    }

    /**
     * FGM in the l_p ball of radius eps (cross-entropy, domain [-1, 1]; change them with the returned
     * {@link Pga}'s {@code loss(...)} and {@code domain(...)}).
     *
     * @throws IllegalArgumentException for p not in {1, 2, inf} or eps not positive and finite
     */
    public static Pga lp(double p, double eps) {
        return Pga.lp(p, eps).iterations(1).alpha(eps).randomStart(false).named("FGM");
    }

    public static Pga l1(double eps) {
        return lp(1, eps);
    }

    public static Pga l2(double eps) {
        return lp(2, eps);
    }

    public static Pga linf(double eps) {
        return lp(Double.POSITIVE_INFINITY, eps);
    }

    /** FGM on another domain. */
    public static Pga lp(double p, double eps, Domain domain) {
        return lp(p, eps).domain(domain);
    }
}
