package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.util.Rng;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The optimizers through the {@link UpdateOps} seam on a backend of its own buffer type that counts what
 * crosses it (what a device backend pays a transfer for): steps move nothing, export downloads and import
 * uploads one buffer per state buffer, {@link Optimizer#moveTo} moves every buffer once and gives the old
 * ones back, and the results are the host optimizer's bit for bit.
 */
class UpdateOpsContractTest {
    /** A backend buffer: the optimizer cannot treat it as a host array. */
    record Buf(float[] a) {
    }

    /** The host's arithmetic on {@link Buf}s, with counters. */
    static final class CountingOps implements UpdateOps<Buf> {
        final KernelUpdateOps<float[]> host = KernelUpdateOps.HOST;
        int uploads, downloads, updates;
        final Map<Buf, Boolean> live = new IdentityHashMap<>();

        @Override
        public Buf zeros(int length) {
            return track(new Buf(host.zeros(length)));
        }

        @Override
        public Buf upload(float[] values) {
            uploads++;
            return track(new Buf(host.upload(values)));
        }

        @Override
        public float[] download(Buf b, int length) {
            check(b);
            downloads++;
            return host.download(b.a(), length);
        }

        @Override
        public void release(Buf b) {
            check(b);
            live.remove(b);
        }

        @Override
        public void sgd(Buf p, Buf g, Buf buf, Sgd.Scalars s, int len) {
            updates++;
            host.sgd(p.a(), g.a(), buf == null ? null : checked(buf).a(), s, len);
        }

        @Override
        public void adam(Buf p, Buf g, Buf m, Buf v, Adam.Scalars s, int len) {
            updates++;
            host.adam(p.a(), g.a(), checked(m).a(), checked(v).a(), s, len);
        }

        @Override
        public void rmsprop(Buf p, Buf g, Buf sq, Buf ga, Buf buf, RmsProp.Scalars s, int len) {
            updates++;
            host.rmsprop(p.a(), g.a(), checked(sq).a(), ga == null ? null : checked(ga).a(),
                    buf == null ? null : checked(buf).a(), s, len);
        }

        private Buf track(Buf b) {
            live.put(b, true);
            return b;
        }

        private Buf checked(Buf b) {
            check(b);
            return b;
        }

        private void check(Buf b) {
            assertTrue(live.containsKey(b), "a state buffer used after it was given back, or never made here");
        }

        @Override
        public String toString() {
            return "the counting backend";
        }
    }

    private static List<Function<List<Param>, Optimizer>> configs() {
        return List.of(
                ps -> new Sgd(ps, Sgd.Config.of(0.05)),
                ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.8).withDampening(0.25).withWeightDecay(1e-3)),
                ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.9).withNesterov(true)),
                ps -> new Adam(ps, Adam.Config.adam(1e-2).withWeightDecay(1e-2)),
                ps -> new Adam(ps, Adam.Config.adamW(1e-2)),
                ps -> new RmsProp(ps, RmsProp.Config.of(1e-3)),
                ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withMomentum(0.5).withCentered(true).withWeightDecay(1e-3)));
    }

    private static List<Param> params() {
        Rng rng = new Rng(8);
        List<Param> ps = new ArrayList<>();
        int[] sizes = {9, 1, 23, 4};
        for (int i = 0; i < sizes.length; i++) {
            float[] v = new float[sizes[i]];
            rng.fillGaussian(v, 0, 1);
            ps.add(new Param("p" + i, v, sizes[i]));
        }
        return ps;
    }

    /** Gradients of step s: p3 never, p2 from step 1 on. */
    private static float[][] grads(List<Param> ps, Rng rng, int s) {
        float[][] g = new float[ps.size()][];
        for (int i = 0; i < 3; i++) {
            if (i == 2 && s < 1) {
                continue;
            }
            g[i] = new float[ps.get(i).size()];
            rng.fillGaussian(g[i], 0, 1);
        }
        return g;
    }

    private static int stateBuffers(OptimizerState s) {
        return s.buffers().size();
    }

    @Test
    void steps_moveNothing_exportAndImportMoveEachBufferOnce_andEqualTheHostBitForBit() {
        for (Function<List<Param>, Optimizer> make : configs()) {
            List<Param> hostPs = params(), devPs = params();
            Optimizer host = make.apply(hostPs), dev = make.apply(devPs);
            CountingOps ops = new CountingOps();
            dev.moveTo(ops);
            assertSame(ops, dev.backend());
            assertEquals(0, ops.uploads, "moving an optimizer without state moves nothing");
            Map<Param, Buf> values = new IdentityHashMap<>();
            for (Param p : devPs) {
                values.put(p, new Buf(p.value)); // the "device" parameters alias the host arrays here
            }
            Rng rng = new Rng(3);
            for (int s = 0; s < 5; s++) {
                float[][] g = grads(hostPs, rng, s);
                ParamGrads hg = new ParamGrads();
                Map<Param, Buf> dg = new IdentityHashMap<>();
                for (int i = 0; i < g.length; i++) {
                    if (g[i] != null) {
                        System.arraycopy(g[i], 0, hg.of(hostPs.get(i)), 0, g[i].length);
                        dg.put(devPs.get(i), new Buf(g[i].clone()));
                    }
                }
                double lr = host.learningRate() * (1 + s) / 3;
                host.setLearningRate(lr);
                dev.setLearningRate(lr);
                host.step(hg);
                int before = ops.updates;
                dev.step(ops, values::get, dg::get);
                assertEquals(s == 0 ? 2 : 3, ops.updates - before, dev + ": one update per parameter with a gradient");
                assertEquals(0, ops.uploads + ops.downloads, dev + ": a step moves nothing");
                if (s == 2) {
                    // a checkpoint: export (down) and import into a fresh optimizer on the same backend (up)
                    OptimizerState saved = dev.exportState();
                    assertEquals(stateBuffers(saved), ops.downloads, dev + ": one download per state buffer");
                    int liveBefore = ops.live.size();
                    dev = make.apply(devPs);
                    dev.moveTo(ops);
                    dev.importState(saved);
                    assertEquals(stateBuffers(saved), ops.uploads, dev + ": one upload per state buffer");
                    assertEquals(liveBefore + stateBuffers(saved), ops.live.size(), "the fresh optimizer's buffers");
                    ops.uploads = ops.downloads = 0;
                }
            }
            for (int i = 0; i < hostPs.size(); i++) {
                assertArrayEquals(hostPs.get(i).value, devPs.get(i).value, dev + " " + hostPs.get(i).name());
            }
            OptimizerState want = host.exportState(), got = dev.exportState();
            assertEquals(want.buffers().keySet(), got.buffers().keySet(), dev + " state names");
            assertEquals(want.counters(), got.counters(), dev + " counters");
            for (String k : want.buffers().keySet()) {
                assertArrayEquals(want.buffers().get(k), got.buffers().get(k), dev + " " + k);
            }
            assertTrue(got.buffers().keySet().stream().noneMatch(k -> k.startsWith("p3.")), "p3 never had a gradient");
        }
    }

    @Test
    void moveTo_movesEveryBufferOnce_givesTheOldOnesBack_andStepsOnlyWhereTheStateIs() {
        List<Param> ps = params();
        Adam adam = new Adam(ps, Adam.Config.adam(1e-2));
        ParamGrads g = new ParamGrads();
        float[][] gs = grads(ps, new Rng(4), 1);
        for (int i = 0; i < gs.length; i++) {
            if (gs[i] != null) {
                System.arraycopy(gs[i], 0, g.of(ps.get(i)), 0, gs[i].length);
            }
        }
        adam.step(g);
        adam.step(g);
        OptimizerState before = adam.exportState();
        int buffers = stateBuffers(before);
        assertEquals(6, buffers, "exp_avg and exp_avg_sq of p0, p1, p2");

        CountingOps ops = new CountingOps();
        adam.moveTo(ops);
        assertEquals(buffers, ops.uploads, "moveTo uploads every state buffer once");
        assertEquals(buffers, ops.live.size());
        adam.moveTo(ops);
        assertEquals(buffers, ops.uploads, "moving to where the state is moves nothing");

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> adam.step(g));
        assertTrue(e.getMessage().contains("the counting backend"), e.getMessage());
        CountingOps other = new CountingOps();
        assertThrows(IllegalStateException.class, () -> adam.step(other, p -> null, p -> null));

        adam.moveTo(KernelUpdateOps.HOST);
        assertEquals(buffers, ops.downloads, "moving back downloads every state buffer once");
        assertEquals(0, ops.live.size(), "and gives every backend buffer back");
        OptimizerState after = adam.exportState();
        assertEquals(before.counters(), after.counters());
        for (String k : before.buffers().keySet()) {
            assertArrayEquals(before.buffers().get(k), after.buffers().get(k), k);
        }
        adam.step(g); // the host step works again
        assertEquals(3L, adam.exportState().counters().get("p0.step"));
    }

    @Test
    void importState_replacesAndGivesBackTheBackendsBuffers() {
        List<Param> ps = params();
        RmsProp r = new RmsProp(ps, RmsProp.Config.of(1e-3).withCentered(true));
        CountingOps ops = new CountingOps();
        r.moveTo(ops);
        Map<Param, Buf> values = new IdentityHashMap<>(), grads = new IdentityHashMap<>();
        for (Param p : ps) {
            values.put(p, new Buf(p.value));
        }
        grads.put(ps.get(0), new Buf(new float[ps.get(0).size()]));
        r.step(ops, values::get, grads::get);
        assertEquals(2, ops.live.size(), "square_avg and grad_avg of p0, created on the backend");
        assertEquals(0, ops.uploads, "state is created on the backend, not uploaded");
        r.importState(new OptimizerState("rmsprop", Map.of(), Map.of()));
        assertEquals(0, ops.live.size(), "importing an empty state gives the old buffers back");
        assertTrue(r.exportState().buffers().isEmpty());
    }
}
