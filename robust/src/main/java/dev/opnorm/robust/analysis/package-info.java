/**
 * Analyses of trained networks around data points: activation patterns and cells of piecewise-linear
 * networks (Theorem 1's cell condition, Fig. 5's shared activations). Everything runs with BatchNorm in
 * EVAL mode.
 */
package dev.opnorm.robust.analysis;
