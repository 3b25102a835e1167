/**
 * Small run-time utilities shared by training, attacks and experiments.
 * <ul>
 *   <li>{@link dev.opnorm.nn.util.Rng}: the seeded generator (xoshiro256** seeded by SplitMix64) whose full
 *       state is four longs, saved in checkpoints so a resumed run is bit-identical. One run seed is split
 *       into purpose streams with {@code fork("init")}, {@code fork("shuffle")}, {@code fork("augment")},
 *       {@code fork("attack")}; forking never advances the parent.</li>
 *   <li>{@link dev.opnorm.nn.util.Progress}: a terminal progress line (rate, ETA, loss fields) that redraws in
 *       place on a console and prints every N% in logs.</li>
 *   <li>{@link dev.opnorm.nn.util.Join}: waits for tasks submitted beside the calling thread's own share and
 *       rethrows the first failure, after every task has stopped.</li>
 * </ul>
 */
package dev.opnorm.nn.util;
