package dev.opnorm.robust.train;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.DdSpectralNorm;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.reg.InputGradient;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The catalogue of the paper's training methods: one {@link Kind} per method, the knobs each one uses with
 * their defaults (the {@code DEFAULT_*} constants and {@link Builder#build()}), and the one construction of
 * the {@link Objective} ({@link #objective}). Every entry point (the {@code dev.opnorm.api} facade,
 * {@code opnorm train}, the reproduction) resolves its method here, so a method is the same wherever it is
 * built. A spec holds every knob resolved; knobs a method does not use hold 0 / false / null.
 * <pre>{@code
 * MethodSpec at = MethodSpec.of(MethodSpec.Kind.AT).eps(1.5).attackIterations(5).build();
 * Objective objective = at.objective(model, train.images().shape);
 * }</pre>
 *
 * @param kind                the method
 * @param lambda              regularization strength (regularized methods, interp)
 * @param eps                 attack radius (at, interp) or finite-difference step (dd-snr-sq, dd-onr), input units
 * @param p                   attack norm (at) or input norm (dd-onr)
 * @param q                   output norm (dd-onr)
 * @param qPower              dd-onr: penalize (lambda/q) ||.||_q^q instead of the norm
 * @param attackIterations    PGA steps per batch (at, interp)
 * @param powerIterations     power iterations per batch (d.d. methods) or power steps per update (global)
 * @param cleanWeight         weight of the clean cross-entropy (at)
 * @param adversarialWeight   weight of the adversarial cross-entropy, Eq. 14's lambda (at; interp: the AT end's)
 * @param adversarialFraction fraction of each batch attacked (at, interp)
 * @param t                   interp: 1 = adversarial training, 0 = d.d. SNR
 * @param penaltyMode         BatchNorm mode of the finite-difference passes (dd-snr-sq, dd-onr, interp)
 */
public record MethodSpec(Kind kind, double lambda, double eps, double p, double q, boolean qPower,
                         int attackIterations, int powerIterations, double cleanWeight, double adversarialWeight,
                         double adversarialFraction, double t, BnMode penaltyMode) {

    /** Knob names (the command line's flags without "--"). */
    public static final String LAMBDA = "lambda", EPS = "eps", P = "p", Q = "q", Q_POWER = "q-power",
            ATTACK_ITERATIONS = "attack-iterations", POWER_ITERATIONS = "power-iterations",
            ADV_FRACTION = "adv-fraction", CLEAN_WEIGHT = "clean-weight", ADV_WEIGHT = "adv-weight",
            INTERP_T = "interp-t", REG_BN = "reg-bn";

    /** The paper's l2 training radius on CIFAR-10 (inputs in [-1, 1], about 8/255 per pixel). */
    public static final double DEFAULT_L2_EPS = 1.75;
    /** The l_inf radius 8/255 of [0, 1] images, in [-1, 1] units. */
    public static final double DEFAULT_LINF_EPS = 16.0 / 255;
    /** PGA iterations of adversarial training (the paper's 10, step 2 eps / iterations, random start). */
    public static final int DEFAULT_ATTACK_ITERATIONS = 10;
    /** Power iterations per batch of the d.d. regularizers (the paper's d.d. SNR setting). */
    public static final int DEFAULT_DD_ITERATIONS = 10;
    /** Power steps per update of the global regularizers (Yoshida and Miyato's one persistent step). */
    public static final int DEFAULT_GLOBAL_ITERATIONS = 1;
    /** Global SNR strength (the paper's 3e-4). */
    public static final double DEFAULT_GLOBAL_LAMBDA = 3e-4;
    /**
     * The paper's d.d. SNR strength in Eq. 7's form (lambda/2) sigma(J)^2; the sum-of-squares form
     * (lambda/2) ||f(x + eps v) - f(x)||^2 ~ (lambda eps^2 / 2) sigma^2 defaults to this over eps^2.
     */
    public static final double DEFAULT_DD_SNR_LAMBDA = 0.02;
    /** d.d. (p,q) ONR and input-gradient strength. */
    public static final double DEFAULT_UNIT_LAMBDA = 1;
    /**
     * Fraction of each batch that adversarial training attacks. The paper does not state one: its
     * "fraction of adversarial examples relative to clean examples" (Sec. 5.3) is Eq. 14's weight lambda
     * ({@link #adversarialWeight}), not a share of the batch. Its reference code appends PGA copies of 75 % of
     * each batch to the clean batch, and the reproduction has always trained so; 0.75 keeps that, for every
     * entry point.
     */
    public static final double DEFAULT_ADV_FRACTION = 0.75;
    /** Weights of Eq. 14's clean and adversarial cross-entropy. */
    public static final double DEFAULT_CLEAN_WEIGHT = 1, DEFAULT_ADV_WEIGHT = 1;
    /** The middle of Fig. 7's AT to d.d. SNR path. */
    public static final double DEFAULT_INTERP_T = 0.5;

    /** The training methods, with the knobs each one uses. */
    public enum Kind {
        /** Cross-entropy only. */
        STANDARD("standard"),
        /** Adversarial training, Eq. 14: cleanWeight CE(x) + adversarialWeight CE(x*), x* = l_p PGA. */
        AT("at", EPS, P, ATTACK_ITERATIONS, ADV_FRACTION, CLEAN_WEIGHT, ADV_WEIGHT),
        /** Global SNR, conv kernels reshaped (Yoshida and Miyato). */
        GLOBAL_SNR("global-snr", LAMBDA, POWER_ITERATIONS),
        /** Global SNR with each conv's true operator norm. */
        GLOBAL_CONV_NORM("global-conv-norm", LAMBDA, POWER_ITERATIONS),
        /** d.d. SNR, Eq. 7: (lambda/2) sigma(J_f(x))^2 from the power method. */
        DD_SNR("dd-snr", LAMBDA, POWER_ITERATIONS),
        /** d.d. SNR in the sum-of-squares form the paper trained with. */
        DD_SNR_SQ("dd-snr-sq", LAMBDA, EPS, POWER_ITERATIONS, REG_BN),
        /** d.d. (p,q) operator norm regularization, lambda ||f(x + eps v) - f(x)||_q. */
        DD_ONR("dd-onr", LAMBDA, EPS, P, Q, Q_POWER, POWER_ITERATIONS, REG_BN),
        /** Input-gradient regularization (double backpropagation). */
        INPUT_GRAD("input-grad", LAMBDA),
        /** Fig. 7's AT to d.d. SNR interpolation (l2 PGA and sum-of-squares d.d. SNR with the same eps). */
        INTERP("interp", LAMBDA, EPS, ATTACK_ITERATIONS, POWER_ITERATIONS, ADV_FRACTION, ADV_WEIGHT, INTERP_T, REG_BN);

        private final String id;
        private final Set<String> knobs;

        Kind(String id, String... knobs) {
            this.id = id;
            this.knobs = Set.of(knobs);
        }

        /** The method's name on the command line, e.g. "dd-snr-sq". */
        public String id() {
            return id;
        }

        /** The knobs this method uses. */
        public Set<String> knobs() {
            return knobs;
        }

        /**
         * The kind called {@code id} (case-insensitive).
         *
         * @throws IllegalArgumentException listing the methods for an unknown name
         */
        public static Kind parse(String id) {
            for (Kind k : values()) {
                if (id != null && k.id.equalsIgnoreCase(id.trim())) {
                    return k;
                }
            }
            List<String> names = new ArrayList<>();
            for (Kind k : values()) {
                names.add(k.id);
            }
            throw new IllegalArgumentException("method must be one of " + String.join(", ", names) + ", got '" + id
                    + "'");
        }

        /** The methods that use a knob, comma separated (for error messages). */
        public static String users(String knob) {
            List<String> names = new ArrayList<>();
            for (Kind k : values()) {
                if (k.knobs.contains(knob)) {
                    names.add(k.id);
                }
            }
            return String.join(", ", names);
        }
    }

    /**
     * Checks a spec built directly (a {@link Builder} has already resolved the defaults).
     *
     * @throws IllegalArgumentException naming the knob for a value out of range, or a knob the method does not
     *                                  use that is not 0 / false / null
     */
    public MethodSpec {
        validate(kind, lambda, eps, p, q, qPower, attackIterations, powerIterations, cleanWeight, adversarialWeight,
                adversarialFraction, t, penaltyMode, "");
    }

    /** A builder for {@code kind}, every knob at its default until set. */
    public static Builder of(Kind kind) {
        if (kind == null) {
            throw new IllegalArgumentException("method kind must not be null");
        }
        return new Builder(kind);
    }

    /** The method with every knob at its default. */
    public static MethodSpec defaults(Kind kind) {
        return of(kind).build();
    }

    /**
     * The knobs this method uses with their values, in a fixed order (for run records and comparisons); BatchNorm
     * modes as their names.
     */
    public Map<String, Object> knobs() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", kind.id);
        Map<String, Object> all = new LinkedHashMap<>();
        all.put(LAMBDA, lambda);
        all.put(EPS, eps);
        all.put(P, p);
        all.put(Q, q);
        all.put(Q_POWER, qPower);
        all.put(ATTACK_ITERATIONS, attackIterations);
        all.put(POWER_ITERATIONS, powerIterations);
        all.put(CLEAN_WEIGHT, cleanWeight);
        all.put(ADV_WEIGHT, adversarialWeight);
        all.put(ADV_FRACTION, adversarialFraction);
        all.put(INTERP_T, t);
        all.put(REG_BN, penaltyMode == null ? null : penaltyMode.name().toLowerCase(Locale.ROOT));
        all.forEach((k, v) -> {
            if (kind.knobs.contains(k)) {
                m.put(k, v);
            }
        });
        return m;
    }

    /** The norm of the method's PGA: {@link #p} for at, l2 for interp (whose d.d. SNR end is spectral). */
    private double attackNorm() {
        return kind == Kind.INTERP ? 2 : p;
    }

    /**
     * The attack of at and interp: l_p PGA at radius {@link #eps}, {@link #attackIterations} steps of
     * 2 eps / iterations from a uniform random start, cross-entropy, inputs in [-1, 1].
     *
     * @throws IllegalStateException for a method without an attack
     */
    public Pga attack() {
        if (kind != Kind.AT && kind != Kind.INTERP) {
            throw new IllegalStateException("method " + kind.id + " has no attack");
        }
        return Pga.lp(attackNorm(), eps).iterations(attackIterations);
    }

    /**
     * The objective of this method: the one place where a method becomes an {@link Objective}.
     *
     * @param model the network to train; needed by global-snr and global-conv-norm (they keep per-layer
     *              vectors), ignored otherwise (may be null)
     * @param input the per-example input shape (a batch shape is fine); needed by global-conv-norm only
     * @throws IllegalArgumentException when a needed model or input shape is missing
     */
    public Objective objective(Layer model, Shape input) {
        return objective(model, input, null);
    }

    /**
     * {@link #objective(Layer, Shape)} with a caller's own PGA for at / interp (e.g. other restarts or step size):
     * it must have this spec's norm, radius and iteration count.
     *
     * @param attack the attack, or null for {@link #attack()}
     * @throws IllegalArgumentException for an attack on a method without one, or one that disagrees with the spec
     */
    public Objective objective(Layer model, Shape input, Pga attack) {
        Pga a = null;
        if (kind == Kind.AT || kind == Kind.INTERP) {
            a = attack == null ? attack() : attack;
            if (a.p() != attackNorm() || a.eps() != eps || a.iterations() != attackIterations) {
                throw new IllegalArgumentException("method " + kind.id + ": attack " + a.describe() + " does not match "
                        + "the spec's p = " + Norms.format(attackNorm()) + ", eps = " + eps + ", attack-iterations = "
                        + attackIterations);
            }
        } else if (attack != null) {
            throw new IllegalArgumentException("method " + kind.id + " has no attack, got " + attack.describe());
        }
        switch (kind) {
            case STANDARD:
                return Objective.standard();
            case AT:
                return Objective.adversarial(a, cleanWeight, adversarialWeight, adversarialFraction);
            case GLOBAL_SNR:
                return Objective.regularized(GlobalSpectralNorm.reshaped(need(model, "the model"), lambda,
                        powerIterations));
            case GLOBAL_CONV_NORM:
                return Objective.regularized(GlobalSpectralNorm.convolution(need(model, "the model"),
                        need(input, "the model's input shape"), lambda, powerIterations));
            case DD_SNR:
                return Objective.regularized(new DdSpectralNorm(lambda, powerIterations));
            case DD_SNR_SQ:
                return Objective.regularized(DdOperatorNorm.sumOfSquares(lambda, eps, powerIterations, penaltyMode));
            case DD_ONR:
                return Objective.regularized(new DdOperatorNorm(p, q, lambda, eps, powerIterations, qPower,
                        penaltyMode));
            case INPUT_GRAD:
                return Objective.regularized(new InputGradient(lambda));
            case INTERP:
                return Objective.convex(t, a, adversarialWeight, adversarialFraction, lambda, eps, powerIterations,
                        penaltyMode);
            default:
                throw new IllegalStateException("unknown method " + kind);
        }
    }

    private <T> T need(T value, String what) {
        if (value == null) {
            throw new IllegalArgumentException("method " + kind.id + " needs " + what);
        }
        return value;
    }

    /**
     * Sets the knobs of one method; {@link #build()} fills the rest with their defaults, checks every value and
     * rejects a knob the method does not use (a knob that silently does nothing hides mistakes).
     */
    public static final class Builder {
        private final Kind kind;
        private String prefix = "";
        private final Map<String, Object> given = new LinkedHashMap<>();

        private Builder(Kind kind) {
            this.kind = kind;
        }

        /**
         * Names knobs in error messages as {@code prefix + knob}, e.g. "--" for a command line ("--lambda must
         * be ..."); the method itself is then named {@code prefix + "method"}.
         */
        public Builder knobPrefix(String prefix) {
            this.prefix = prefix == null ? "" : prefix;
            return this;
        }

        private Builder set(String knob, Object value) {
            if (value == null) {
                given.remove(knob);
            } else {
                given.put(knob, value);
            }
            return this;
        }

        /** Regularization strength; null: the method's default. */
        public Builder lambda(Double v) {
            return set(LAMBDA, v);
        }

        /** Attack radius or finite-difference step; null: the default for the norm. */
        public Builder eps(Double v) {
            return set(EPS, v);
        }

        /** Attack norm (at: 1, 2, inf) or input norm (dd-onr: >= 1, inf). */
        public Builder p(Double v) {
            return set(P, v);
        }

        /** Output norm of dd-onr (>= 1, inf). */
        public Builder q(Double v) {
            return set(Q, v);
        }

        /** dd-onr: the q-th power form (needs a finite q). */
        public Builder qPower(Boolean v) {
            return set(Q_POWER, v);
        }

        /** PGA steps per batch (>= 1). */
        public Builder attackIterations(Integer v) {
            return set(ATTACK_ITERATIONS, v);
        }

        /** Power iterations per batch / power steps per update (>= 1). */
        public Builder powerIterations(Integer v) {
            return set(POWER_ITERATIONS, v);
        }

        /** Fraction of each batch attacked, in (0, 1]. */
        public Builder adversarialFraction(Double v) {
            return set(ADV_FRACTION, v);
        }

        /** Weight of the clean cross-entropy (>= 0). */
        public Builder cleanWeight(Double v) {
            return set(CLEAN_WEIGHT, v);
        }

        /** Weight of the adversarial cross-entropy (>= 0). */
        public Builder adversarialWeight(Double v) {
            return set(ADV_WEIGHT, v);
        }

        /** interp's t in [0, 1]. */
        public Builder t(Double v) {
            return set(INTERP_T, v);
        }

        /** BatchNorm mode of the finite-difference passes. */
        public Builder penaltyMode(BnMode v) {
            return set(REG_BN, v);
        }

        /** Norm, radius and iteration count of an attack (at, interp), so the spec describes that attack. */
        public Builder attackOf(Pga attack) {
            if (attack == null) {
                throw new IllegalArgumentException(kind.id + ": attack must not be null");
            }
            if (kind != Kind.INTERP) {
                p(attack.p());
            }
            return eps(attack.eps()).attackIterations(attack.iterations());
        }

        private double dbl(String knob, double dflt) {
            Object v = given.get(knob);
            return v == null ? dflt : ((Number) v).doubleValue();
        }

        private int integer(String knob, int dflt) {
            Object v = given.get(knob);
            return v == null ? dflt : ((Number) v).intValue();
        }

        /**
         * The spec: given knobs checked, the others at their defaults: p 2 (at) or inf (dd-onr), q 2, eps 1.75 for
         * l2 and 16/255 for l_inf, lambda 3e-4 (global), 0.02 (dd-snr), 0.02 / eps^2 (dd-snr-sq, interp) or 1
         * (dd-onr, input-grad), 10 attack and d.d. power iterations, 1 global power step, weights 1, attacked
         * fraction 0.75, t 0.5, BatchNorm TRAIN in the finite-difference passes.
         *
         * @throws IllegalArgumentException naming the knob for a knob the method does not use, a value out of
         *                                  range, or an eps that has no default for the given p
         */
        public MethodSpec build() {
            for (String knob : given.keySet()) {
                if (!kind.knobs.contains(knob)) {
                    throw new IllegalArgumentException(prefix + knob + " does not apply to " + prefix + "method "
                            + kind.id + " (it is used by: " + Kind.users(knob) + ")");
                }
            }
            boolean uses = kind.knobs.contains(P);
            double p = uses ? dbl(P, kind == Kind.DD_ONR ? Double.POSITIVE_INFINITY : 2) : 0;
            if (uses) {
                // the norm first: the eps default depends on it
                checkNorm(kind, p, prefix);
            }
            double q = kind.knobs.contains(Q) ? dbl(Q, 2) : 0;
            double eps = 0;
            if (kind.knobs.contains(EPS)) {
                double norm = kind.knobs.contains(P) ? p : 2;
                if (given.containsKey(EPS)) {
                    eps = dbl(EPS, 0);
                } else if (norm == 2) {
                    eps = DEFAULT_L2_EPS;
                } else if (norm == Double.POSITIVE_INFINITY) {
                    eps = DEFAULT_LINF_EPS;
                } else {
                    throw new IllegalArgumentException(prefix + EPS + " has no default for " + prefix + P + " "
                            + Norms.format(norm) + ": give one");
                }
            }
            double lambda = 0;
            if (kind.knobs.contains(LAMBDA)) {
                double dflt = switch (kind) {
                    case GLOBAL_SNR, GLOBAL_CONV_NORM -> DEFAULT_GLOBAL_LAMBDA;
                    case DD_SNR -> DEFAULT_DD_SNR_LAMBDA;
                    // the sum-of-squares penalty ~ (lambda eps^2 / 2) sigma^2: the paper's strength for any step
                    case DD_SNR_SQ, INTERP -> DEFAULT_DD_SNR_LAMBDA / (eps * eps);
                    default -> DEFAULT_UNIT_LAMBDA;
                };
                lambda = dbl(LAMBDA, dflt);
            }
            boolean qPower = kind.knobs.contains(Q_POWER) && Boolean.TRUE.equals(given.get(Q_POWER));
            int attackIterations = kind.knobs.contains(ATTACK_ITERATIONS)
                    ? integer(ATTACK_ITERATIONS, DEFAULT_ATTACK_ITERATIONS) : 0;
            int powerIterations = !kind.knobs.contains(POWER_ITERATIONS) ? 0
                    : integer(POWER_ITERATIONS, kind == Kind.GLOBAL_SNR || kind == Kind.GLOBAL_CONV_NORM
                    ? DEFAULT_GLOBAL_ITERATIONS : DEFAULT_DD_ITERATIONS);
            double cleanWeight = kind.knobs.contains(CLEAN_WEIGHT) ? dbl(CLEAN_WEIGHT, DEFAULT_CLEAN_WEIGHT) : 0;
            double advWeight = kind.knobs.contains(ADV_WEIGHT) ? dbl(ADV_WEIGHT, DEFAULT_ADV_WEIGHT) : 0;
            double fraction = kind.knobs.contains(ADV_FRACTION) ? dbl(ADV_FRACTION, DEFAULT_ADV_FRACTION) : 0;
            double t = kind.knobs.contains(INTERP_T) ? dbl(INTERP_T, DEFAULT_INTERP_T) : 0;
            BnMode mode = kind.knobs.contains(REG_BN)
                    ? (given.containsKey(REG_BN) ? (BnMode) given.get(REG_BN) : BnMode.TRAIN) : null;
            validate(kind, lambda, eps, p, q, qPower, attackIterations, powerIterations, cleanWeight, advWeight,
                    fraction, t, mode, prefix);
            return new MethodSpec(kind, lambda, eps, p, q, qPower, attackIterations, powerIterations, cleanWeight,
                    advWeight, fraction, t, mode);
        }
    }

    /** p of at is PGA's norm (1, 2 or inf); of dd-onr any input norm >= 1. */
    private static void checkNorm(Kind kind, double p, String prefix) {
        if (kind == Kind.AT) {
            require(p == 1 || p == 2 || p == Double.POSITIVE_INFINITY, prefix + P + " must be 1, 2 or inf for PGA, "
                    + "got " + p);
        } else {
            require(p >= 1, prefix + P + " must be >= 1 or inf, got " + p);
        }
    }

    private static void validate(Kind kind, double lambda, double eps, double p, double q, boolean qPower,
            int attackIterations, int powerIterations, double cleanWeight, double adversarialWeight,
            double adversarialFraction, double t, BnMode penaltyMode, String prefix) {
        require(kind != null, "method kind must not be null");
        Set<String> k = kind.knobs;
        if (k.contains(LAMBDA)) {
            require(lambda >= 0 && Double.isFinite(lambda), prefix + LAMBDA + " must be finite and >= 0, got " + lambda);
        } else {
            unused(lambda == 0, LAMBDA, kind, prefix);
        }
        if (k.contains(P)) {
            checkNorm(kind, p, prefix);
        } else {
            unused(p == 0, P, kind, prefix);
        }
        if (k.contains(EPS)) {
            require(eps > 0 && Double.isFinite(eps), prefix + EPS + " must be positive and finite, got " + eps);
        } else {
            unused(eps == 0, EPS, kind, prefix);
        }
        if (k.contains(Q)) {
            require(q >= 1, prefix + Q + " must be >= 1 or inf, got " + q);
            require(!(qPower && Double.isInfinite(q)), prefix + Q_POWER + " needs a finite " + prefix + Q
                    + ", got inf");
        } else {
            unused(q == 0, Q, kind, prefix);
            unused(!qPower, Q_POWER, kind, prefix);
        }
        if (k.contains(ATTACK_ITERATIONS)) {
            require(attackIterations >= 1, prefix + ATTACK_ITERATIONS + " must be >= 1, got " + attackIterations);
        } else {
            unused(attackIterations == 0, ATTACK_ITERATIONS, kind, prefix);
        }
        if (k.contains(POWER_ITERATIONS)) {
            require(powerIterations >= 1, prefix + POWER_ITERATIONS + " must be >= 1, got " + powerIterations);
        } else {
            unused(powerIterations == 0, POWER_ITERATIONS, kind, prefix);
        }
        if (k.contains(CLEAN_WEIGHT)) {
            require(cleanWeight >= 0 && Double.isFinite(cleanWeight), prefix + CLEAN_WEIGHT
                    + " must be finite and >= 0, got " + cleanWeight);
        } else {
            unused(cleanWeight == 0, CLEAN_WEIGHT, kind, prefix);
        }
        if (k.contains(ADV_WEIGHT)) {
            require(adversarialWeight >= 0 && Double.isFinite(adversarialWeight), prefix + ADV_WEIGHT
                    + " must be finite and >= 0, got " + adversarialWeight);
        } else {
            unused(adversarialWeight == 0, ADV_WEIGHT, kind, prefix);
        }
        if (kind == Kind.AT) {
            require(cleanWeight > 0 || adversarialWeight > 0, prefix + CLEAN_WEIGHT + " or " + prefix + ADV_WEIGHT
                    + " must be positive");
        }
        if (k.contains(ADV_FRACTION)) {
            require(adversarialFraction > 0 && adversarialFraction <= 1, prefix + ADV_FRACTION
                    + " must be in (0, 1], got " + adversarialFraction);
        } else {
            unused(adversarialFraction == 0, ADV_FRACTION, kind, prefix);
        }
        if (k.contains(INTERP_T)) {
            require(t >= 0 && t <= 1, prefix + INTERP_T + " must be in [0, 1], got " + t);
        } else {
            unused(t == 0, INTERP_T, kind, prefix);
        }
        if (k.contains(REG_BN)) {
            require(penaltyMode != null, prefix + REG_BN + " must be train or eval, got null");
        } else {
            unused(penaltyMode == null, REG_BN, kind, prefix);
        }
    }

    private static void unused(boolean neutral, String knob, Kind kind, String prefix) {
        require(neutral, prefix + knob + " does not apply to " + prefix + "method " + kind.id + " (it is used by: "
                + Kind.users(knob) + "); leave it 0 / false / null");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
