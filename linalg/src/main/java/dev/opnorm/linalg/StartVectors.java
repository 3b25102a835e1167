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

    /** A new vector of {@code n} standard normal draws from the stream of {@code seed}. */
    public static float[] gaussian(long seed, int n) {
        float[] v = new float[n];
        gaussian(seed, v, 0, n);
        return v;
    }
}
