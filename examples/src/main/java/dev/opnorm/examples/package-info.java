/**
 * Runnable examples of the public API ({@code dev.opnorm.api}): each class has a {@code main} that runs in a
 * few seconds on synthetic images (or Fashion-MNIST test images when a folder is given), and is run by the
 * module's tests, so the examples always compile and work.
 * <ol>
 *   <li>{@link dev.opnorm.examples.OperatorNormsExample}: per-example (2,2), (inf,2), (2,inf) norms;</li>
 *   <li>{@link dev.opnorm.examples.AttackExample}: l_2 / l_inf PGA, robust accuracy against eps;</li>
 *   <li>{@link dev.opnorm.examples.TrainingExample}: d.d. SNR training, checkpoint round trip, comparison with AT;</li>
 *   <li>{@link dev.opnorm.examples.SpectrumExample}: a dense Jacobian and its singular values.</li>
 * </ol>
 */
package dev.opnorm.examples;
