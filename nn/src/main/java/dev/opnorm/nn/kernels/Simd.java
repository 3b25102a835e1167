package dev.opnorm.nn.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD species, chosen once per JVM. {@code -Dopnorm.vectorBits=N} forces an N-bit species
 * (64, 128, 256, 512) and {@code -Dopnorm.vectorBits=0} switches every vector loop of
 * {@link VectorKernels} to its scalar twin (the kill switch, for debugging and for JVMs where the
 * incubator module misbehaves). Default: the platform's preferred shape.
 *
 * <p>The register tiles of {@link Sgemm} and {@link DirectConv} are sized from {@link #REGISTERS}, the
 * vector registers the CPU has: 32 where the preferred species is 512 bits (AVX-512), else 16 (AVX2,
 * NEON). {@code -Dopnorm.vectorRegisters=16|32} overrides it for benchmarking. Neither the species nor
 * the tiles change any result: the summation order is fixed by the {@link Kernels} contract.
 */
final class Simd {
    /** Vector width in bits; 0 means vectors are disabled. */
    static final int BITS = readBits();
    static final boolean ENABLED = BITS != 0;
    /** The float species, or null when disabled. Static final so that C2 treats it as a constant. */
    static final VectorSpecies<Float> F = ENABLED ? VectorShape.forBitSize(BITS).withLanes(float.class) : null;
    /** Float lanes per vector (1 when disabled, so that loop bounds stay valid). */
    static final int LANES = ENABLED ? F.length() : 1;
    /** Vector registers the register tiles may plan for: 16 or 32. */
    static final int REGISTERS = readRegisters();

    private Simd() {
    }

    private static int readRegisters() {
        String v = System.getProperty("opnorm.vectorRegisters");
        if (v == null || v.isBlank()) {
            // the preferred shape, not the forced one: -Dopnorm.vectorBits=512 on an AVX2 CPU still has 16
            return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512 ? 32 : 16;
        }
        int regs;
        try {
            regs = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property opnorm.vectorRegisters=" + v + " is not an integer");
        }
        if (regs != 16 && regs != 32) {
            throw new IllegalArgumentException("system property opnorm.vectorRegisters=" + v + " must be 16 or 32");
        }
        return regs;
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
