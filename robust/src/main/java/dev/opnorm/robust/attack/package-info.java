/**
 * Adversarial attacks on {@link dev.opnorm.nn.layers.Layer} networks: l_p projected gradient ascent (PGA, the paper's
 * Eq. 15/17) for p in {1, 2, inf} with cross-entropy or l_q logit losses, targeted or untargeted, with restarts, and the
 * one-step fast gradient method (FGM) as a baseline.
 *
 * <p>Every attack runs the network with BatchNorm in EVAL mode (per-channel affine maps with running statistics), so
 * that the attacked function does not depend on the other examples of the batch. Attacks are batched (one forward and
 * one VJP per iteration for the whole batch) and deterministic: one seed gives bit-identical results on any thread
 * count.
 */
package dev.opnorm.robust.attack;
