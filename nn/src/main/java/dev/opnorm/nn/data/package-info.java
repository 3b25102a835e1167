/**
 * Data sets and the deterministic plumbing around them.
 * <ul>
 *   <li>Loaders: {@link dev.opnorm.nn.data.FashionMnist} (IDX), {@link dev.opnorm.nn.data.Cifar10} (binary
 *       batches), giving an in-memory {@link dev.opnorm.nn.data.Dataset} scaled to a
 *       {@link dev.opnorm.nn.data.Domain}.</li>
 *   <li>{@link dev.opnorm.nn.data.Shuffle}: Fisher-Yates permutations; {@code epochOrder(n, stream, epoch)}
 *       is a pure function of a shuffle stream and the epoch, so resuming needs no extra state.</li>
 *   <li>{@link dev.opnorm.nn.data.MiniBatches}: consecutive batches of an order, last partial batch kept or
 *       dropped, gathered into reused buffers.</li>
 *   <li>{@link dev.opnorm.nn.data.Subsets}: seeded stratified subsets (k examples per class).</li>
 *   <li>{@link dev.opnorm.nn.data.CropFlip}: padded random crop + horizontal flip per example, into a
 *       preallocated output, either from one stream in batch order or from a per-example stream
 *       {@code stream.fork(exampleId)} (independent of batch composition).</li>
 * </ul>
 * All randomness comes from {@link dev.opnorm.nn.util.Rng} streams derived from the run seed, e.g.
 * {@code rng.fork("shuffle")}, {@code rng.fork("augment").fork(epoch)}.
 */
package dev.opnorm.nn.data;
