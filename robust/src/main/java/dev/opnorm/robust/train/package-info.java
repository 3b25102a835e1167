/**
 * Training: {@link dev.opnorm.robust.train.Objective} (standard, adversarial training of Eq. 14, regularized,
 * and the AT / d.d. SNR interpolation of Fig. 7) and {@link dev.opnorm.robust.train.Trainer} (optimizers,
 * learning-rate schedules, augmentation, evaluation, progress, atomic checkpoints with bit-identical resume,
 * and a clear stop on a NaN/Inf loss).
 */
package dev.opnorm.robust.train;
