package dev.opnorm.benchmarks;

import dev.opnorm.nn.Engine;
import java.util.concurrent.TimeUnit;
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
 * One training step of the 7-layer CNN - forward with BatchNorm in TRAIN mode, mean cross-entropy,
 * backward to all parameter gradients, no optimizer update - for our engine and for the same
 * network in PyTorch ({@link TorchCnn7}) with the same parameters and batch ({@link Cnn7Step}).
 * {@link BenchTable} reports images/s = batch / t.
 * Threads as in {@link Conv2dBench}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class TrainStepBench {
    private static final long SEED = 7;

    @Param({"128"})
    public int batch;

    /** "torch", or our engine with one of our kernels: "vector", "scalar". */
    @Param({"vector", "torch"})
    public String impl;

    @Param({"0.25"})
    public double width;

    private Step step;

    /** One step of either implementation, returning the loss (consumed by JMH). */
    interface Step extends AutoCloseable {
        double step();

        @Override
        void close();
    }

    @Setup
    public void setup() {
        if (impl.equals("torch")) {
            int threads = Torch.setThreads(Engine.threads());
            System.out.println("# PyTorch intra-op threads: " + threads + ", opnorm threads: " + Engine.threads());
            // same parameters and batch as ours; our kernels are only used to build the network here
            TorchCnn7 net = new Cnn7Step(width, batch, SEED, KernelsByName.of("scalar")).torchTwin();
            step = new Step() {
                // @formatter:off
                @Override public double step() { return net.step(); }
                @Override public void close()  { net.close(); }
                // @formatter:on
            };
        } else {
            Cnn7Step net = new Cnn7Step(width, batch, SEED, KernelsByName.of(impl));
            step = new Step() {
                // @formatter:off
                @Override public double step() { return net.step(); }
                @Override public void close()  { }
                // @formatter:on
            };
        }
    }

    @TearDown
    public void tearDown() {
        step.close();
    }

    @Benchmark
    public double step() {
        return step.step();
    }
}
