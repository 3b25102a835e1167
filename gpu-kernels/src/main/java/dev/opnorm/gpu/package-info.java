/**
 * The OpenCL backend (JOCL, OpenCL C kernels as {@code .cl} resources). For library users one class matters:
 * {@link dev.opnorm.gpu.OpenClKernels}, an implementation of {@code dev.opnorm.nn.kernels.Kernels} to pass to a
 * model or to {@code Engine.setKernels} (the command line's {@code --backend opencl}); {@link dev.opnorm.gpu.OpenCl}
 * lists devices and fails with a message naming the packages to install when there is no OpenCL platform.
 *
 * <p><b>Internal / advanced.</b> {@link dev.opnorm.gpu.OpenClOps}, {@link dev.opnorm.gpu.DeviceTensor} and
 * {@link dev.opnorm.gpu.DeviceInts} run chains of kernels on device-resident data (for code that wants the GPU's
 * speed without host transfers); their API may still change. Plain-Java twins of the OpenCL kernels
 * (the same formulas in the same order) live in the tests; the one kept here ({@link dev.opnorm.gpu.Tiled}) is
 * public only for the tests; never use it for computation.
 *
 * <p>This module is a pure backend: its code needs nn only. Whole networks run on the device through nn's
 * {@code PlacedModel} over {@link dev.opnorm.gpu.OpenClOps} (parameters uploaded once; the layers' own
 * linearizations, written once over {@code nn.kernels.Ops}; {@code nn.layers.PlacedModels} keeps one copy per
 * network between calls and runs linalg's power method and (p,q) iteration on it), and robust's PGA
 * ({@code PgaBackend.placed}), regularizers ({@code RegEngine.placed}, {@code KernelGlobalSnrOps}) and training
 * ({@code PlacedTrainOps.runners(cl.ops())}, the optimizer state through {@code nn.optim.KernelUpdateOps}) run on
 * the same contract - the one implementation each, moving only batches and per-example scalars.
 */
package dev.opnorm.gpu;
