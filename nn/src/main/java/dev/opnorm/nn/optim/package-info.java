/**
 * Optimizers and learning-rate schedules for training opnorm networks.
 *
 * <p>{@link dev.opnorm.nn.optim.Sgd} (momentum, dampening, Nesterov, weight decay),
 * {@link dev.opnorm.nn.optim.Adam} (and AdamW) and {@link dev.opnorm.nn.optim.RmsProp} (momentum, centered)
 * follow the update formulas of {@code torch.optim}'s single-tensor implementations and update
 * the parameter values in place. Each is written once over {@link dev.opnorm.nn.optim.UpdateOps}, the
 * element-wise update of one parameter tensor on a backend, implemented once by
 * {@link dev.opnorm.nn.optim.KernelUpdateOps} over the backend's kernel {@code Ops} (the host's
 * {@code Kernels} hold the reference arithmetic); after {@link dev.opnorm.nn.optim.Optimizer#moveTo} a
 * device backend keeps the state beside the device parameters.
 * Their complete state is exported and imported as an
 * {@link dev.opnorm.nn.optim.OptimizerState} (float buffers and counters named
 * {@code "<param>.<PyTorch state name>"}), which {@code dev.opnorm.nn.checkpoint.Checkpoint} stores, so a
 * resumed run is bit-identical to an uninterrupted one.
 *
 * <p>{@link dev.opnorm.nn.optim.LrSchedule}s (constant, step, cosine with warmup) are pure functions of an
 * epoch or step counter: a trainer calls {@code optimizer.setLearningRate(schedule.at(t))}.
 */
package dev.opnorm.nn.optim;
