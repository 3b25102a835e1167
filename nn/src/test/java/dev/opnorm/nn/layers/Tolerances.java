package dev.opnorm.nn.layers;

/**
 * Every tolerance of the nn layer tests, in one place. All are relative to a scale the test states
 * (a norm or a sum of absolute terms), so they do not depend on the magnitudes of the random data.
 */
public final class Tolerances {
    private Tolerances() {
    }

    /** |<J dx, gy> - <dx, J^T gy>| / sum |terms|: float kernels, double inner products. */
    public static final double ADJOINT = 1e-5;
    /** ||J(a u + b v) - a J u - b J v|| / (|a| ||J u|| + |b| ||J v||). */
    public static final double LINEARITY = 1e-5;
    /** ||J dx - central difference|| / ||J dx|| for a single layer in float (step {@link #FD_STEP}). */
    public static final double FD_LAYER = 5e-3;
    /**
     * The same for whole networks: a coarse check only. With float round-off on one side and ReLU
     * kinks crossed by larger steps on the other, a float difference through a 7-layer network is no
     * better than a few percent at any step; {@link #FD_DOUBLE} against the double reference is the
     * precise check.
     */
    public static final double FD_NETWORK = 1e-1;
    /** Central-difference step (inputs and directions are O(1)). */
    public static final double FD_STEP = 1e-2;
    /** Smaller step for piecewise-linear networks, so few ReLUs and pooling windows change state. */
    public static final double FD_STEP_NETWORK = 3e-4;
    /**
     * Central-difference step of the double-precision reference forward pass. Small, because in the
     * 7-layer CNN a step of 1e-5 along a random direction already flips a few ReLUs (measured: 0.1-1%
     * error at 1e-5, 1e-6 at 1e-6 and below); double round-off at 1e-7 is ~1e-9.
     */
    public static final double FD_STEP_DOUBLE = 1e-7;
    /** ||J dx (float) - central difference of the double reference|| / ||J dx|| (measured ~1e-6). */
    public static final double FD_DOUBLE = 1e-4;
    /** Float forward pass against the double reference, relative to max |f|. */
    public static final double FORWARD_F32 = 1e-4;
    /** |dL/dp (vjpParams) - double-reference central difference| / max |dL/dp| over the tensor. */
    public static final double PARAM_FD = 1e-4;
    /** Absolute floor of the parameter check, relative to the largest gradient of the network. */
    public static final double PARAM_FD_FLOOR = 1e-5;
    /** Dense Jacobian from jvp columns vs from vjp rows, relative to max |J_ij|. */
    public static final double JACOBIAN_TRANSPOSE = 1e-5;
    /** Two kernel implementations on the same network, relative to the max |value|. */
    public static final double BACKEND = 1e-4;
    /** A gradient accumulated twice vs twice the gradient, relative to the largest entry. */
    public static final double ACCUMULATE = 1e-5;
    /** The same float computation done in another order (fused vs separate passes), relative to max(1, |value|). */
    public static final double REORDERED_F32 = 1e-6;
    /** BatchNorm output statistics: mean ~0 and variance var/(var + eps) ~1 over a small batch. */
    public static final double BN_MOMENTS = 1e-3;
    /** Loss values and gradients in double against closed forms. */
    public static final double LOSS = 1e-7;
    /** Cross-entropy gradient against a float central difference of the double loss (step 1e-2). */
    public static final double LOSS_FD = 1e-4;
    /** Running statistics against the PyTorch formula evaluated in double. */
    public static final double RUNNING_STATS = 1e-6;
}
