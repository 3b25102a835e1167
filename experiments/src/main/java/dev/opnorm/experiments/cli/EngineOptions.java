package dev.opnorm.experiments.cli;

import dev.opnorm.gpu.OpenClKernels;
import dev.opnorm.nn.Engine;
import dev.opnorm.nn.kernels.VectorKernels;
import picocli.CommandLine.Option;

/** Options every compute command shares: backend, threads, seed. A picocli mixin; {@link #install()} builds the backend. */
public final class EngineOptions {
    public enum Backend { cpu, opencl }

    @Option(names = "--backend", defaultValue = "cpu",
            description = "Kernel backend: cpu (Java Vector API) or opencl (JOCL; see `opnorm devices`). Default: ${DEFAULT-VALUE}.")
    public Backend backend;

    @Option(names = "--threads", defaultValue = "0",
            description = "CPU worker threads (0 = all cores). Results do not depend on it. Default: all cores.")
    public int threads;

    @Option(names = "--seed", defaultValue = "0",
            description = "Seed that fixes every random choice (initialization, sampling, start vectors). Default: ${DEFAULT-VALUE}.")
    public long seed;

    /**
     * Validates the options, makes the chosen kernels the engine default and returns the chosen backend: the
     * one place that looks at {@code --backend}; commands ask the result for their engines.
     */
    public ComputeBackend install() {
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be >= 0 (0 = all cores), got " + threads);
        }
        int t = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        ComputeBackend b = backend == Backend.opencl ? ComputeBackend.opencl(new OpenClKernels())
                : ComputeBackend.cpu(new VectorKernels(t));
        Engine.setKernels(b.kernels());
        return b;
    }

    /** The thread count in effect. */
    public int effectiveThreads() {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
}
