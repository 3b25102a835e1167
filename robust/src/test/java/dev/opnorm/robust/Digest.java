package dev.opnorm.robust;

import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.kernels.VectorKernels;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A 64-bit digest of exact bits for the tests that pin an algorithm's arithmetic (the *BitsTest classes):
 * an FNV-style multiply and an xor-shift per word, the length after each array. Changing it changes every
 * pinned digest, so it stays as it is.
 */
public final class Digest {
    private Digest() {
    }

    /** The kernels every pinned digest is computed with: the scalar reference and the vector kernels (this JVM's
     * width, 3 threads); both must give the same bits. */
    public static Kernels[] pinnedKernels() {
        return new Kernels[]{new ScalarKernels(), new VectorKernels(3)};
    }

    /** Asserts that {@code run} gives the digests {@code want} on every one of {@link #pinnedKernels()}; a failure
     * lists all digests of that run, ready to paste after a deliberate change of the arithmetic. */
    public static void assertPinned(long[] want, Function<Kernels, long[]> run) {
        for (Kernels k : pinnedKernels()) {
            long[] got = run.apply(k);
            StringBuilder all = new StringBuilder();
            for (long g : got) {
                all.append(g).append("L, ");
            }
            assertEquals(want.length, got.length, k.getClass().getSimpleName() + "; all: " + all);
            for (int c = 0; c < got.length; c++) {
                assertEquals(want[c], got[c], k.getClass().getSimpleName() + ", case " + c + "; all: " + all);
            }
        }
    }

    public static long mix(long h, long x) {
        h ^= x;
        h *= 0x100000001B3L;
        return h ^ (h >>> 29);
    }

    public static long floats(long h, float[] v) {
        for (float x : v) {
            h = mix(h, Float.floatToRawIntBits(x));
        }
        return mix(h, v.length);
    }

    public static long ints(long h, int[] v) {
        for (int x : v) {
            h = mix(h, x);
        }
        return mix(h, v.length);
    }

    public static long doubles(long h, double[] v) {
        for (double x : v) {
            h = mix(h, Double.doubleToRawLongBits(x));
        }
        return mix(h, v.length);
    }

    public static long string(long h, String s) {
        for (int i = 0; i < s.length(); i++) {
            h = mix(h, s.charAt(i));
        }
        return mix(h, s.length());
    }
}
