package dev.opnorm.nn.util;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A seeded pseudo-random generator whose whole state (four longs) can be saved and restored, so that a
 * run resumed from a checkpoint draws exactly the numbers the uninterrupted run would have drawn.
 * {@link java.util.SplittableRandom} and {@link java.util.Random} cannot do that (their state is not
 * exported), which is why opnorm has its own.
 *
 * <p>Algorithm: xoshiro256** 1.0 (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
 * 2018, public domain reference at prng.di.unimi.it), state seeded from a 64-bit seed by four successive
 * SplitMix64 outputs, as its authors recommend. All arithmetic is on Java longs (mod 2^64), so the stream
 * is identical on every JVM and platform.
 * <pre>
 *   splitmix64:  x += 0x9e3779b97f4a7c15; z = x;
 *                z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9; z = (z ^ (z >>> 27)) * 0x94d049bb133111eb;
 *                return z ^ (z >>> 31)
 *   xoshiro256**: result = rotl(s1 * 5, 7) * 9;  t = s1 &lt;&lt; 17;
 *                s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)
 * </pre>
 * Derived values: {@link #nextFloat()} = top 24 bits * 2^-24, {@link #nextDouble()} = top 53 bits * 2^-53
 * (both in [0, 1)); {@link #nextInt(int)} is Lemire's unbiased multiply-and-reject on the top 32 bits;
 * {@link #nextGaussian()} is Box-Muller (one normal per two uniforms, no cached spare, so the state stays
 * four longs) evaluated with {@link StrictMath} so it is bit-identical across platforms.
 *
 * <p>Streams: one run seed feeds several purposes (weight init, epoch shuffling, augmentation, attack
 * starts). {@link #fork(String)} / {@link #fork(long)} derive a child generator from the parent's current
 * state and a stream id WITHOUT advancing the parent, so adding a new purpose never shifts the numbers
 * of another. Forking is a hash of (state, id) into a new SplitMix64 seed; children of different ids are
 * unrelated streams for all practical purposes (not a proof of independence).
 *
 * <p>Not thread safe: give each thread its own fork.
 */
public final class Rng {
    private static final long GOLDEN = 0x9e3779b97f4a7c15L;

    private long s0, s1, s2, s3;

    /** A generator seeded from {@code seed} (any value, 0 included). */
    public Rng(long seed) {
        long x = seed;
        x += GOLDEN;
        s0 = mix64(x);
        x += GOLDEN;
        s1 = mix64(x);
        x += GOLDEN;
        s2 = mix64(x);
        x += GOLDEN;
        s3 = mix64(x);
        // four consecutive splitmix64 outputs are never all zero: mix64 is a bijection and the inputs differ
    }

    private Rng(long a, long b, long c, long d) {
        s0 = a;
        s1 = b;
        s2 = c;
        s3 = d;
    }

    /**
     * A generator that continues from a saved {@link #state()}.
     *
     * @throws IllegalArgumentException when the array is not 4 longs or is all zero (xoshiro's one invalid state)
     */
    public static Rng fromState(long[] state) {
        if (state == null || state.length != 4) {
            throw new IllegalArgumentException("RNG state must be 4 longs, got "
                    + (state == null ? "null" : state.length + ""));
        }
        if ((state[0] | state[1] | state[2] | state[3]) == 0) {
            throw new IllegalArgumentException("RNG state is all zero, which xoshiro256** cannot leave");
        }
        return new Rng(state[0], state[1], state[2], state[3]);
    }

    /** The full state (a copy): {@code fromState(state())} continues this stream exactly. */
    public long[] state() {
        return new long[] {s0, s1, s2, s3};
    }

    /** An independent copy at the same position. */
    public Rng copy() {
        return new Rng(s0, s1, s2, s3);
    }

    /** The SplitMix64 output function (the part after the increment): a bijective 64-bit mixer. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** The next 64 random bits. */
    public long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** Uniform in [0, 1) with 24 random bits (every float of the form k * 2^-24). */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** A fair coin. */
    public boolean nextBoolean() {
        return nextLong() < 0;
    }

    /**
     * Uniform in [0, bound), unbiased (Lemire 2019, "Fast random integer generation in an interval").
     *
     * @throws IllegalArgumentException when bound is not positive
     */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, got " + bound);
        }
        long m = (nextLong() >>> 32) * bound; // < 2^63: no overflow
        long low = m & 0xffffffffL;
        if (low < bound) {
            // reject the 2^32 mod bound values that would make some results one draw more likely
            long threshold = (0x1_0000_0000L - bound) % bound;
            while (low < threshold) {
                m = (nextLong() >>> 32) * bound;
                low = m & 0xffffffffL;
            }
        }
        return (int) (m >>> 32);
    }

    /** Standard normal N(0, 1) by Box-Muller; consumes exactly two {@link #nextDouble()} draws. */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // (0, 1]: log stays finite
        double u2 = nextDouble();
        return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
    }

    /** {@code (float) nextGaussian()}. */
    public float nextGaussianFloat() {
        return (float) nextGaussian();
    }

    /**
     * A child generator for stream {@code streamId}, derived from this generator's current state; this
     * generator is NOT advanced. The same (state, id) always gives the same child.
     */
    public Rng fork(long streamId) {
        long h = mix64(streamId + GOLDEN);
        h = mix64(h ^ s0);
        h = mix64(h + s1);
        h = mix64(h ^ s2);
        h = mix64(h + s3);
        return new Rng(h);
    }

    /**
     * {@link #fork(long)} with the id taken from a purpose name, e.g. {@code "init"}, {@code "shuffle"},
     * {@code "augment"}, {@code "attack"}: the id is the 64-bit FNV-1a hash of the name's UTF-8 bytes.
     */
    public Rng fork(String purpose) {
        if (purpose == null || purpose.isEmpty()) {
            throw new IllegalArgumentException("stream purpose must be a non-empty name");
        }
        return fork(fnv1a64(purpose));
    }

    static long fnv1a64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** Fills {@code out} (overwritten) with N(mean, std^2) samples, in index order. */
    public void fillGaussian(float[] out, float mean, float std) {
        for (int i = 0; i < out.length; i++) {
            out[i] = mean + std * nextGaussianFloat();
        }
    }

    /**
     * Fills {@code out} (overwritten) with {@code low + (high - low) * nextFloat()}, in index order: uniform
     * in [low, high) (float rounding can give exactly {@code high} in rare cases).
     */
    public void fillUniform(float[] out, float low, float high) {
        if (!(low < high)) {
            throw new IllegalArgumentException("uniform range [" + low + ", " + high + ") is empty");
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = low + (high - low) * nextFloat();
        }
    }

    @Override
    public String toString() {
        return "Rng" + Arrays.toString(state());
    }
}
