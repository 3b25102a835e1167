package dev.opnorm.gpu;

/**
 * Java twin of the TILED_ACCUMULATE body in common.cl, as seen by one output (i, j): the tiles and the
 * local-memory staging change where the operands come from, not which terms are summed or in what
 * order, so one output is sum over l in [lBegin, lEnd) of A(i, l) * B(l, j), l ascending, each term
 * fused (Math.fma, as fma() in the kernel). Used by tests, never for speed.
 */
public final class Tiled {
    private Tiled() {
    }

    /** A(i, l) or B(l, j) of one tiled kernel (the A_AT / B_AT macro of the kernel). */
    @FunctionalInterface
    public interface At {
        float at(int row, int col);
    }

    public static float accumulate(int i, int j, int lBegin, int lEnd, At a, At b) {
        float acc = 0f;
        for (int l = lBegin; l < lEnd; l++) {
            acc = Math.fma(a.at(i, l), b.at(l, j), acc);
        }
        return acc;
    }
}
