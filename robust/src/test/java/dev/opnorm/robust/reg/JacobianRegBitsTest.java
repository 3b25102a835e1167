package dev.opnorm.robust.reg;

import dev.opnorm.robust.Digest;
import static dev.opnorm.robust.Digest.mix;
import static dev.opnorm.robust.Digest.floats;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;


import org.junit.jupiter.api.Test;

/**
 * The exact bits of the host sigma^2 d.d. spectral norm regularizer and of input-gradient regularization
 * on a small CNN with BatchNorm (ScalarKernels and VectorKernels, which give the same bits at every vector
 * width and thread count): a digest of the value and every
 * accumulated parameter gradient, against the digest the reference host code produced, for several
 * strengths, iteration counts and seeds, with and without earlier accumulated gradients. Any change of the
 * host arithmetic changes a digest, so it must be deliberate.
 */
class JacobianRegBitsTest {
    /** The value and the gradients (after earlier accumulated ones, when asked) of one call. */
    private static long digest(Regularizer reg, long seed, boolean preAccumulated, Kernels k) {
        Sequential net = RegTestSupport.bitsNetwork(51, k);
        Tensor x = RegTestSupport.gaussian(new Shape(3, 2, 4, 4), 52);
        RegBatch batch = new RegBatch(net, x, new int[]{4, 0, 2}, seed);
        ParamGrads grads = new ParamGrads();
        if (preAccumulated) {
            for (Param p : net.params()) {
                float[] g = grads.of(p);
                for (int i = 0; i < g.length; i++) {
                    g[i] = 0.01f * (i % 5 - 2);
                }
            }
        }
        long h = mix(17, Double.doubleToRawLongBits(reg.accumulate(batch, grads)));
        for (Param p : net.params()) {
            h = grads.has(p) ? floats(h, grads.of(p)) : mix(h, 0);
        }
        return h;
    }

    private static long[] run(Kernels k) {
        return new long[]{
                digest(new DdSpectralNorm(0.7, 3), 53, false, k),
                digest(new DdSpectralNorm(2.0, 6), 54, true, k),
                digest(new DdSpectralNorm(0.3, 1), 55, false, k),
                digest(new InputGradient(0.4), 0, false, k),
                digest(new InputGradient(3.0), 0, true, k)};
    }

    @Test
    void hostSigmaSquaredAndInputGradient_bitsArePinned() {
        Digest.assertPinned(BITS, JacobianRegBitsTest::run);
    }

    // the values pin the one engine's host arithmetic (RegEngine.placed on PlacedModel.host, float scalars)
    private static final long[] BITS = {-8293156004211351999L, -5755777218567952623L, 1505729291942908231L,
            13965351852734146L, 5318334919404062578L};
}
