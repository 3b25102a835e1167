/**
 * Analyses of networks around data points, for the paper's figures. Everything runs with BatchNorm in EVAL mode
 * and returns per-point numbers (in double), so figures can show means with standard errors over test points.
 * <ul>
 *   <li>{@link dev.opnorm.robust.analysis.ActivationPattern}: ReLU states and max-pool selections read from a
 *       network's linearization (residual blocks included), same-cell checks (Theorem 1's premise) and
 *       shared-activation fractions;</li>
 *   <li>{@link dev.opnorm.robust.analysis.Spectra}: Fig. 2, the singular value spectra of the features' Jacobians
 *       at a batch of points (batched dense extraction + EJML SVD) and the alignment |cos(x* - x, v_r)|;</li>
 *   <li>{@link dev.opnorm.robust.analysis.Linearity}: Fig. 4, deviation from linearity and sigma_max(J(x + z))
 *       along random or adversarial directions ({@link dev.opnorm.robust.analysis.Directions}) for a grid of
 *       ||z||_2;</li>
 *   <li>{@link dev.opnorm.robust.analysis.SharedActivations}: Fig. 5, shared ReLU states under uniform noise in an
 *       l_inf box (or l2 ball) of radius eps, near given points or at uniformly random inputs.</li>
 * </ul>
 */
package dev.opnorm.robust.analysis;
