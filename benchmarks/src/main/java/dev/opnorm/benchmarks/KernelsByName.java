package dev.opnorm.benchmarks;

import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;

/** Our {@link Kernels} implementations by the name benchmarks take as a parameter. */
final class KernelsByName {
    private KernelsByName() {
    }

    /** "scalar" (the reference: about 1 GFLOP/s, keep it to small shapes) or "vector". */
    static Kernels of(String name) {
        switch (name) {
            case "scalar":
                return new ScalarKernels();
            case "vector":
                return reflect("dev.opnorm.nn.kernels.VectorKernels");
            default:
                throw new IllegalArgumentException("unknown kernels '" + name + "': expected scalar or vector");
        }
    }

    private static Kernels reflect(String className) {
        try {
            return (Kernels) Class.forName(className).getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("kernels " + className + " are not available in this build", e);
        }
    }
}
