package dev.opnorm.robust.reg;

import dev.opnorm.robust.Digest;
import static dev.opnorm.robust.Digest.mix;
import static dev.opnorm.robust.Digest.floats;
import static dev.opnorm.robust.Digest.string;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.WideResNet;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * The exact bits of the host global spectral norm regularizer on fixed networks (ScalarKernels and
 * VectorKernels, which give the same bits at every vector width and thread count): a digest of every update's penalty and weight gradients and of the state (names,
 * u and v: what a checkpoint stores) after each update, while the weights move between updates, against
 * the digest the reference host code produced. Cases: both forms, 1 and 2 power steps per update, a plain
 * CNN and a Wide ResNet (residual blocks), and a layer with all-zero weights (A v = 0 and A^T u = 0: u
 * stays 0 and v keeps its start). Any change of the host arithmetic changes a digest, so it must be
 * deliberate.
 */
class GlobalSpectralNormBitsTest {
    private static final Shape CNN_IN = new Shape(1, 2, 7, 7);
    private static final Shape WRN_IN = new Shape(1, 3, 12, 12);

    /** conv 3x3 pad 1 -> ReLU -> conv 3x3 stride 2 -> flatten -> linear -> ReLU -> linear on kernels k. */
    private static Sequential cnn(long seed, Kernels k) {
        Sequential net = new Sequential("cnn", new Conv2d("0", 2, 3, 3, 3, 1, 1, true, k), new ReLU("1"),
                new Conv2d("2", 3, 4, 3, 3, 2, 0, true, k), new Flatten("3"), new Linear("4", 36, 5, true, k),
                new ReLU("5"), new Linear("6", 5, 3, true, k));
        net.initParameters(new SplittableRandom(seed));
        return net;
    }

    private static Sequential wrn(long seed, Kernels k) {
        return WideResNet.create(10, 1, 3, 4, seed, k);
    }

    /**
     * Digest of {@code updates} updates of reg on net: before each, the weights take a step against the
     * last update's gradient (so the warm start meets new weights), then accumulate, penalty and gradient
     * bits, and the state's names and bits.
     */
    private static long run(Layer net, GlobalSpectralNorm reg, int updates) {
        long h = 17;
        ParamGrads grads = new ParamGrads();
        for (int t = 0; t < updates; t++) {
            for (Param p : net.params()) {
                if (grads.has(p)) {
                    float[] g = grads.of(p);
                    for (int i = 0; i < p.value.length; i++) {
                        p.value[i] -= 0.5f * g[i];
                    }
                }
            }
            grads = new ParamGrads();
            double value = reg.accumulate(new RegBatch(net, new Tensor(new Shape(1, 1, 1, 1)), new int[]{0},
                    900 + t), grads);
            h = mix(h, Double.doubleToRawLongBits(value));
            for (Param p : net.params()) {
                h = grads.has(p) ? floats(h, grads.of(p)) : mix(h, -1);
            }
            for (Param s : reg.state()) {
                h = floats(string(h, s.name()), s.value);
            }
        }
        for (int i = 0; i < reg.layers(); i++) {
            h = mix(h, Double.doubleToRawLongBits(reg.sigma(i)));
        }
        for (Map.Entry<String, Object> e : reg.config().entrySet()) {
            h = string(string(h, e.getKey()), String.valueOf(e.getValue()));
        }
        return h;
    }

    /** The scalar reference kernels and the vector ones (at this JVM's width and threads) give the same bits. */
    private static void check(long want, BiFunction<Long, Kernels, Layer> model,
                              Function<Layer, GlobalSpectralNorm> make, int updates) {
        for (Kernels k : Digest.pinnedKernels()) {
            Layer net = model.apply(3L, k);
            GlobalSpectralNorm reg = make.apply(net);
            assertEquals(want, run(net, reg, updates), reg.name() + " on " + net.name() + ", "
                    + k.getClass().getSimpleName());
        }
    }

    // the digests pin the one engine's host arithmetic (KernelGlobalSnrOps on the host's kernels, float sigmas)
    @Test
    void reshaped_cnn_oneStep() {
        check(5068556855034574658L, GlobalSpectralNormBitsTest::cnn, n -> GlobalSpectralNorm.reshaped(n, 0.3), 4);
    }

    @Test
    void reshaped_cnn_twoSteps() {
        check(-3025393989131220394L, GlobalSpectralNormBitsTest::cnn, n -> GlobalSpectralNorm.reshaped(n, 0.2, 2), 3);
    }

    @Test
    void convolution_cnn_twoSteps() {
        check(6941217303578226544L, GlobalSpectralNormBitsTest::cnn, n -> GlobalSpectralNorm.convolution(n, CNN_IN, 0.2, 2), 3);
    }

    @Test
    void reshaped_wideResNet() {
        check(44779114557133934L, GlobalSpectralNormBitsTest::wrn, n -> GlobalSpectralNorm.reshaped(n, 0.05, 1), 2);
    }

    @Test
    void convolution_wideResNet() {
        check(-6549727761487549571L, GlobalSpectralNormBitsTest::wrn, n -> GlobalSpectralNorm.convolution(n, WRN_IN, 0.05, 1), 2);
    }

    /** A layer with all-zero weights: A v = 0 leaves u = 0, A^T u = 0 leaves v at its start (both forms). */
    @Test
    void zeroWeightLayer_keepsItsStartVector() {
        for (boolean conv : new boolean[]{false, true}) {
            Sequential net = cnn(5, new ScalarKernels());
            Arrays.fill(net.params().get(2).value, 0f); // the second conv's kernel
            GlobalSpectralNorm reg = conv ? GlobalSpectralNorm.convolution(net, CNN_IN, 0.2, 2)
                    : GlobalSpectralNorm.reshaped(net, 0.2, 2);
            reg.initialize(900);
            float[] start = reg.v(1).clone();
            long h = run(net, reg, 2);
            assertEquals(0, reg.sigma(1), reg.name());
            for (float x : reg.u(1)) {
                assertEquals(0f, x, reg.name() + ": u of the zero layer");
            }
            assertEquals(Arrays.toString(start), Arrays.toString(reg.v(1)), reg.name() + ": v of the zero layer");
            assertEquals(conv ? 7733323497136004605L : 560534973749099213L, h, reg.name() + " with a zero layer");
        }
    }
}
