/**
 * Adversarial attacks on {@link dev.opnorm.nn.layers.Layer} networks: l_p projected gradient ascent (PGA, the paper's
 * Eq. 15/17) for p in {1, 2, inf} with cross-entropy or l_q logit losses, targeted or untargeted, with restarts, and the
 * one-step fast gradient method (FGM) as a baseline.
 *
 * <p>Every attack runs the network with BatchNorm in EVAL mode (per-channel affine maps with running statistics), so
 * that the attacked function does not depend on the other examples of the batch. Attacks are batched (one forward and
 * one VJP per iteration for the whole batch) and deterministic: one seed gives bit-identical results on any thread
 * count.
 *
 * <p>The PGA is written once ({@code Pga.run}) on {@link dev.opnorm.robust.attack.PgaNetwork} (forward and VJP) and
 * {@link dev.opnorm.robust.attack.PgaOps} (the per-row loss, step, projection and bookkeeping, one implementation
 * over nn's {@code Ops}: the backend's {@code pga...} methods); the host arrays are one backend
 * ({@link dev.opnorm.robust.attack.PgaBackend#host()}), any placed model another
 * ({@link dev.opnorm.robust.attack.PgaBackend#placed}, e.g. on gpu-kernels' {@code OpenClOps}:
 * {@code Pga.on(backend)}, {@code Pga.outcome}, {@code RobustAccuracy.of(..., backend, ...)}).
 *
 * <pre>
 *   AttackResult r = Pga.l2(1.75).iterations(10).restarts(1).seed(7).attack(model, x, labels);
 *   AttackResult f = Fgm.linf(8 / 255.0 * 2).attackPredicted(model, x);
 *   RobustAccuracy acc = RobustAccuracy.of(model, testSet, Pga.linf(0.03), 100);
 *   List&lt;RobustAccuracy&gt; curve = RobustAccuracy.curve(model, testSet, Pga::l2, new double[] {0.25, 0.5, 1}, 100);
 *   // Theorem 1's attack: l_q logit loss, alpha = inf, a given start
 *   Pga.l2(eps).alpha(Double.POSITIVE_INFINITY).loss(AdversarialLoss.logitLq(2)).startFrom(delta0)
 * </pre>
 */
package dev.opnorm.robust.attack;
