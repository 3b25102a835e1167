/**
 * Certified brackets [lower, upper] for the (p,q) operator norm of a network's input-logit Jacobian, at
 * a point and over an l_p ball, and certified robustness, by interval bound propagation through the
 * layers' {@code bounds()} rules: {@link dev.opnorm.robust.certify.Certifier} (entry point),
 * {@link dev.opnorm.robust.certify.NormBounds} (sound bounds on the norm of a dense or interval matrix).
 * Every bound is rounded outward; what exactly is bounded is said in {@link dev.opnorm.nn.bounds}.
 */
package dev.opnorm.robust.certify;
