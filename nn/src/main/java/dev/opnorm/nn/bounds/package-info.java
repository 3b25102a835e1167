/**
 * Sound interval bounds through a network, for certification: {@link dev.opnorm.nn.bounds.Box} (an
 * interval per value of one example), {@link dev.opnorm.nn.bounds.IntervalRows} (an interval matrix of
 * derivatives of k outputs), and the per-layer {@link dev.opnorm.nn.bounds.BoundRule} every layer that
 * supports certification returns from {@code Layer.bounds()}.
 *
 * <p>What is bounded: the network evaluated in exact real arithmetic with its float parameters (BatchNorm
 * in EVAL mode, eps = the double 1e-5, pooling divisors exact). Every bound is computed in double and
 * rounded outward ({@link dev.opnorm.nn.bounds.Outward}), so it holds for that real-valued network, not
 * only for its double evaluation. The float network the kernels compute differs from it by float
 * rounding (relative 1e-7 per operation), which these bounds do not cover.
 */
package dev.opnorm.nn.bounds;
