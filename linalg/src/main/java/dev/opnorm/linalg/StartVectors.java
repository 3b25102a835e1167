package dev.opnorm.linalg;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Seeded random starting vectors for the iterative methods.
 *
 * <p>One seed gives one stream of standard normal numbers ({@link SplittableRandom}, whose output is
 * specified, so a seed means the same vector on every JDK). Batched runs derive the seed of example i
 * as {@link #exampleSeed}(seed, i) and the seed of restart r as {@link #restartSeed}(seed, r), so a
 * batched result can be reproduced by a single-map run with the derived seed.
 */
public final class StartVectors {
    private StartVectors() {}

    private static final long EXAMPLE_STRIDE = 0x9E3779B97F4A7C15L; // golden-ratio increment
    private static final long RESTART_STRIDE = 0xD1B54A32D192ED03L;

    /** The seed example {@code i} of a batched run with {@code seed} uses. */
    public static long exampleSeed(long seed, int i) {
        return seed + i * EXAMPLE_STRIDE;
    }

    /** The seed restart {@code r} (0 = the first run) uses. */
    public static long restartSeed(long seed, int r) {
        return seed + r * RESTART_STRIDE;
    }

    /** out[off, off+len) = standard normal draws from the stream of {@code seed} (overwritten). */
    public static void gaussian(long seed, float[] out, int off, int len) {
        gaussian(new SplittableRandom(seed), out, off, len);
    }

    /** out[off, off+len) = standard normal draws from {@code rng} (overwritten). */
    public static void gaussian(RandomGenerator rng, float[] out, int off, int len) {
        Norms.checkSlice(out.length, off, len);
        for (int i = 0; i < len; i++) out[off + i] = (float) rng.nextGaussian();
    }

    /**
     * The start vectors of run {@code restart} of a batched method (example after example, batch * n):
     * example i from {@link #restartSeed}({@link #exampleSeed}(seed, i), restart); restart 0 is
     * example i's own seed.
     */
    public static float[] batch(int batch, int n, long seed, int restart) {
        float[] v = new float[Math.multiplyExact(batch, n)];
        for (int i = 0; i < batch; i++) gaussian(restartSeed(exampleSeed(seed, i), restart), v, i * n, n);
        return v;
    }

    /**
     * A copy of the given start vectors (batch * n), or when {@code start} is null the first run's
     * Gaussian starts {@link #batch(int, int, long, int) batch}(batch, n, seed, 0).
     *
     * @throws IllegalArgumentException if start has the wrong length
     */
    public static float[] batch(int batch, int n, long seed, float[] start) {
        if (start == null) return batch(batch, n, seed, 0);
        if (start.length != (long) batch * n) {
            throw new IllegalArgumentException("start vectors length " + start.length + ", expected batch*inDim " + (long) batch * n);
        }
        return start.clone();
    }

    /** A new vector of {@code n} standard normal draws from the stream of {@code seed}. */
    public static float[] gaussian(long seed, int n) {
        float[] v = new float[n];
        gaussian(seed, v, 0, n);
        return v;
    }
}
