package dev.opnorm.benchmarks;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Kernels;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
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
 * Conv2d forward, input VJP and weight VJP at the 7-layer CNN's layer shapes, for our kernels and for
 * PyTorch in the same JVM. {@code impl} is the innermost parameter, so JMH runs ours and PyTorch
 * back to back on each shape (one fork each: PyTorch's natives and OpenMP threads are loaded only in
 * its own trials). On a shared machine compare the ratio within one run, not numbers across runs. GFLOP/s = 2*N*K*C*R*S*P*Q / t for all three ops ({@link BenchTable} computes it
 * from the parameters).
 *
 * <p>Threads: ours use {@link Engine#threads()} ({@code -Dopnorm.threads}, default all cores);
 * PyTorch's intra-op pool is set to the same number in {@link #setup()}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class Conv2dBench {
    /**
     * "w{width}-L{layer}": conv layer 1..7 of the CNN at channel width 1.0 (128..1024 channels) or
     * 0.25 (32..256). JMH orders trials by parameter name, the first name varying slowest: "conv"
     * sorts before "impl", so both implementations run back to back on each shape.
     */
    @Param({"w1.0-L1", "w1.0-L2", "w1.0-L3", "w1.0-L4", "w1.0-L5", "w1.0-L6", "w1.0-L7",
            "w0.25-L1", "w0.25-L2", "w0.25-L3", "w0.25-L4", "w0.25-L5", "w0.25-L6", "w0.25-L7"})
    public String conv;

    @Param({"32"})
    public int batch;

    /** "torch", or one of our kernels: "vector", "scalar" (slow: small shapes only). */
    @Param({"vector", "torch"})
    public String impl;

    private ConvOps ops;

    @Setup
    public void setup() {
        Conv2dDims d = Cnn7Shapes.parse(conv, batch);
        ops = impl.equals("torch") ? new TorchConv(d) : new OursConv(KernelsByName.of(impl), d);
    }

    @TearDown
    public void tearDown() {
        ops.close();
    }

    // @formatter:off
    @Benchmark public void forward()   { ops.forward(); }
    @Benchmark public void vjpInput()  { ops.vjpInput(); }
    @Benchmark public void vjpWeight() { ops.vjpWeight(); }
    // @formatter:on

    /** The three ops on data prepared once; results land in fields or are freed, so none is dead code. */
    interface ConvOps extends AutoCloseable {
        void forward();

        void vjpInput();

        void vjpWeight();

        @Override
        void close();
    }

    static float[] gaussian(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    static final class OursConv implements ConvOps {
        private final Kernels k;
        private final Conv2dDims d;
        private final float[] x;   // (N, C, H, W)
        private final float[] w;   // (K, C, R, S)
        private final float[] b;   // (K)
        private final float[] gy;  // (N, K, P, Q)
        private final float[] y;   // (N, K, P, Q)
        private final float[] gx;  // (N, C, H, W)
        private final float[] gw;  // (K, C, R, S), accumulated into by every call, as in training

        OursConv(Kernels k, Conv2dDims d) {
            this.k = k;
            this.d = d;
            Random rnd = new Random(234);
            x = gaussian(rnd, d.inputSize());
            w = gaussian(rnd, d.weightSize());
            b = gaussian(rnd, d.k());
            gy = gaussian(rnd, d.outputSize());
            y = new float[d.outputSize()];
            gx = new float[d.inputSize()];
            gw = new float[d.weightSize()];
        }

        // @formatter:off
        @Override public void forward()   { k.conv2dForward(y, x, w, b, d); }
        @Override public void vjpInput()  { k.conv2dVjpInput(gx, gy, w, d); }
        @Override public void vjpWeight() { k.conv2dVjpWeight(gw, gy, x, d); }
        @Override public void close()     { }
        // @formatter:on
    }

    static final class TorchConv implements ConvOps {
        private final Conv2dDims d;
        private final Tensor x;
        private final Tensor w;
        private final Tensor b;
        private final Tensor gy;

        TorchConv(Conv2dDims d) {
            int threads = Torch.setThreads(Engine.threads());
            System.out.println("# PyTorch intra-op threads: " + threads + ", opnorm threads: " + Engine.threads());
            this.d = d;
            Random rnd = new Random(234);
            x = Torch.fromArray(gaussian(rnd, d.inputSize()), d.n(), d.c(), d.h(), d.w());
            w = Torch.fromArray(gaussian(rnd, d.weightSize()), d.k(), d.c(), d.r(), d.s());
            b = Torch.fromArray(gaussian(rnd, d.k()), d.k());
            gy = Torch.fromArray(gaussian(rnd, d.outputSize()), d.n(), d.k(), d.p(), d.q());
        }

        // PyTorch returns a fresh tensor per call (its normal use); free it at once rather than on GC
        // @formatter:off
        @Override public void forward()   { Torch.conv2dForward(x, w, b, d).close(); }
        @Override public void vjpInput()  { Torch.conv2dVjpInput(gy, x, w, d).close(); }
        @Override public void vjpWeight() { Torch.conv2dVjpWeight(gy, x, w, d).close(); }
        @Override public void close()     { x.close(); w.close(); b.close(); gy.close(); }
        // @formatter:on
    }
}
