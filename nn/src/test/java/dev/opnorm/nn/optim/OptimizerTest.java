package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.util.Rng;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

class OptimizerTest {
    /** Float updates against a double-precision reference: a few float roundings of values near 1. */
    static final double TOL = 1e-6;

    private static final float[][] GRADS = {{0.5f, 1f}, {-0.5f, 2f}, {0.25f, -1f}};

    /**
     * Expected parameters after each of three steps from p = [1, -2] with the gradients above, computed in
     * double by a separate transcription of the update formulas of the torch.optim documentation (a Python
     * script), e.g. SGD momentum 0.9, weight decay 0.01, lr 0.1, step 2:
     * g = [-0.5 + 0.01 * 0.949, 2 + 0.01 * -2.098], buf = 0.9 * [0.51, 0.98] + g, p = [0.949, -2.098] - 0.1 * buf.
     */
    private static void assertTrajectory(Function<List<Param>, Optimizer> make, double[][] expected) {
        Param p = new Param("w", new float[] {1f, -2f}, 2);
        Optimizer opt = make.apply(List.of(p));
        ParamGrads grads = new ParamGrads();
        for (int s = 0; s < expected.length; s++) {
            System.arraycopy(GRADS[s], 0, grads.of(p), 0, 2);
            opt.step(grads);
            for (int j = 0; j < 2; j++) {
                assertEquals(expected[s][j], p.value[j], TOL, opt + " step " + (s + 1) + " element " + j);
            }
        }
    }

    @Test
    void sgd_plain_matchesPyTorchFormulas() {
        assertTrajectory(ps -> new Sgd(ps, Sgd.Config.of(0.1)), new double[][] {{0.95, -2.1}, {1.0, -2.3}, {0.975, -2.2}});
    }

    @Test
    void sgd_momentumAndWeightDecay_matchesPyTorchFormulas() {
        assertTrajectory(ps -> new Sgd(ps, Sgd.Config.of(0.1).withMomentum(0.9).withWeightDecay(0.01)),
                new double[][] {{0.949, -2.098}, {0.952151, -2.384102}, {0.929034749, -2.539209698}});
    }

    @Test
    void sgd_nesterov_matchesPyTorchFormulas() {
        assertTrajectory(ps -> new Sgd(ps, Sgd.Config.of(0.1).withMomentum(0.9).withWeightDecay(0.01).withNesterov(true)),
                new double[][] {{0.9031, -2.1862}, {0.95507411, -2.64142622}, {0.908348958191, -2.678078688182}});
    }

    @Test
    void sgd_dampening_notAppliedOnFirstStep() {
        assertTrajectory(ps -> new Sgd(ps, Sgd.Config.of(0.1).withMomentum(0.9).withDampening(0.5)),
                new double[][] {{0.95, -2.1}, {0.93, -2.29}, {0.8995, -2.411}});
    }

    @Test
    void adam_matchesPyTorchFormulas() {
        assertTrajectory(ps -> new Adam(ps, Adam.Config.adam(0.1)),
                new double[][] {{0.900000002, -2.099999999}, {0.9052631597894736, -2.1965182009718336},
                    {0.88779060677388, -2.2385271310318133}});
    }

    @Test
    void adam_l2WeightDecay_matchesPyTorchFormulas() {
        assertTrajectory(ps -> new Adam(ps, Adam.Config.adam(0.1).withWeightDecay(0.1)),
                new double[][] {{0.9000000016666666, -2.09999999875}, {0.8866836230649792, -2.1952720095868674},
                    {0.8503518619580189, -2.2240427812194343}});
    }

    @Test
    void adamW_decoupledWeightDecay_matchesPyTorchFormulas() {
        assertTrajectory(ps -> new Adam(ps, Adam.Config.adamW(0.1).withWeightDecay(0.1)),
                new double[][] {{0.890000002, -2.079999999}, {0.8863631597694736, -2.1557182009818336},
                    {0.8600269751561852, -2.176169949031995}});
    }

    @Test
    void rmsprop_matchesPyTorchFormulas() {
        assertTrajectory(ps -> new RmsProp(ps, RmsProp.Config.of(0.01)),
                new double[][] {{0.900000019999996, -2.099999990000001}, {0.9708881304505798, -2.189532282199154},
                    {0.937331087975015, -2.1485021322597095}});
    }

    @Test
    void rmsprop_momentum_matchesPyTorchFormulas() {
        assertTrajectory(ps -> new RmsProp(ps, RmsProp.Config.of(0.01).withMomentum(0.9)),
                new double[][] {{0.900000019999996, -2.099999990000001}, {0.8808881484505762, -2.279532273199155},
                    {0.8301304215805335, -2.400081178138949}});
    }

    @Test
    void rmsprop_centeredMomentumWeightDecay_matchesPyTorchFormulas() {
        assertTrajectory(ps -> new RmsProp(ps, RmsProp.Config.of(0.01).withCentered(true).withMomentum(0.9).withWeightDecay(0.1)),
                new double[][] {{0.8994962353090928, -2.10050376889966}, {0.8656781764119453, -2.2831337999119854},
                    {0.7928344491536544, -2.3940972494984787}});
    }

    // ---- resume: export -> import -> continue is bit-identical ----

    private static List<Param> model() {
        Rng rng = new Rng(17);
        List<Param> ps = new ArrayList<>();
        float[] w = new float[12], b = new float[3], unused = new float[2];
        rng.fillGaussian(w, 0, 1);
        rng.fillGaussian(b, 0, 1);
        ps.add(new Param("features.0.weight", w, 3, 2, 2));
        ps.add(new Param("features.0.bias", b, 3));
        ps.add(new Param("head.unused", unused, 2)); // never gets a gradient: must keep no state
        return ps;
    }

    private static void randomGrads(List<Param> ps, ParamGrads grads, Rng rng) {
        grads.zero();
        for (int i = 0; i < 2; i++) {
            float[] g = grads.of(ps.get(i));
            for (int j = 0; j < g.length; j++) {
                g[j] = rng.nextGaussianFloat();
            }
        }
    }

    private static List<Function<List<Param>, Optimizer>> allConfigs() {
        return List.of(
                ps -> new Sgd(ps, Sgd.Config.of(0.05)),
                ps -> new Sgd(ps, Sgd.Config.of(0.05).withMomentum(0.9).withNesterov(true).withWeightDecay(5e-4)),
                ps -> new Adam(ps, Adam.Config.adam(1e-2)),
                ps -> new Adam(ps, Adam.Config.adamW(1e-2)),
                ps -> new RmsProp(ps, RmsProp.Config.of(1e-3)),
                ps -> new RmsProp(ps, RmsProp.Config.of(1e-3).withMomentum(0.5).withCentered(true).withWeightDecay(1e-3)));
    }

    @Test
    void exportImport_resumedRun_isBitIdenticalToUninterrupted() {
        LrSchedule schedule = LrSchedule.cosine(1.0, 8, 2, 0.01);
        int checked = 0;
        for (Function<List<Param>, Optimizer> make : allConfigs()) {
            // uninterrupted: 8 steps
            List<Param> a = model();
            Optimizer oa = make.apply(a);
            double base = oa.learningRate();
            ParamGrads ga = new ParamGrads();
            Rng ra = new Rng(5);
            for (int s = 0; s < 8; s++) {
                randomGrads(a, ga, ra);
                oa.setLearningRate(base * schedule.at(s));
                oa.step(ga);
            }
            // interrupted after 3 steps: export, fresh optimizer and copied params, import, 5 more steps
            List<Param> b = model();
            Optimizer ob = make.apply(b);
            ParamGrads gb = new ParamGrads();
            Rng rb = new Rng(5);
            for (int s = 0; s < 3; s++) {
                randomGrads(b, gb, rb);
                ob.setLearningRate(base * schedule.at(s));
                ob.step(gb);
            }
            OptimizerState saved = ob.exportState();
            long[] rngState = rb.state();
            List<Param> c = model();
            for (int i = 0; i < c.size(); i++) {
                System.arraycopy(b.get(i).value, 0, c.get(i).value, 0, b.get(i).size());
            }
            Optimizer oc = make.apply(c);
            oc.importState(saved);
            ParamGrads gc = new ParamGrads();
            Rng rc = Rng.fromState(rngState);
            for (int s = 3; s < 8; s++) {
                randomGrads(c, gc, rc);
                oc.setLearningRate(base * schedule.at(s));
                oc.step(gc);
            }
            for (int i = 0; i < a.size(); i++) {
                for (int j = 0; j < a.get(i).size(); j++) {
                    assertEquals(Float.floatToRawIntBits(a.get(i).value[j]), Float.floatToRawIntBits(c.get(i).value[j]),
                            oa + " " + a.get(i).name() + "[" + j + "]");
                }
            }
            assertFalse(saved.buffers().keySet().stream().anyMatch(k -> k.startsWith("head.unused")), saved.buffers().toString());
            checked++;
        }
        assertEquals(6, checked);
    }

    @Test
    void exportState_namesAndCopies() {
        List<Param> ps = model();
        Adam adam = new Adam(ps, Adam.Config.adam(0.1));
        ParamGrads g = new ParamGrads();
        randomGrads(ps, g, new Rng(1));
        adam.step(g);
        adam.step(g);
        OptimizerState s = adam.exportState();
        assertEquals("adam", s.kind());
        assertEquals(List.of("features.0.weight.exp_avg", "features.0.weight.exp_avg_sq", "features.0.bias.exp_avg",
                "features.0.bias.exp_avg_sq"), List.copyOf(s.buffers().keySet()));
        assertEquals(Map.of("features.0.weight.step", 2L, "features.0.bias.step", 2L), s.counters());
        float before = s.buffers().get("features.0.bias.exp_avg")[0];
        adam.step(g);
        assertEquals(before, s.buffers().get("features.0.bias.exp_avg")[0]); // exported state does not alias
        assertTrue(new Sgd(ps, Sgd.Config.of(0.1)).exportState().buffers().isEmpty());
    }

    @Test
    void importState_reportsEveryProblemAtOnce() {
        List<Param> ps = model();
        Map<String, float[]> b = new LinkedHashMap<>();
        b.put("features.0.weight.exp_avg", new float[12]);
        b.put("features.0.weight.exp_avg_sq", new float[11]);                // wrong length
        b.put("features.0.bias.exp_avg", new float[3]);                      // bias lacks exp_avg_sq and step
        b.put("features.9.weight.exp_avg", new float[1]);                    // unknown parameter
        b.put("features.0.weight.momentum_buffer", new float[12]);           // not an Adam buffer
        Map<String, Long> c = Map.of("features.0.weight.step", 3L);
        Adam adam = new Adam(ps, Adam.Config.adam(0.1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> adam.importState(new OptimizerState("adamw", b, c)));
        String m = e.getMessage();
        for (String frag : new String[] {"5 problem(s)", "'adamw'", "features.0.weight.exp_avg_sq: 11 values for a parameter of 12",
            "features.0.bias: incomplete state", "features.9.weight.exp_avg: unexpected",
            "features.0.weight.momentum_buffer: unexpected"}) {
            assertTrue(m.contains(frag), "'" + frag + "' not in:\n" + m);
        }
    }

    @Test
    void importState_intoSgdWithoutMomentum_rejectsMomentumBuffers() {
        List<Param> ps = model();
        Sgd withMomentum = new Sgd(ps, Sgd.Config.of(0.1).withMomentum(0.9));
        ParamGrads g = new ParamGrads();
        randomGrads(ps, g, new Rng(2));
        withMomentum.step(g);
        OptimizerState s = withMomentum.exportState();
        assertEquals(2, s.buffers().size());
        assertThrows(IllegalArgumentException.class, () -> new Sgd(ps, Sgd.Config.of(0.1)).importState(s));
    }

    @Test
    void step_skipsParametersWithoutGradients() {
        List<Param> ps = model();
        float[] before = ps.get(2).value.clone();
        Sgd sgd = new Sgd(ps, Sgd.Config.of(0.1).withWeightDecay(0.1));
        ParamGrads g = new ParamGrads();
        randomGrads(ps, g, new Rng(3));
        sgd.step(g);
        assertArrayEquals(before, ps.get(2).value);
    }

    @Test
    void configs_rejectInvalidHyperparameters() {
        assertThrows(IllegalArgumentException.class, () -> Sgd.Config.of(0.1).withMomentum(1.0));
        assertThrows(IllegalArgumentException.class, () -> Sgd.Config.of(0.1).withNesterov(true));
        assertThrows(IllegalArgumentException.class, () -> Sgd.Config.of(0.1).withMomentum(0.9).withDampening(0.1).withNesterov(true));
        assertThrows(IllegalArgumentException.class, () -> Adam.Config.adam(0.1).withBetas(0.9, 1.0));
        assertThrows(IllegalArgumentException.class, () -> Adam.Config.adam(0.1).withEps(0));
        assertThrows(IllegalArgumentException.class, () -> RmsProp.Config.of(0.1).withAlpha(-0.1));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(), Sgd.Config.of(-1)));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(), Sgd.Config.of(Double.NaN)));
        Param p = new Param("x", new float[1], 1);
        assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(p, p.renamed("x")), Sgd.Config.of(0.1)));
    }

    @Test
    void describe_namesKindAndHyperparameters() {
        assertEquals("adamw(lr=0.001, betas=(0.9, 0.999), eps=1.0E-8, weight_decay=0.01)",
                new Adam(List.of(), Adam.Config.adamW(1e-3)).describe());
        assertTrue(new RmsProp(List.of(), RmsProp.Config.of(0.01)).describe().startsWith("rmsprop(lr=0.01, alpha=0.99"));
    }
}
