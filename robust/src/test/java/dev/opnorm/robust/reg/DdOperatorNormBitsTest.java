package dev.opnorm.robust.reg;

import dev.opnorm.robust.Digest;
import static dev.opnorm.robust.Digest.mix;
import static dev.opnorm.robust.Digest.floats;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;


import org.junit.jupiter.api.Test;

/**
 * The exact bits of the host finite-difference regularizer on a small CNN with BatchNorm (ScalarKernels and
 * VectorKernels, which give the same bits at every vector width and thread count): a digest of the
 * directions, the value and every accumulated parameter gradient,
 * against the digest the reference host code produced. The cases cover the sum-of-squares form in TRAIN and
 * EVAL penalty mode, the step's TRAIN linearization reused for f(x), the norm form (q = 1, 2, inf) and the
 * q-power form with a general q, and gradients accumulated onto earlier ones. Any change of the host
 * arithmetic changes a digest, so it must be deliberate.
 */
class DdOperatorNormBitsTest {
    private static final double INF = Double.POSITIVE_INFINITY;

    /** The directions, the value and the gradients (after {@code pre} accumulated ones) of one call. */
    private static long digest(DdOperatorNorm reg, boolean reuseTrain, boolean preAccumulated, Kernels k) {
        Sequential net = RegTestSupport.bitsNetwork(41, k);
        Tensor x = RegTestSupport.gaussian(new Shape(3, 2, 4, 4), 42);
        RegBatch batch = new RegBatch(net, x, null, 43, reuseTrain ? net.linearize(x, BnMode.TRAIN) : null);
        ParamGrads grads = new ParamGrads();
        if (preAccumulated) {
            for (Param p : net.params()) {
                float[] g = grads.of(p);
                for (int i = 0; i < g.length; i++) {
                    g[i] = 0.01f * (i % 7 - 3);
                }
            }
        }
        long h = floats(17, reg.directions(batch));
        h = mix(h, Double.doubleToRawLongBits(reg.accumulate(batch, grads)));
        for (Param p : net.params()) {
            h = grads.has(p) ? floats(h, grads.of(p)) : mix(h, 0);
        }
        return h;
    }

    private static long[] run(Kernels k) {
        return new long[]{
                digest(DdOperatorNorm.sumOfSquares(3.0, 0.1, 4, BnMode.TRAIN), false, false, k),
                digest(DdOperatorNorm.sumOfSquares(3.0, 0.1, 4, BnMode.TRAIN), true, true, k),
                digest(DdOperatorNorm.sumOfSquares(2.0, 0.2, 3, BnMode.EVAL), true, false, k),
                digest(new DdOperatorNorm(2, 1, 5.0, 0.3, 3, false, BnMode.EVAL), false, true, k),
                digest(new DdOperatorNorm(INF, 2, 4.0, 0.1, 5, false, BnMode.TRAIN), true, false, k),
                digest(new DdOperatorNorm(1, INF, 4.0, 0.2, 3, false, BnMode.EVAL), false, false, k),
                digest(new DdOperatorNorm(3, 1.5, 7.0, 0.25, 3, true, BnMode.TRAIN), false, false, k),
                digest(new DdOperatorNorm(1.5, 3, 7.0, 0.25, 2, true, BnMode.EVAL), false, true, k)};
    }

    @Test
    void hostDdOperatorNorm_bitsArePinned() {
        Digest.assertPinned(BITS, DdOperatorNormBitsTest::run);
    }

    // the values pin the one engine's host arithmetic (RegEngine.placed on PlacedModel.host, float scalars)
    private static final long[] BITS = {-4155561578261939757L, -1671849475804088951L, 3476493391578877063L,
            6288906570080155714L, 7558752071741467532L, -2190053920398707093L, 4115075559596970573L,
            2098688144273215602L};
}
