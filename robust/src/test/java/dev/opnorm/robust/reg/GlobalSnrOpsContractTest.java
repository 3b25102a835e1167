package dev.opnorm.robust.reg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;

import java.util.SplittableRandom;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * {@link GlobalSpectralNorm.Engine} on a backend whose state buffers are NOT the host arrays (the host
 * arithmetic, with copies and counted transfers), against the host regularizer: the same bits for the
 * penalty, the gradients and (after {@code downloadState}) the checkpointed u, v, for both forms; the host
 * copies untouched between checkpoints; what crosses the seam per update (one read of the sigmas; the
 * state only after {@code uploadState}); a resume from host copies.
 */
class GlobalSnrOpsContractTest {
    private static final Shape IN = new Shape(1, 2, 6, 6);

    /** Host arithmetic on separate buffers, counting the transfers. */
    private static final class Copying implements GlobalSnrOps<float[], float[]> {
        private final KernelGlobalSnrOps<float[], int[]> h = new KernelGlobalSnrOps<>(new ScalarKernels());
        int uploads, downloads, reads;
        boolean closed;

        @Override
        public float[] allocate(int n) {
            return new float[n];
        }

        @Override
        public float[] state(float[] hostCopy) {
            return new float[hostCopy.length];
        }

        @Override
        public void release(float[] v) {
        }

        @Override
        public void upload(float[] src, float[] dst) {
            uploads++;
            h.upload(src, dst);
        }

        @Override
        public void download(float[] src, float[] dst) {
            downloads++;
            h.download(src, dst);
        }

        @Override
        public void apply(Operand a, float[] w, float[] in, float[] out) {
            h.apply(a, w, in, out);
        }

        @Override
        public void applyTranspose(Operand a, float[] w, float[] in, float[] out) {
            h.applyTranspose(a, w, in, out);
        }

        @Override
        public void normalize(float[] dst, float[] src) {
            h.normalize(dst, src);
        }

        @Override
        public float[] scalars(int n) {
            return new float[n];
        }

        @Override
        public void releaseScalars(float[] s) {
        }

        @Override
        public void dot(float[] dst, int i, float[] a, float[] b) {
            h.dot(dst, i, a, b);
        }

        @Override
        public double[] read(float[] s, int n) {
            reads++;
            return h.read(s, n);
        }

        @Override
        public void addWeightGradient(Operand a, float[] gW, float scale, float[] u, float[] v) {
            h.addWeightGradient(a, gW, scale, u, v);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static Sequential net() {
        Sequential net = new Sequential("net", new Conv2d("0", 2, 3, 3, 1, 1, true), new ReLU("1"),
                new Conv2d("2", 3, 4, 3, 2, 0, true), new Flatten("3"), new Linear("4", 16, 3, true));
        net.initParameters(new SplittableRandom(11));
        return net;
    }

    private static void step(Sequential net, ParamGrads g) {
        for (Param p : net.params()) {
            if (g.has(p)) {
                float[] d = g.of(p);
                for (int i = 0; i < d.length; i++) {
                    p.value[i] -= 0.5f * d[i];
                }
            }
        }
    }

    @Test
    void reshaped_copyingBackend_sameBitsAndTransfers() {
        compare(n -> GlobalSpectralNorm.reshaped(n, 0.3, 2));
    }

    @Test
    void convolution_copyingBackend_sameBitsAndTransfers() {
        compare(n -> GlobalSpectralNorm.convolution(n, IN, 0.3, 2));
    }

    private static void compare(Function<Sequential, GlobalSpectralNorm> make) {
        Sequential a = net(), b = net();
        GlobalSpectralNorm host = make.apply(a), twin = make.apply(b);
        int layers = twin.layers();
        Copying ops = new Copying();
        GlobalSpectralNorm.Engine<float[], float[]> engine = twin.engine(ops);
        Tensor x = new Tensor(new Shape(1, 1, 1, 1));
        for (int t = 0; t < 4; t++) {
            ParamGrads ga = new ParamGrads(), gb = new ParamGrads();
            double want = host.accumulate(new RegBatch(a, x, new int[]{0}, 50 + t), ga);
            int up = ops.uploads, down = ops.downloads, reads = ops.reads;
            double got = engine.accumulate(50 + t, p -> p.value, gb::of);
            assertEquals(want, got, 0, "penalty of update " + t);
            assertEquals(1, ops.reads - reads, "one read of the sigmas per update");
            assertEquals(t == 0 || t == 3 ? 2 * layers : 0, ops.uploads - up, "state uploads of update " + t);
            assertEquals(0, ops.downloads - down, "no download during an update");
            for (int i = 0; i < a.params().size(); i++) {
                Param pa = a.params().get(i), pb = b.params().get(i);
                assertEquals(ga.has(pa), gb.has(pb), pa.name());
                if (ga.has(pa)) {
                    assertArrayEquals(ga.of(pa), gb.of(pb), pa.name() + " gradient of update " + t);
                }
            }
            if (t == 0) {
                // the start vectors are drawn into the host copies and uploaded; later steps stay on the backend
                assertArrayEquals(new float[twin.u(0).length], twin.u(0), "u's host copy before a checkpoint");
            }
            if (t == 1) {
                assertFalse(java.util.Arrays.equals(host.v(0), twin.v(0)), "host copies are not live");
                engine.downloadState();
                assertEquals(2 * layers, ops.downloads - down, "a checkpoint downloads u and v of every layer");
                for (int i = 0; i < layers; i++) {
                    assertArrayEquals(host.u(i), twin.u(i), "checkpointed u of " + host.layerName(i));
                    assertArrayEquals(host.v(i), twin.v(i), "checkpointed v of " + host.layerName(i));
                }
            }
            if (t == 2) {
                // a resume: a new engine continues from the host copies (downloaded after this update)
                engine.downloadState();
                engine.close();
                assertEquals(true, ops.closed, "the engine closes its operations");
                GlobalSpectralNorm.Engine<float[], float[]> closed = engine;
                assertThrows(IllegalStateException.class, () -> closed.accumulate(0, p -> p.value, new ParamGrads()::of));
                ops = new Copying();
                engine = twin.engine(ops);
                engine.uploadState();
            }
            step(a, ga);
            step(b, gb);
        }
        int down = ops.downloads;
        engine.downloadState();
        assertEquals(2 * layers, ops.downloads - down);
        for (int i = 0; i < layers; i++) {
            assertArrayEquals(host.u(i), twin.u(i), "final u of " + host.layerName(i));
            assertArrayEquals(host.v(i), twin.v(i), "final v of " + host.layerName(i));
        }
        engine.uploadState();
        down = ops.downloads;
        engine.downloadState();
        assertEquals(down, ops.downloads, "after uploadState the host copies are the state: nothing to download");
        engine.close();
    }

    @Test
    void engine_nullOps_isRejected() {
        GlobalSpectralNorm reg = GlobalSpectralNorm.reshaped(net(), 0.1);
        assertThrows(IllegalArgumentException.class, () -> reg.engine(null));
    }
}
