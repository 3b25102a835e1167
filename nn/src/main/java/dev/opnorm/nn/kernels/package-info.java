/**
 * The primitive operations layers are built from: the {@link dev.opnorm.nn.kernels.Ops} contract on any buffer
 * type (an OpenCL device's in gpu-kernels), the host {@link dev.opnorm.nn.kernels.Kernels} (Ops on float
 * arrays), its
 * reference {@link dev.opnorm.nn.kernels.ScalarKernels} (plain loops) and the fast default
 * {@link dev.opnorm.nn.kernels.VectorKernels} (Java Vector API, fixed thread count, deterministic), plus the
 * dimension records {@link dev.opnorm.nn.kernels.Conv2dDims} and {@link dev.opnorm.nn.kernels.PoolDims}.
 *
 * <p><b>Internal beyond the contract.</b> Library users choose an implementation (or
 * {@code dev.opnorm.gpu.OpenClKernels}) and pass it to a model or {@link dev.opnorm.nn.Engine#setKernels}; they
 * never call kernels directly. The implementation machinery here (the packed GEMM driver {@code Sgemm}, the
 * implicit-im2col packers {@code ConvPack}, the SIMD switch {@code Simd}, the thread pool {@code Parallel}) is
 * package-private and may change at any time; only the contract's semantics (outputs first, {@code Vjp...Weight
 * / Bias} accumulate, everything else overwrites, ReLU'(0) = 0, the summation order and with it bit-identical
 * results for any thread count and vector width) are stable.
 */
package dev.opnorm.nn.kernels;
