package dev.opnorm.nn;

import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.VectorKernels;

/**
 * Engine-wide settings, read once from system properties: the number of worker threads
 * ({@code -Dopnorm.threads}, default: available processors) and the default {@link Kernels} used by
 * layers that are not given one explicitly ({@link VectorKernels} on {@link #threads()} threads unless
 * replaced with {@link #setKernels}). Apart from the SIMD width ({@code -Dopnorm.vectorBits}, read once by
 * the kernels package next to the code it switches), this is the only place system properties are read.
 */
public final class Engine {
    private static final int THREADS = readThreads();
    private static volatile Kernels defaultKernels = new VectorKernels(THREADS);

    private Engine() {
    }

    /** Worker threads for parallel kernels (>= 1). */
    public static int threads() {
        return THREADS;
    }

    /** The kernels layers use unless told otherwise. */
    public static Kernels kernels() {
        return defaultKernels;
    }

    /** Replaces the default kernels for layers created afterwards (layers keep the kernels they were built with). */
    public static void setKernels(Kernels k) {
        if (k == null) {
            throw new IllegalArgumentException("kernels must not be null");
        }
        defaultKernels = k;
    }

    private static int readThreads() {
        String v = System.getProperty("opnorm.threads");
        if (v == null || v.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int t = Integer.parseInt(v.trim());
            if (t < 1) {
                throw new NumberFormatException();
            }
            return t;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property opnorm.threads=" + v + " is not a positive integer");
        }
    }
}
