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
 */
package dev.opnorm.gpu;
