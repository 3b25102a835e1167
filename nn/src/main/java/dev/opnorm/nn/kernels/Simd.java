package dev.opnorm.nn.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD species, chosen once per JVM. {@code -Dopnorm.vectorBits=N} forces an N-bit species
 * (64, 128, 256, 512) and {@code -Dopnorm.vectorBits=0} switches every vector loop of
 * {@link VectorKernels} to its scalar twin (the kill switch, for debugging and for JVMs where the
 * incubator module misbehaves). Default: the platform's preferred shape.
 */
final class Simd {
    /** Vector width in bits; 0 means vectors are disabled. */
    static final int BITS = readBits();
    static final boolean ENABLED = BITS != 0;
    /** The float species, or null when disabled. Static final so that C2 treats it as a constant. */
    static final VectorSpecies<Float> F = ENABLED ? VectorShape.forBitSize(BITS).withLanes(float.class) : null;
    /** Float lanes per vector (1 when disabled, so that loop bounds stay valid). */
    static final int LANES = ENABLED ? F.length() : 1;

    private Simd() {
    }

    private static int readBits() {
        String v = System.getProperty("opnorm.vectorBits");
        if (v == null || v.isBlank()) {
            return FloatVector.SPECIES_PREFERRED.vectorBitSize();
        }
        int bits;
        try {
            bits = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property opnorm.vectorBits=" + v + " is not an integer");
        }
        if (bits != 0 && bits != 64 && bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException("system property opnorm.vectorBits=" + v
                    + " must be 0 (scalar), 64, 128, 256 or 512");
        }
        return bits;
    }
}
