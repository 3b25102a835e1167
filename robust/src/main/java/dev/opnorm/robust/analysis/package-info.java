/**
 * Analyses of networks around data points, for the paper's figures. Everything runs with BatchNorm in EVAL mode.
 * <ul>
 *   <li>{@link dev.opnorm.robust.analysis.ActivationPattern}: ReLU states and max-pool selections, same-cell
 *       checks (Theorem 1's premise) and shared-activation fractions;</li>
 *   <li>{@link dev.opnorm.robust.analysis.SharedActivations}: Fig. 5, shared ReLU states under uniform noise;</li>
 *   <li>{@link dev.opnorm.robust.analysis.Linearity}: Fig. 4, deviation from linearity and sigma_max(J(x + z));</li>
 *   <li>{@link dev.opnorm.robust.analysis.Spectra}: Fig. 2, the Jacobian's singular value spectrum and the
 *       alignment of a perturbation with its singular vectors.</li>
 * </ul>
 */
package dev.opnorm.robust.analysis;
