package dev.opnorm.benchmarks;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.kernels.Conv2dDims;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The OpenCL convolution kernels on the conv layers of the paper's 7-layer CNN, DEVICE-RESIDENT: inputs,
 * weights and outputs are {@link DeviceTensor}s uploaded once in setup, so no host transfer happens
 * inside a measured op; each op ends with {@code finish()} so the time covers the kernel, not the enqueue.
 * GFLOP/s = 2*N*K*C*R*S*P*Q / t (the same count for all three ops; see {@link Conv2dDims#flops()}).
 *
 * <p>Long warmup: OpenCL drivers compile kernels on first use (and PoCL once per work-group size).
 * Device: the shared runtime's ({@code -Dopnorm.opencl.device=...} in the fork's JVM arguments to choose).
 * Example (one layer, briefly):
 * {@code java -cp ... org.openjdk.jmh.Main OpenClConvBench -p layer=c128-128s32 -p batch=32 -p width=0.25}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 10, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1) // the ./bench launcher adds the JVM flags
@State(Scope.Benchmark)
public class OpenClConvBench {

    /** cIN-OUTsSIZE: a 3x3 conv, pad 1, except the last (pad 0); channels before the width factor. */
    @Param({"c3-128s32", "c128-128s32", "c128-256s16", "c256-256s16", "c256-512s8", "c512-512s8", "c512-1024s4"})
    String layer;

    @Param({"32", "128"})
    int batch;

    @Param({"1.0", "0.25"})
    double width;

    private OpenClOps ops;
    private OpenCl cl;
    private Conv2dDims d;
    private DeviceTensor x, w, b, y, gx, gw;

    @Setup
    public void setup() {
        cl = OpenCl.shared();
        ops = cl.ops();
        d = dims(layer, batch, width);
        Random rnd = new Random(234);
        x = DeviceTensor.of(cl, randn(rnd, d.inputSize()));
        w = DeviceTensor.of(cl, randn(rnd, d.weightSize()));
        b = DeviceTensor.of(cl, randn(rnd, d.k()));
        y = DeviceTensor.of(cl, randn(rnd, d.outputSize())); // doubles as gy for the VJPs
        gx = DeviceTensor.allocate(cl, d.inputSize());
        gw = DeviceTensor.allocate(cl, d.weightSize());
        ops.fill(gw, 0f, d.weightSize());
        cl.finish();
    }

    /** The layer's dimensions; channels other than the image's 3 are scaled by the width factor. */
    static Conv2dDims dims(String layer, int batch, double width) {
        String[] io = layer.substring(1, layer.indexOf('s')).split("-");
        int cin = Integer.parseInt(io[0]), cout = Integer.parseInt(io[1]);
        int size = Integer.parseInt(layer.substring(layer.indexOf('s') + 1));
        int c = cin == 3 ? 3 : (int) Math.round(cin * width);
        int k = (int) Math.round(cout * width);
        int pad = size == 4 ? 0 : 1;
        return new Conv2dDims(batch, c, size, size, k, 3, 3, 1, pad);
    }

    private static float[] randn(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    @TearDown
    public void tearDown() {
        cl.finish();
        for (DeviceTensor t : new DeviceTensor[]{x, w, b, y, gx, gw}) {
            t.close();
        }
    }

    // @formatter:off
    @Benchmark public void forward()   { ops.conv2dForward(y, x, w, b, d); cl.finish(); }
    @Benchmark public void vjpInput()  { ops.conv2dVjpInput(gx, y, w, d); cl.finish(); }
    @Benchmark public void vjpWeight() { ops.conv2dVjpWeight(gw, y, x, d); cl.finish(); }
    // @formatter:on
}
