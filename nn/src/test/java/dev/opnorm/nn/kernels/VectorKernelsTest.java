package dev.opnorm.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The kernel contract for {@link VectorKernels} on two threads (the default on this project's
 * machines). {@link VectorKernelsSingleThreadTest} runs it on one thread; the nn module also reruns both
 * with {@code -Dopnorm.vectorBits=0} (the scalar kill switch), see nn/pom.xml.
 */
class VectorKernelsTest extends KernelsContractTest {
    private static final VectorKernels KERNELS = new VectorKernels(2);

    @Override
    protected Kernels kernels() {
        return KERNELS;
    }

    @Test
    void constructor_rejectsZeroThreads() {
        assertThrows(IllegalArgumentException.class, () -> new VectorKernels(0));
    }

    @Test
    void conv2dForward_rejectsShortOutput() {
        Conv2dDims d = new Conv2dDims(1, 2, 5, 5, 3, 3, 3, 1, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> KERNELS.conv2dForward(new float[d.outputSize() - 1],
                new float[d.inputSize()], new float[d.weightSize()], null, d));
        assertEquals(true, e.getMessage().contains("y"), e.getMessage());
    }

    @Test
    void gemm_rejectsTooSmallLeadingDimension() {
        assertThrows(IllegalArgumentException.class, () -> KERNELS.gemm(false, false, 2, 3, 4, 1f, new float[8], 0, 3,
                new float[12], 0, 3, 0f, new float[6], 0, 3));
    }

    @Test
    void conv2dVjpInput_choosesCol2im_forSparseOrThinCases_andImplicitGemmOtherwise() {
        // the contract cases cover both paths only if the cost model splits them like this
        assertEquals(false, ConvPack.preferCol2im(new Conv2dDims(32, 128, 32, 32, 128, 3, 3, 1, 1)));
        assertEquals(false, ConvPack.preferCol2im(new Conv2dDims(2, 37, 17, 17, 67, 3, 3, 1, 1)));
        assertEquals(true, ConvPack.preferCol2im(new Conv2dDims(32, 3, 32, 32, 128, 3, 3, 1, 1)));
        assertEquals(true, ConvPack.preferCol2im(new Conv2dDims(32, 512, 4, 4, 1024, 3, 3, 1, 0)));
        assertEquals(true, ConvPack.preferCol2im(new Conv2dDims(2, 40, 16, 16, 24, 3, 3, 2, 1)));
    }

    @Test
    void name_reportsVectorPath() {
        assertEquals(VectorKernels.vectorsEnabled() ? "vector" : "vector(scalar)", KERNELS.name());
    }

    @Override
    protected boolean bitExact() {
        return true;
    }
}
