package dev.opnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import dev.opnorm.nn.kernels.Conv2dDims;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * On a real GPU only ({@code ./mvnw -Pgpu -pl gpu-kernels -am test}): the 7-layer CNN's conv layers at
 * width 1.0 and batch 128, device-resident, checked against the Java twins on sampled outputs (exact:
 * fma, + and * are correctly rounded on the GPU too, and FP_CONTRACT is off), and a power-iteration
 * chain on the full-size layer that moves only one scalar per step.
 */
@Tag("gpu")
class OpenClGpuShapesTest {
    private static final int SAMPLES = 300;

    static Conv2dDims[] layers() {
        int n = 128;
        return new Conv2dDims[]{
                new Conv2dDims(n, 3, 32, 32, 128, 3, 3, 1, 1),
                new Conv2dDims(n, 128, 32, 32, 128, 3, 3, 1, 1),
                new Conv2dDims(n, 128, 16, 16, 256, 3, 3, 1, 1),
                new Conv2dDims(n, 256, 16, 16, 256, 3, 3, 1, 1),
                new Conv2dDims(n, 256, 8, 8, 512, 3, 3, 1, 1),
                new Conv2dDims(n, 512, 8, 8, 512, 3, 3, 1, 1),
                new Conv2dDims(n, 512, 4, 4, 1024, 3, 3, 1, 0),
        };
    }

    @ParameterizedTest
    @MethodSource("layers")
    void cnnLayer_onGpu_matchesTwins_andChainsWithoutTransfers(Conv2dDims d) {
        OpenCl cl = OpenClTesting.runtime();
        assertTrue(cl.device().isGpu(), "the gpu profile needs a GPU device, got " + cl.device());
        OpenClOps ops = cl.ops();
        Random rnd = new Random(51);
        float[] x = OpenClTesting.randn(rnd, d.inputSize()), w = OpenClTesting.randn(rnd, d.weightSize()),
                gy = OpenClTesting.randn(rnd, d.outputSize());
        try (DeviceTensor dx = DeviceTensor.of(cl, x); DeviceTensor dw = DeviceTensor.of(cl, w);
             DeviceTensor dgy = DeviceTensor.of(cl, gy); DeviceTensor y = DeviceTensor.allocate(cl, d.outputSize());
             DeviceTensor gx = DeviceTensor.allocate(cl, d.inputSize());
             DeviceTensor gw = DeviceTensor.allocate(cl, d.weightSize());
             DeviceTensor ss = DeviceTensor.allocate(cl, d.n())) {
            ops.conv2dForward(y, dx, dw, null, d);
            ops.conv2dVjpInput(gx, dgy, dw, d);
            ops.fill(gw, 0f, d.weightSize());
            ops.conv2dVjpWeight(gw, dgy, dx, d);
            float[] yGot = y.download(), gxGot = gx.download(), gwGot = gw.download();
            float[] yTwin = new float[d.outputSize()], gxTwin = new float[d.inputSize()];
            int pq = d.p() * d.q(), hw = d.h() * d.w(), crs = d.c() * d.r() * d.s();
            int splits = OpenClOps.vjpWeightSplits(d, cl.device().computeUnits);
            int l = d.n() * pq, chunk = OpenClOps.vjpWeightChunk(l, splits), used = (l + chunk - 1) / chunk;
            float[] part = new float[used * d.weightSize()], gwTwin = new float[d.weightSize()];
            for (int s = 0; s < SAMPLES; s++) {
                int k = rnd.nextInt(d.k()), j = rnd.nextInt(d.n() * pq);
                Conv2dTwins.forwardAt(k, j, yTwin, x, w, null, d);
                int o = (j / pq * d.k() + k) * pq + j % pq;
                assertEquals(yTwin[o], yGot[o], "forward element " + o + " of " + d);

                int c = rnd.nextInt(d.c()), jj = rnd.nextInt(d.n() * hw);
                Conv2dTwins.vjpInputAt(c, jj, gxTwin, gy, w, d);
                int e = (jj / hw * d.c() + c) * hw + jj % hw;
                assertEquals(gxTwin[e], gxGot[e], "input VJP element " + e + " of " + d);

                if (s < SAMPLES / 10) { // each costs n*P*Q terms
                    int kw = rnd.nextInt(d.k()), jw = rnd.nextInt(crs);
                    for (int sp = 0; sp < used; sp++) {
                        Conv2dTwins.vjpWeightPartAt(sp, kw, jw, part, gy, x, chunk, d);
                    }
                    Conv2dTwins.vjpWeightSumAt(kw * crs + jw, gwTwin, part, d.weightSize(), used);
                    assertEquals(gwTwin[kw * crs + jw], gwGot[kw * crs + jw], "weight VJP element of " + d);
                }
            }

            long up = cl.uploads(), down = cl.downloads();
            int per = d.inputSize() / d.n();
            for (int step = 0; step < 5; step++) {
                ops.conv2dForward(y, dx, dw, null, d);
                ops.conv2dVjpInput(gx, y, dw, d);
                ops.dotRows(ss, 0, gx, gx, d.n(), per);
                ops.scaleRowsInvSqrt(dx, gx, ss, 0, d.n(), per);
                assertTrue(ss.readScalar(0) > 0f);
            }
            assertEquals(0, cl.uploads() - up, "uploads in the chain");
            assertEquals(5, cl.downloads() - down, "downloads in the chain");
        }
    }
}
