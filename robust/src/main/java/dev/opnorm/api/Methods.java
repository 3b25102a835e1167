package dev.opnorm.api;

import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.reg.InputGradient;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.TrainingMethod;

/**
 * The paper's training methods as {@link TrainingMethod}s for {@link Training#method}: standard training,
 * adversarial training (Eq. 14), data-dependent spectral / operator norm regularization (Eq. 7 and its (p,q)
 * generalization), global spectral norm regularization and input-gradient regularization. Each returns a new,
 * immutable method; the underlying classes ({@link Objective}, {@code dev.opnorm.robust.reg}) offer every knob.
 */
public final class Methods {
    /** Power-method iterations per batch of the d.d. regularizers (the paper's d.d. SNR setting). */
    public static final int DD_ITERATIONS = 10;

    private Methods() {
    }

    /**
     * Plain cross-entropy.
     *
     * @return the standard objective
     */
    public static TrainingMethod standard() {
        return Objective.standard();
    }

    /**
     * Adversarial training, Eq. 14: CE(f(x), y) + CE(f(x*), y) with x* = {@code attack} (BatchNorm EVAL during
     * the attack) on 75 % of every batch, the reference code's setting. The attack's seed is replaced per step.
     *
     * @param attack e.g. {@code Pga.l2(eps).iterations(10)}
     * @return the AT objective
     * @throws IllegalArgumentException for a null attack
     */
    public static TrainingMethod adversarial(Pga attack) {
        return Objective.adversarial(attack, 1, 1, 0.75);
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
        return Objective.regularized(DdOperatorNorm.sumOfSquares(lambda, eps, DD_ITERATIONS, BnMode.TRAIN));
    }

    /**
     * {@link #ddSnr(double, double)} with eps = 1: a step of one input unit (pixels in [-1, 1]).
     *
     * @param lambda strength (>= 0)
     * @return the d.d. SNR objective
     */
    public static TrainingMethod ddSnr(double lambda) {
        return ddSnr(lambda, 1.0);
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
        return Objective.regularized(new DdOperatorNorm(p, q, lambda, eps, DD_ITERATIONS, false, BnMode.TRAIN));
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
        return Objective.regularized(GlobalSpectralNorm.reshaped(model, lambda));
    }

    /**
     * Input-gradient regularization (double backpropagation): CE + (lambda / (2B)) sum_i ||grad_x CE(f(x_i), y_i)||_2^2,
     * BatchNorm EVAL in the penalty.
     *
     * @param lambda strength (>= 0)
     * @return the objective
     */
    public static TrainingMethod inputGradient(double lambda) {
        return Objective.regularized(new InputGradient(lambda));
    }
}
