package dev.opnorm.nn.init;

import java.util.SplittableRandom;

/**
 * PyTorch's default parameter initialization, drawn from a {@link SplittableRandom} (whose algorithm
 * is fixed by the JDK specification, so one seed gives the same numbers on every machine and JDK).
 *
 * <p>PyTorch initializes conv and linear weights with {@code kaiming_uniform_(w, a=sqrt(5))}: gain =
 * sqrt(2 / (1 + a^2)) = sqrt(1/3), bound = gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in); biases with
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNorm weight 1, bias 0. fan_in = in_channels * kh * kw
 * for a conv, in_features for a linear layer. The values differ from PyTorch's own (another
 * generator), the distributions are the same.
 */
public final class PyTorchInit {
    private PyTorchInit() {
    }

    /** The bound 1/sqrt(fanIn) shared by weights (Kaiming uniform, a = sqrt(5)) and biases. */
    public static double bound(int fanIn) {
        if (fanIn <= 0) {
            throw new IllegalArgumentException("fan_in must be positive, got " + fanIn);
        }
        return 1.0 / Math.sqrt(fanIn);
    }

    /** a[i] = U(-bound, bound) for every i, in index order, overwritten. */
    public static void uniform(float[] a, double bound, SplittableRandom rnd) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (bound * (2.0 * rnd.nextDouble() - 1.0));
        }
    }

    /** Weight then bias (bias may be null) of a conv or linear layer with the given fan_in. */
    public static void weightAndBias(float[] weight, float[] bias, int fanIn, SplittableRandom rnd) {
        double b = bound(fanIn);
        uniform(weight, b, rnd);
        if (bias != null) {
            uniform(bias, b, rnd);
        }
    }
}
