package dev.opnorm.nn.data;

import dev.opnorm.nn.util.Rng;

/**
 * Deterministic shuffling: Fisher-Yates (Durstenfeld's in-place form) driven by an {@link Rng}:
 * <pre>
 *   for i = n-1 down to 1:  j = rng.nextInt(i + 1);  swap(a[i], a[j])
 * </pre>
 * which draws exactly n-1 numbers and makes every permutation equally likely (given an unbiased nextInt).
 */
public final class Shuffle {
    private Shuffle() {
    }

    /** Shuffles {@code a} in place. */
    public static void shuffle(int[] a, Rng rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** A uniformly random permutation of 0..n-1. */
    public static int[] permutation(int n, Rng rng) {
        if (n < 0) {
            throw new IllegalArgumentException("permutation size must be >= 0, got " + n);
        }
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        shuffle(a, rng);
        return a;
    }

    /**
     * The example order of epoch {@code epoch}: {@code permutation(n, stream.fork(epoch))}. A pure function
     * of the stream's state and the epoch ({@code stream} is not advanced), so a run resumed at any epoch
     * needs only the stream it started with, e.g. {@code new Rng(seed).fork("shuffle")}.
     */
    public static int[] epochOrder(int n, Rng stream, long epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        return permutation(n, stream.fork(epoch));
    }
}
