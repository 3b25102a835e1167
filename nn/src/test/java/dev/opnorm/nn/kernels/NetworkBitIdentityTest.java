package dev.opnorm.nn.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A whole network computed with {@link VectorKernels} (1 and 2 threads) gives the same bits as with
 * {@link ScalarKernels}, computed in the same run: two training steps (TRAIN-mode forward, parameter and
 * input gradients, a plain SGD update), power iterations through the EVAL-mode linearization (jvp then
 * vjp, normalized), and a PGA-like chain (sign of the input gradient, a step, a fresh linearization).
 * The nn module reruns this under -Dopnorm.vectorBits=0, 128, 256 and 512, so every species must
 * reproduce the reference, hence each other. Nothing here is a number from one machine.
 */
class NetworkBitIdentityTest {
    private static final double WIDTH = 1.0 / 16; // channels 8 .. 64: k-slices of 256 are crossed from layer 5 on
    private static final int BATCH = 2, CLASSES = 10;

    @Test
    void cnn7_trainingPowerIterationAndAttackChain_areBitIdenticalToScalarKernels() {
        List<float[]> want = run(new ScalarKernels());
        for (Kernels k : new Kernels[] {new VectorKernels(1), new VectorKernels(2)}) {
            List<float[]> got = run(k);
            assertEquals(want.size(), got.size());
            for (int i = 0; i < want.size(); i++) {
                assertSameBits(k.name() + "/" + ((VectorKernels) k).threads() + " threads, "
                        + Simd.BITS + "-bit vectors, record " + i, want.get(i), got.get(i));
            }
        }
    }

    /** Every intermediate result of the scenario, in order. */
    private static List<float[]> run(Kernels kernels) {
        List<float[]> out = new ArrayList<>();
        Sequential net = Cnn7.create(WIDTH, 3, CLASSES, 7L, kernels);
        Random rnd = new Random(3);
        Tensor x = new Tensor(new Shape(BATCH, 3, Cnn7.SIZE, Cnn7.SIZE));
        fill(rnd, x.data);
        float[] gy = new float[BATCH * CLASSES];
        fill(rnd, gy);

        // training: two steps of gradients and an SGD update
        for (int step = 0; step < 2; step++) {
            Linearization lin = net.linearize(x, BnMode.TRAIN);
            out.add(lin.output().data.clone());
            ParamGrads grads = new ParamGrads();
            float[] gx = new float[x.data.length];
            lin.vjpAll(gy, gx, grads);
            lin.commit();
            out.add(gx);
            for (Param p : net.params()) {
                float[] g = grads.of(p);
                out.add(g.clone());
                for (int i = 0; i < g.length; i++) {
                    p.value[i] -= 0.05f * g[i];
                }
            }
        }
        for (Param b : net.buffers()) {
            out.add(b.value.clone());
        }

        // power iteration through the EVAL-mode linearization: v <- J^T J v / |J^T J v|
        Linearization eval = net.linearize(x, BnMode.EVAL);
        float[] v = new float[x.data.length], u = new float[gy.length];
        fill(rnd, v);
        for (int it = 0; it < 3; it++) {
            eval.jvp(v, u);
            out.add(u.clone());
            eval.vjp(u, v);
            out.add(v.clone());
            double norm = 0;
            for (float f : v) {
                norm += (double) f * f;
            }
            assertTrue(norm > 0, "power iteration collapsed to zero");
            float inv = (float) (1 / Math.sqrt(norm));
            for (int i = 0; i < v.length; i++) {
                v[i] *= inv;
            }
        }

        // PGA-like chain: x <- x + eps * sign(J^T gy) at a fresh linearization each step
        Tensor xa = x.copy();
        for (int it = 0; it < 3; it++) {
            Linearization lin = net.linearize(xa, BnMode.EVAL);
            float[] gx = new float[xa.data.length];
            lin.vjp(gy, gx);
            out.add(gx);
            for (int i = 0; i < gx.length; i++) {
                xa.data[i] += 0.01f * Math.signum(gx[i]);
            }
            out.add(lin.output().data.clone());
        }
        return out;
    }

    private static void fill(Random rnd, float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = 2f * rnd.nextFloat() - 1f;
        }
    }

    private static void assertSameBits(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
                fail(what + ": element " + i + " of " + want.length + " differs from ScalarKernels: " + want[i]
                        + " vs " + got[i]);
            }
        }
    }
}
