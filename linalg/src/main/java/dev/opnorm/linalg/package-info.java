/**
 * The mathematics of the paper on plain linear maps, independent of networks.
 *
 * <p>Everything acts on {@link dev.opnorm.linalg.LinearMap} (a map given by {@code apply} and
 * {@code applyTranspose}) or its batched form {@link dev.opnorm.linalg.BatchLinearMap}; a network's
 * linearization J_f(x) implements them, so the same code computes norms of Jacobians.
 *
 * <ul>
 *   <li>{@link dev.opnorm.linalg.Norms}: l_p norms, the Holder conjugate p*, parsing "inf".</li>
 *   <li>{@link dev.opnorm.linalg.DualMaps}: D_q (dual map of the q-norm) and N_p (steepest ascent, Lemma 1).</li>
 *   <li>{@link dev.opnorm.linalg.Projections}: onto l_p balls and spheres.</li>
 *   <li>{@link dev.opnorm.linalg.PowerMethod}: sigma_max (Eq. 6), batched, and the top-k spectrum.</li>
 *   <li>{@link dev.opnorm.linalg.OperatorNorm}: the (p,q) iteration (Eq. 11, 12), a lower bound, batched.</li>
 *   <li>{@link dev.opnorm.linalg.ClosedForms} and {@link dev.opnorm.linalg.ExactNorms}: Table 1, exact values.</li>
 *   <li>{@link dev.opnorm.linalg.Jacobians} and {@link dev.opnorm.linalg.Svd}: dense matrices of maps, SVD via EJML.</li>
 *   <li>{@link dev.opnorm.linalg.LinearMaps}, {@link dev.opnorm.linalg.BatchLinearMaps}: adapters.</li>
 *   <li>{@link dev.opnorm.linalg.BatchMap} and {@link dev.opnorm.linalg.BatchOps}: a batched map and the vector
 *       operations of the iterations on any backend's buffers; the batched power method and (p,q) iteration
 *       are written once on them and run on host arrays ({@link dev.opnorm.linalg.HostBatchOps}) or, with a
 *       backend's implementation, on device buffers.</li>
 * </ul>
 *
 * <p>Conventions: p and q are doubles, {@link java.lang.Double#POSITIVE_INFINITY} is inf. Vectors are
 * float[]; every reduction (norm, dot product) accumulates in double; EJML matrices are double.
 * Outputs are overwritten, never accumulated. Random starts are seeded ({@link dev.opnorm.linalg.StartVectors})
 * and results are deterministic.
 */
package dev.opnorm.linalg;
