package dev.opnorm.nn.kernels;

/** The reference against itself: keeps the contract suite honest (every case runs and passes on the reference). */
class ScalarKernelsContractTest extends KernelsContractTest {
    private static final ScalarKernels KERNELS = new ScalarKernels();

    @Override
    protected Kernels kernels() {
        return KERNELS;
    }

    @Override
    protected boolean bitExact() {
        return true;
    }
}
