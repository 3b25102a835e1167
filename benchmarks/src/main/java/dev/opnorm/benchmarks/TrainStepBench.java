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
 * network in PyTorch ({@link TorchCnn7}). {@link BenchTable} reports images/s = batch / t.
 * Threads as in {@link Conv2dBench}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class TrainStepBench {
    @Param({"128"})
    public int batch;

    /** "torch", or our engine with one of our kernels: "vector", "scalar". */
    @Param({"torch"})
    public String impl;

    @Param({"0.25"})
    public double width;

    private TorchCnn7 torchNet;

    @Setup
    public void setup() {
        if (impl.equals("torch")) {
            int threads = Torch.setThreads(Engine.threads());
            System.out.println("# PyTorch intra-op threads: " + threads + ", opnorm threads: " + Engine.threads());
            torchNet = TorchCnn7.random(width, batch, 7);
        } else {
            throw new IllegalArgumentException("impl '" + impl + "': our CNN is not wired in yet");
        }
    }

    @TearDown
    public void tearDown() {
        if (torchNet != null) {
            torchNet.close();
        }
    }

    @Benchmark
    public float step() {
        return torchNet.step();
    }
}
