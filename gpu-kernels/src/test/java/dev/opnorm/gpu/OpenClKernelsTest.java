package dev.opnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.KernelsContractTest;
import org.junit.jupiter.api.Test;

/**
 * The kernel contract (every op vs ScalarKernels on awkward sizes, = vs +=, aliasing, conventions) for
 * {@link OpenClKernels} on the JVM's OpenCL device (PoCL in CI). Requires OpenCL: fails, not skips.
 */
class OpenClKernelsTest extends KernelsContractTest {
    private static OpenClKernels kernels;

    @Override
    protected Kernels kernels() {
        if (kernels == null) {
            kernels = new OpenClKernels(OpenClTesting.runtime());
        }
        return kernels;
    }

    @Test
    void name_isOpencl() {
        assertEquals("opencl", kernels().name());
    }

    @Test
    void conv2dForward_rejectsShortOutput_beforeTouchingTheDevice() {
        Conv2dDims d = new Conv2dDims(1, 2, 5, 5, 3, 3, 3, 1, 1);
        OpenCl cl = OpenClTesting.runtime();
        long uploads = cl.uploads();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kernels().conv2dForward(
                new float[d.outputSize() - 1], new float[d.inputSize()], new float[d.weightSize()], null, d));
        assertTrue(e.getMessage().contains("y"), e.getMessage());
        assertTrue(cl.uploads() - uploads <= 2, "at most the inputs staged before the check");
    }

    @Test
    void gemm_rejectsTooSmallLeadingDimension() {
        assertThrows(IllegalArgumentException.class, () -> kernels().gemm(false, false, 2, 3, 4, 1f, new float[8], 0, 3,
                new float[12], 0, 3, 0f, new float[6], 0, 3));
    }
}
