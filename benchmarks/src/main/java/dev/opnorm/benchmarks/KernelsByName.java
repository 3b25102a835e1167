package dev.opnorm.benchmarks;

import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.kernels.VectorKernels;

/** Our {@link Kernels} implementations by the name benchmarks take as a parameter. */
final class KernelsByName {
    private KernelsByName() {
    }

    /**
     * "scalar" (the reference: about 1 GFLOP/s, keep it to small shapes) or "vector" (Vector API,
     * {@code Engine.threads()} threads).
     */
    static Kernels of(String name) {
        switch (name) {
            case "scalar":
                return new ScalarKernels();
            case "vector":
                return new VectorKernels();
            default:
                throw new IllegalArgumentException("unknown kernels '" + name + "': expected scalar or vector");
        }
    }
}
