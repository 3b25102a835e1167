package dev.opnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.opnorm.nn.kernels.Conv2dDims;
import org.junit.jupiter.api.Test;

/**
 * Results are bit-identical run to run (no atomics, fixed reduction orders), also when several threads
 * share the runtime through {@link OpenClKernels} (launches are serialized on the in-order queue).
 */
class OpenClDeterminismTest {
    private final Conv2dDims d = new Conv2dDims(3, 5, 11, 9, 7, 3, 3, 1, 1);

    /** Weight and bias gradients, BN statistics and a BN train-mode Jacobian: every reduction kind. */
    private float[] reductions(OpenClKernels k, float[] gy, float[] x) {
        float[] gw = new float[d.weightSize()], gb = new float[d.k()];
        k.conv2dVjpWeight(gw, gy, x, d);
        k.conv2dVjpBias(gb, gy, d);
        int hw = d.p() * d.q();
        float[] mean = new float[d.k()], var = new float[d.k()], jac = new float[d.outputSize()];
        k.channelMeanVar(mean, var, gy, d.n(), d.k(), hw);
        k.bnTrainJacobian(jac, gy, gy, var, d.n(), d.k(), hw);
        float[] all = new float[gw.length + gb.length + 2 * d.k() + jac.length];
        int o = 0;
        for (float[] part : new float[][]{gw, gb, mean, var, jac}) {
            System.arraycopy(part, 0, all, o, part.length);
            o += part.length;
        }
        return all;
    }

    @Test
    void reductions_areBitIdentical_runToRun_andAcrossThreads() throws Exception {
        OpenClKernels k = new OpenClKernels(OpenClTesting.runtime());
        Random rnd = new Random(61);
        float[] gy = OpenClTesting.randn(rnd, d.outputSize()), x = OpenClTesting.randn(rnd, d.inputSize());
        float[] first = reductions(k, gy, x);
        assertArrayEquals(first, reductions(k, gy, x), "second run");

        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<float[]>> runs = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                runs.add(pool.submit(() -> reductions(k, gy, x)));
            }
            for (Future<float[]> f : runs) {
                assertArrayEquals(first, f.get(), "concurrent run");
            }
        } finally {
            pool.shutdown();
        }
    }
}
