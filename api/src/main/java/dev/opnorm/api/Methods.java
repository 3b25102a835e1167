package dev.opnorm.api;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.train.MethodSpec;
import dev.opnorm.robust.train.MethodSpec.Kind;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.TrainingMethod;

/**
 * The paper's training methods as {@link TrainingMethod}s for {@link Training#method}: standard training,
 * adversarial training (Eq. 14), data-dependent spectral / operator norm regularization (Eq. 7, its
 * sum-of-squares form and the (p,q) generalization), global spectral norm regularization (reshaped kernels or
 * true conv norms), input-gradient regularization and Fig. 7's AT to d.d. SNR interpolation. Each returns a
 * new, immutable method built by {@link MethodSpec}, the one catalogue of the methods and their defaults that
 * {@code opnorm train} and the reproduction use too: an argument left out takes that default
 * ({@code MethodSpec.DEFAULT_*}). {@link #of} takes any spec; the underlying classes ({@link Objective},
 * {@code dev.opnorm.robust.reg}) offer every knob.
 */
public final class Methods {
    /** Power-method iterations per batch of the d.d. regularizers (the paper's d.d. SNR setting). */
    public static final int DD_ITERATIONS = MethodSpec.DEFAULT_DD_ITERATIONS;

    private Methods() {
    }

    /**
     * The method of a spec, e.g. {@code Methods.of(MethodSpec.of(Kind.DD_ONR).p(2.0).q(1.0).build(), model, null)}.
     *
     * @param spec  the method and its knobs
     * @param model the network that will be trained (needed by the global methods, else may be null)
     * @param input its input shape (needed by {@link Kind#GLOBAL_CONV_NORM}, else may be null)
     * @return the objective
     * @throws IllegalArgumentException for a null spec or a missing model / input shape
     */
    public static TrainingMethod of(MethodSpec spec, Layer model, Shape input) {
        if (spec == null) {
            throw new IllegalArgumentException("Methods.of: spec must not be null");
        }
        return spec.objective(model, input);
    }

    /**
     * Plain cross-entropy.
     *
     * @return the standard objective
     */
    public static TrainingMethod standard() {
        return MethodSpec.defaults(Kind.STANDARD).objective(null, null);
    }

    /**
     * Adversarial training, Eq. 14: CE(f(x), y) + CE(f(x*), y) with x* = {@code attack} (BatchNorm EVAL during
     * the attack) on {@value MethodSpec#DEFAULT_ADV_FRACTION} of every batch ({@link MethodSpec#DEFAULT_ADV_FRACTION}
     * says why). The attack's seed is replaced per step.
     *
     * @param attack e.g. {@code Pga.l2(eps).iterations(10)}: l_1, l_2 or l_inf PGA
     * @return the AT objective
     * @throws IllegalArgumentException for a null attack or another norm
     */
    public static TrainingMethod adversarial(Pga attack) {
        if (attack == null) {
            throw new IllegalArgumentException("Methods.adversarial: attack must not be null");
        }
        return MethodSpec.of(Kind.AT).attackOf(attack).build().objective(null, null, attack);
    }

    /**
     * Data-dependent spectral norm regularization in the sum-of-squares form the paper trained with:
     * CE + (lambda / (2B)) sum_i ||f(x_i + eps v_i) - f(x_i)||_2^2, v_i the top right singular vector of J_f(x_i)
     * from {@value #DD_ITERATIONS} power iterations (held constant), ~ (lambda eps^2 / 2) sigma_max(J_f(x_i))^2.
     * The finite-difference passes use BatchNorm TRAIN mode, like the clean loss.
     *
     * @param lambda strength (>= 0), the prefactor of the finite-difference penalty
     * @param eps    finite-difference step (> 0), in input units (the paper uses its l_2 training radius)
     * @return the d.d. SNR objective
     * @throws IllegalArgumentException for a negative lambda or a non-positive eps
     */
    public static TrainingMethod ddSnr(double lambda, double eps) {
        return MethodSpec.of(Kind.DD_SNR_SQ).lambda(lambda).eps(eps).build().objective(null, null);
    }

    /**
     * {@link #ddSnr(double, double)} with the default step eps = {@value MethodSpec#DEFAULT_L2_EPS}, the paper's
     * l_2 training radius (pixels in [-1, 1]).
     *
     * @param lambda strength (>= 0)
     * @return the d.d. SNR objective
     */
    public static TrainingMethod ddSnr(double lambda) {
        return MethodSpec.of(Kind.DD_SNR_SQ).lambda(lambda).build().objective(null, null);
    }

    /**
     * {@link #ddSnr(double, double)} with the paper's strength: eps = {@value MethodSpec#DEFAULT_L2_EPS} and
     * lambda = 0.02 / eps^2, so the penalty is ~ (0.02 / 2) sigma_max(J_f(x_i))^2 (the paper's d.d. SNR lambda).
     *
     * @return the d.d. SNR objective
     */
    public static TrainingMethod ddSnr() {
        return MethodSpec.defaults(Kind.DD_SNR_SQ).objective(null, null);
    }

    /**
     * Data-dependent spectral norm regularization in Eq. 7's form: CE + (lambda / 2) mean_i sigma_max(J_f(x_i))^2,
     * sigma from {@value #DD_ITERATIONS} power iterations.
     *
     * @param lambda strength (>= 0)
     * @return the objective
     */
    public static TrainingMethod ddSpectralNorm(double lambda) {
        return MethodSpec.of(Kind.DD_SNR).lambda(lambda).build().objective(null, null);
    }

    /**
     * Data-dependent (p,q) operator norm regularization: CE + (lambda / B) sum_i ||f(x_i + eps v_i) - f(x_i)||_q,
     * v_i the (p,q) iteration's maximizer ({@value #DD_ITERATIONS} iterations), ~ lambda eps ||J_f(x_i)||_{p,q}.
     *
     * @param p      input norm (>= 1, inf allowed)
     * @param q      output norm (>= 1, inf allowed)
     * @param lambda strength (>= 0)
     * @param eps    finite-difference step (> 0), input units
     * @return the d.d. ONR objective
     * @throws IllegalArgumentException for invalid p, q, lambda or eps
     */
    public static TrainingMethod ddOnr(double p, double q, double lambda, double eps) {
        return MethodSpec.of(Kind.DD_ONR).p(p).q(q).lambda(lambda).eps(eps).build().objective(null, null);
    }

    /**
     * Global spectral norm regularization (Yoshida and Miyato 2017): CE + (lambda / 2) sum_l sigma(W_l)^2 over the
     * model's weight matrices (conv kernels reshaped), one persistent power step per training step.
     *
     * @param model  the model that will be trained (the regularizer keeps per-layer vectors)
     * @param lambda strength (>= 0)
     * @return the global SNR objective
     */
    public static TrainingMethod globalSnr(Layer model, double lambda) {
        return MethodSpec.of(Kind.GLOBAL_SNR).lambda(lambda).build().objective(model, null);
    }

    /**
     * {@link #globalSnr} with each conv's true operator norm on the input shape it sees (a tighter Lipschitz
     * bound than the reshaped kernel), one persistent power step per training step.
     *
     * @param model  the model that will be trained
     * @param input  the model's input shape, e.g. (n, 1, 32, 32)
     * @param lambda strength (>= 0)
     * @return the objective
     */
    public static TrainingMethod globalConvNorm(Layer model, Shape input, double lambda) {
        return MethodSpec.of(Kind.GLOBAL_CONV_NORM).lambda(lambda).build().objective(model, input);
    }

    /**
     * Input-gradient regularization (double backpropagation): CE + (lambda / (2B)) sum_i ||grad_x CE(f(x_i), y_i)||_2^2,
     * BatchNorm EVAL in the penalty.
     *
     * @param lambda strength (>= 0)
     * @return the objective
     */
    public static TrainingMethod inputGradient(double lambda) {
        return MethodSpec.of(Kind.INPUT_GRAD).lambda(lambda).build().objective(null, null);
    }

    /**
     * Fig. 7's interpolation between adversarial training (t = 1) and d.d. SNR (t = 0): CE + t CE(f(x*), y)
     * + the sum-of-squares d.d. SNR of strength (1 - t) lambda, x* = l_2 PGA of radius eps
     * ({@value MethodSpec#DEFAULT_ATTACK_ITERATIONS} iterations) on {@value MethodSpec#DEFAULT_ADV_FRACTION} of the
     * batch, the finite-difference step eps too.
     *
     * @param t      position on the path, in [0, 1]
     * @param lambda the d.d. SNR end's strength (>= 0)
     * @param eps    attack radius and finite-difference step (> 0), input units
     * @return the objective
     */
    public static TrainingMethod interpolation(double t, double lambda, double eps) {
        return MethodSpec.of(Kind.INTERP).t(t).lambda(lambda).eps(eps).build().objective(null, null);
    }
}
