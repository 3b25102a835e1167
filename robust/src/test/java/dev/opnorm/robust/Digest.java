package dev.opnorm.robust;

/**
 * A 64-bit digest of exact bits for the tests that pin an algorithm's arithmetic (the *BitsTest classes):
 * an FNV-style multiply and an xor-shift per word, the length after each array. Changing it changes every
 * pinned digest, so it stays as it is.
 */
public final class Digest {
    private Digest() {
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
