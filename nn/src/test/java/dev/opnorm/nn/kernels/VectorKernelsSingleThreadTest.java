package dev.opnorm.nn.kernels;

/** The kernel contract for {@link VectorKernels} on one thread. */
class VectorKernelsSingleThreadTest extends KernelsContractTest {
    private static final VectorKernels KERNELS = new VectorKernels(1);

    @Override
    protected Kernels kernels() {
        return KERNELS;
    }

    @Override
    protected boolean bitExact() {
        return true;
    }
}
