package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.util.Rng;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pins the host optimizers' arithmetic to the bit: every option combination runs seven steps over
 * parameters of odd sizes (1, 7, 33, 257) with gradients of very different scales, a parameter that first
 * gets a gradient at step 3 (lazy state created late), one that never gets one, a learning rate that
 * changes every step, and an export / import into a fresh optimizer after step 4. The SHA-256 of every
 * parameter bit after every step and of the exported state (names, buffer bits, counters) after every step
 * must equal the digest recorded from the reference implementation; a change of one bit anywhere (an fma
 * dropped, a scalar rounded at another point, a state created at another step) changes it.
 */
class OptimizerDigestTest {
    private static final int STEPS = 7, RESUME_AFTER = 4;
    private static final int[] SIZES = {1, 7, 33, 257, 5};
    private static final float[] SCALES = {3e-3f, 1f, 40f, 0.2f, 1f};

    private static Map<String, Function<List<Param>, Optimizer>> configs() {
        Map<String, Function<List<Param>, Optimizer>> m = new LinkedHashMap<>();
        m.put("sgd", ps -> new Sgd(ps, Sgd.Config.of(0.05)));
        m.put("sgd wd", ps -> new Sgd(ps, Sgd.Config.of(0.05).withWeightDecay(1e-2)));
        m.put("sgd momentum", ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.9)));
        m.put("sgd momentum dampening wd", ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.8)
                .withDampening(0.3).withWeightDecay(5e-4)));
        m.put("sgd nesterov wd", ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.9).withNesterov(true)
                .withWeightDecay(5e-4)));
        m.put("adam", ps -> new Adam(ps, Adam.Config.adam(1e-2)));
        m.put("adam l2", ps -> new Adam(ps, Adam.Config.adam(1e-2).withWeightDecay(1e-2).withBetas(0.8, 0.95)));
        m.put("adamw", ps -> new Adam(ps, Adam.Config.adamW(1e-2)));
        m.put("adamw no decay eps", ps -> new Adam(ps, Adam.Config.adamW(3e-2).withWeightDecay(0).withEps(1e-3)));
        m.put("rmsprop", ps -> new RmsProp(ps, RmsProp.Config.of(1e-3)));
        m.put("rmsprop wd", ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withWeightDecay(1e-2).withAlpha(0.9)));
        m.put("rmsprop momentum", ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withMomentum(0.5)));
        m.put("rmsprop centered", ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withCentered(true)));
        m.put("rmsprop centered momentum wd", ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withCentered(true)
                .withMomentum(0.9).withWeightDecay(1e-3).withEps(1e-6)));
        return m;
    }

    /** Recorded from the reference (pre-backend) implementation of nn.optim. */
    private static final Map<String, String> EXPECTED = Map.ofEntries(
            Map.entry("sgd", "8d8033218c74dc7e3fff88ced6086be64fab2b93cbc3a8e1adc5cd13a69e5ee8"),
            Map.entry("sgd wd", "fc4b9a337c1bba216afa8f12e55d18746e2505bdcc44cc19de2dbe5969a4ae35"),
            Map.entry("sgd momentum", "6d12a09712657f59247ab7a5f2797da099cee2f7ef8a01b3ecb59edb18091b27"),
            Map.entry("sgd momentum dampening wd", "e372cb14a35eb6bccd6dfcb90a1fc01ea0f661799caa0b6d0031128363c4256c"),
            Map.entry("sgd nesterov wd", "231a5ced0eb1e172dfe8082b218bee513315bcfeb9e5cc7200c810dc1d57072d"),
            Map.entry("adam", "373e7f3b532b13bf9307eb0faa6cc0509a14a4a76f9884ce3c891dff179486ab"),
            Map.entry("adam l2", "31ea7540315722050139861313f93eda2ba6096f92071fcb778ce3a8d76891d7"),
            Map.entry("adamw", "1d2b8719ce04d85ae34f815d022b5e0350068a98b8ec1b19e02e4721dc6abd56"),
            Map.entry("adamw no decay eps", "164d45cabff2ab9fdbf93bc73a3cfdc218d40f7265c4d899a40e3837f8cff44c"),
            Map.entry("rmsprop", "d3ad9e4f9d9f3baae4d3ce85512dba4fd35397b56e4cbd42044b232cfc04586d"),
            Map.entry("rmsprop wd", "f588294199ebdc6e477533ad98c1242e305b0934ca2de405925dd3d6010268b0"),
            Map.entry("rmsprop momentum", "48a66977aed10c85e64f66ae36f4211d6959316c882adbe89c8ef84cff4207fa"),
            Map.entry("rmsprop centered", "f08ba4763a5c1e99c96d838620b18b3e9c6efef95f1a880ef633a8a7a6f0f4fe"),
            Map.entry("rmsprop centered momentum wd", "4907987f5478992588a3278becd1956a6ee4a30ba91c6480f31f4335c5ae7b03"));

    @Test
    void everyOptimizerAndOption_isBitIdenticalToTheReference() {
        Map<String, String> got = new LinkedHashMap<>();
        for (Map.Entry<String, Function<List<Param>, Optimizer>> e : configs().entrySet()) {
            got.put(e.getKey(), digest(e.getValue()));
        }
        StringBuilder report = new StringBuilder();
        for (Map.Entry<String, String> e : got.entrySet()) {
            report.append("\n            Map.entry(\"").append(e.getKey()).append("\", \"").append(e.getValue()).append("\"),");
        }
        for (Map.Entry<String, String> e : got.entrySet()) {
            assertEquals(EXPECTED.get(e.getKey()), e.getValue(), e.getKey() + "; all digests now:" + report);
        }
    }

    private static List<Param> params() {
        Rng rng = new Rng(2024);
        List<Param> ps = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) {
            float[] v = new float[SIZES[i]];
            rng.fillGaussian(v, 0, 1);
            ps.add(new Param("layer" + i + ".weight", v, SIZES[i]));
        }
        return ps;
    }

    /** Gradients of step s: param 4 never, param 3 from step 2 (0-based) on; a few exact zeros. */
    private static void grads(List<Param> ps, ParamGrads grads, Rng rng, int s) {
        grads.zero();
        for (int i = 0; i < 4; i++) {
            if (i == 3 && s < 2) {
                continue;
            }
            float[] g = grads.of(ps.get(i));
            for (int j = 0; j < g.length; j++) {
                g[j] = j % 11 == 5 ? 0f : SCALES[i] * rng.nextGaussianFloat();
            }
        }
    }

    private static String digest(Function<List<Param>, Optimizer> make) {
        MessageDigest md = sha256();
        List<Param> ps = params();
        Optimizer opt = make.apply(ps);
        double base = opt.learningRate();
        ParamGrads g = new ParamGrads();
        Rng rng = new Rng(77);
        for (int s = 0; s < STEPS; s++) {
            if (s == RESUME_AFTER) {
                OptimizerState saved = opt.exportState();
                opt = make.apply(ps);
                opt.importState(saved);
            }
            grads(ps, g, rng, s);
            opt.setLearningRate(base * (1 + 0.37 * s) / (1 + 0.1 * s * s));
            opt.step(g);
            for (Param p : ps) {
                put(md, p.value);
            }
            OptimizerState st = opt.exportState();
            md.update(st.kind().getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, float[]> b : st.buffers().entrySet()) {
                md.update(b.getKey().getBytes(StandardCharsets.UTF_8));
                put(md, b.getValue());
            }
            for (Map.Entry<String, Long> c : st.counters().entrySet()) {
                md.update((c.getKey() + "=" + c.getValue()).getBytes(StandardCharsets.UTF_8));
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void put(MessageDigest md, float[] v) {
        byte[] b = new byte[4 * v.length];
        for (int j = 0; j < v.length; j++) {
            int x = Float.floatToIntBits(v[j]); // one NaN pattern: the hardware's default NaN differs
            b[4 * j] = (byte) (x >>> 24);
            b[4 * j + 1] = (byte) (x >>> 16);
            b[4 * j + 2] = (byte) (x >>> 8);
            b[4 * j + 3] = (byte) x;
        }
        md.update(b);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
