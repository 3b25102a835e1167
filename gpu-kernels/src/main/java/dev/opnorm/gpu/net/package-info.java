/**
 * Whole networks on the OpenCL device, device-resident: a host network placed on the device
 * ({@link dev.opnorm.nn.layers.PlacedModel} over {@link dev.opnorm.gpu.OpenClOps}, parameters uploaded once) runs
 * the layers' own linearizations ({@link dev.opnorm.nn.layers.PlacedLinearization}: forward, jvp, vjp,
 * parameter gradients, all residuals on the device); its {@code asBatchMap()} with
 * {@code nn.layers.PlacedBatchOps} (linalg's {@code BatchOps} on device buffers) runs linalg's batched
 * power method and (p,q) iteration - the one implementation - on the device, moving only per-example scalars
 * ({@link dev.opnorm.gpu.net.DeviceNetworks#sigmaMax}, {@link dev.opnorm.gpu.net.DeviceNetworks#operatorNorm}); likewise robust's {@code PgaBackend.placed} (its one {@code PgaOps} over {@code OpenClOps}) runs
 * robust's PGA - the one implementation - on the device, moving only the start offsets and the per-example outcome,
 * robust's {@code RegEngine.placed} on a device model runs robust's
 * d.d. regularizers - the one implementation - on the device, and robust's {@code KernelGlobalSnrOps}
 * (on {@code OpenClOps}) runs robust's global spectral norm update, moving only the layer sigmas;
 * {@link dev.opnorm.gpu.net.DeviceTrainOps} (robust's {@code PlacedTrainOps} on a device model) runs robust's training objective and step runner - the one
 * implementation - with an {@code nn.optim} optimizer (its state on the device through
 * {@code nn.optim.KernelUpdateOps} on {@code OpenClOps}), moving only the batch and the step's loss. The layer maths is
 * the host layers' own code, written once over {@code nn.kernels.Ops}.
 */
package dev.opnorm.gpu.net;
