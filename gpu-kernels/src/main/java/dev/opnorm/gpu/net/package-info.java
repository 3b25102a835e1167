/**
 * Whole networks on the OpenCL device, device-resident: {@link dev.opnorm.gpu.net.DeviceModel} mirrors a host
 * {@code Sequential} (the 7-layer CNN's layer types) with its parameters uploaded once;
 * {@link dev.opnorm.gpu.net.DeviceLinearization} is the network linearized at a device batch (forward, jvp, vjp,
 * parameter gradients, all residuals on the device); {@link dev.opnorm.gpu.net.DevicePowerMethod} and
 * {@link dev.opnorm.gpu.net.DeviceNetworks#sigmaMax} run the per-example (2,2) power method moving only
 * per-example scalars; {@link dev.opnorm.gpu.net.DeviceSgdTrainer} runs the d.d. SGD training step moving only
 * the loss. The layer maths is the host layers', op for op, on {@link dev.opnorm.gpu.OpenClOps}.
 */
package dev.opnorm.gpu.net;
