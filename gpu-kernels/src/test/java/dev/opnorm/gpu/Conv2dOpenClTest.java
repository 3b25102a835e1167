package dev.opnorm.gpu;

import java.util.Random;

import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.ScalarKernels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** conv2d.cl against its Java twin (exactly) and ScalarKernels (to rounding), on odd shapes. */
class Conv2dOpenClTest {
    private final ScalarKernels ref = new ScalarKernels();

    /** Output rows (k, or c for the input VJP) cover all three row-tile variants: <= 16, <= 32, > 32. */
    static Conv2dDims[] shapes() {
        return new Conv2dDims[]{
                new Conv2dDims(2, 3, 7, 5, 5, 3, 3, 1, 1),
                new Conv2dDims(1, 1, 1, 1, 1, 1, 1, 1, 0),
                new Conv2dDims(3, 5, 9, 11, 7, 3, 3, 2, 1),
                new Conv2dDims(2, 4, 6, 6, 3, 1, 1, 1, 0),
                new Conv2dDims(1, 70, 5, 3, 67, 3, 3, 1, 1), // more channels than one 64-wide tile
                new Conv2dDims(2, 3, 8, 8, 2, 4, 2, 3, 2),
                new Conv2dDims(2, 20, 6, 5, 29, 3, 3, 1, 1), // 17..32 rows: the TSM=32 build variant
        };
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void forward_matchesTwinAndScalar_onOddShapes(Conv2dDims d) {
        OpenClKernels k = new OpenClKernels(OpenClTesting.runtime());
        Random rnd = new Random(11);
        float[] x = OpenClTesting.randn(rnd, d.inputSize()), w = OpenClTesting.randn(rnd, d.weightSize()),
                b = OpenClTesting.randn(rnd, d.k());
        for (float[] bias : new float[][]{b, null}) {
            float[] want = new float[d.outputSize()], twin = new float[d.outputSize()], got = new float[d.outputSize()];
            ref.conv2dForward(want, x, w, bias, d);
            Conv2dTwins.forward(twin, x, w, bias, d);
            k.conv2dForward(got, x, w, bias, d);
            int terms = d.c() * d.r() * d.s() + 1;
            OpenClTesting.assertClose(want, twin, want.length, GpuTolerances.BACKEND_F32, terms, "twin vs scalar " + d);
            OpenClTesting.assertClose(twin, got, want.length, GpuTolerances.TWIN_F32, terms, "opencl vs twin " + d);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void vjpInput_matchesTwinAndScalar_onOddShapes(Conv2dDims d) {
        OpenClKernels k = new OpenClKernels(OpenClTesting.runtime());
        Random rnd = new Random(12);
        float[] gy = OpenClTesting.randn(rnd, d.outputSize()), w = OpenClTesting.randn(rnd, d.weightSize());
        float[] want = new float[d.inputSize()], twin = new float[d.inputSize()], got = new float[d.inputSize()];
        java.util.Arrays.fill(got, Float.NaN); // overwritten, never read
        ref.conv2dVjpInput(want, gy, w, d);
        Conv2dTwins.vjpInput(twin, gy, w, d);
        k.conv2dVjpInput(got, gy, w, d);
        int terms = d.k() * d.r() * d.s();
        OpenClTesting.assertClose(want, twin, want.length, GpuTolerances.BACKEND_F32, terms, "twin vs scalar " + d);
        OpenClTesting.assertClose(twin, got, want.length, GpuTolerances.TWIN_F32, terms, "opencl vs twin " + d);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void vjpWeightAndBias_accumulate_matchTwinAndScalar(Conv2dDims d) {
        OpenCl cl = OpenClTesting.runtime();
        OpenClKernels k = new OpenClKernels(cl);
        Random rnd = new Random(13);
        float[] gy = OpenClTesting.randn(rnd, d.outputSize()), x = OpenClTesting.randn(rnd, d.inputSize());
        float[] start = OpenClTesting.randn(rnd, d.weightSize()), bStart = OpenClTesting.randn(rnd, d.k());
        float[] want = start.clone(), twin = start.clone(), got = start.clone();
        ref.conv2dVjpWeight(want, gy, x, d);
        Conv2dTwins.vjpWeight(twin, gy, x, d, OpenClOps.vjpWeightSplits(d, cl.device().computeUnits));
        k.conv2dVjpWeight(got, gy, x, d);
        int terms = d.n() * d.p() * d.q() + 1;
        OpenClTesting.assertClose(want, twin, want.length, GpuTolerances.BACKEND_F32, terms, "twin vs scalar " + d);
        OpenClTesting.assertClose(twin, got, want.length, GpuTolerances.TWIN_F32, terms, "opencl vs twin " + d);

        float[] bw = bStart.clone(), bt = bStart.clone(), bg = bStart.clone();
        ref.conv2dVjpBias(bw, gy, d);
        Conv2dTwins.vjpBias(bt, gy, d, cl.reduceWorkGroup());
        k.conv2dVjpBias(bg, gy, d);
        OpenClTesting.assertClose(bw, bt, d.k(), GpuTolerances.BACKEND_F32, terms, "bias twin vs scalar " + d);
        OpenClTesting.assertClose(bt, bg, d.k(), GpuTolerances.TWIN_F32, terms, "bias opencl vs twin " + d);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void vjpWeight_splitReduction_matchesTwinForEverySplitCount(Conv2dDims d) {
        OpenCl cl = OpenClTesting.runtime();
        Random rnd = new Random(14);
        float[] gy = OpenClTesting.randn(rnd, d.outputSize()), x = OpenClTesting.randn(rnd, d.inputSize());
        try (DeviceTensor dgy = DeviceTensor.of(cl, gy); DeviceTensor dx = DeviceTensor.of(cl, x);
             DeviceTensor dgw = DeviceTensor.allocate(cl, d.weightSize())) {
            for (int splits : new int[]{1, 2, 3, 7}) {
                float[] twin = new float[d.weightSize()];
                Conv2dTwins.vjpWeight(twin, gy, x, d, splits);
                cl.ops().fill(dgw, 0f, d.weightSize());
                cl.ops().conv2dVjpWeight(dgw, dgy, dx, d, splits);
                OpenClTesting.assertClose(twin, dgw.download(), twin.length, GpuTolerances.TWIN_F32, 1,
                        "splits " + splits + " " + d);
            }
        }
    }
}
