package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.cli.ReproduceCommandTest;
import dev.opnorm.nn.Engine;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.VectorKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The phase machinery of {@link Reproduction}: a training killed mid-phase resumes from its checkpoint. */
class ReproductionTest {
    @TempDir
    Path tmp;

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    private Reproduction repro(Path data, Path out) {
        Kernels k = new VectorKernels(2);
        Engine.setKernels(k);
        return new Reproduction(Profile.SMOKE, out, data, 0, k, 2, QUIET);
    }

    @Test
    void training_killedMidPhase_resumesFromCheckpoint_bitIdenticalWeights() throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 60, 30);
        Path straight = tmp.resolve("straight"), killed = tmp.resolve("killed");
        repro(data, straight).stopAfter("train-at").run();

        Reproduction first = repro(data, killed).stopAfter("train-at").killTrainingAfter("at", 2);
        assertThrows(Reproduction.SimulatedKill.class, first::run);
        assertFalse(first.store().done("train-at"));
        assertTrue(first.store().done("choose-eps"));
        Path ck = killed.resolve("models/at.checkpoint.safetensors");
        assertTrue(Files.isRegularFile(ck), "the trainer left a checkpoint");
        assertFalse(Files.exists(killed.resolve("models/at.safetensors")));

        List<String> ran = repro(data, killed).stopAfter("train-at").run();
        assertEquals(List.of("train-at"), ran);
        assertFalse(Files.exists(ck), "checkpoint removed once the network is final");
        assertArrayEquals(Files.readAllBytes(straight.resolve("models/at.safetensors")),
                Files.readAllBytes(killed.resolve("models/at.safetensors")));
        assertEquals(repro(data, straight).store().values("train-at").get("clean_accuracy"),
                repro(data, killed).store().values("train-at").get("clean_accuracy"));
    }

    @Test
    void furtherSeeds_areOneUnitPerNetwork_andTrainingThemAsUnitsEqualsThePhase() throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 60, 30);
        Profile twoSeeds = Profile.SMOKE.with(Map.of("seeds", "2"));
        Kernels k = new VectorKernels(2);
        Engine.setKernels(k);
        Reproduction units = new Reproduction(twoSeeds, tmp.resolve("units"), data, 0, k, 2, QUIET);
        Map<String, List<String>> graph = new java.util.LinkedHashMap<>();
        for (Reproduction.Unit u : units.units()) {
            graph.put(u.name(), u.inputs());
        }
        for (String m : Reproduction.METHODS) {
            List<String> in = graph.get(Reproduction.MODEL_UNIT + m + "-seed1");
            assertEquals(List.of(m.equals("standard") || m.equals("at") ? "choose-eps" : "train-" + m), in, m);
        }
        assertEquals(Reproduction.METHODS.stream().map(m -> Reproduction.MODEL_UNIT + m + "-seed1").toList(),
                graph.get("train-seeds"));

        // the seed units each train their network; the phase then only loads them and writes the same values
        for (Reproduction.Unit u : units.units()) {
            units.runUnit(u.name());
            if (u.name().equals("train-seeds")) {
                break;
            }
        }
        Reproduction phases = new Reproduction(twoSeeds, tmp.resolve("phases"), data, 0, k, 2, QUIET);
        phases.stopAfter("train-seeds").run();
        for (String m : Reproduction.METHODS) {
            String f = "models/" + m + "-seed1.safetensors";
            assertArrayEquals(Files.readAllBytes(tmp.resolve("phases").resolve(f)),
                    Files.readAllBytes(tmp.resolve("units").resolve(f)), f);
        }
        // the searches train their lambda candidates side by side, on single-threaded kernels: the same weights as
        // the candidates trained one by one as units on the run's kernels
        int candidates = 0;
        for (Reproduction.Unit u : units.units()) {
            if (u.name().startsWith(Reproduction.MODEL_UNIT) && u.name().contains("-lambda")) {
                String f = "models/" + u.name().substring(Reproduction.MODEL_UNIT.length()) + ".safetensors";
                assertArrayEquals(Files.readAllBytes(tmp.resolve("phases").resolve(f)),
                        Files.readAllBytes(tmp.resolve("units").resolve(f)), f);
                candidates++;
            }
        }
        assertEquals(5, candidates);
        assertEquals(phases.store().values("train-seeds").get("clean_accuracy_dd-onr-seed1"),
                units.store().values("train-seeds").get("clean_accuracy_dd-onr-seed1"));
    }


    @Test
    void certifyPhase_afterTheTrainedNetworks_certifiedNeverAbovePgaAndNonIncreasing_sameForAnyThreadCount()
            throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 60, 30);
        Path out = tmp.resolve("certify");
        Reproduction r = repro(data, out);

        // the unit graph: certify after every trained network and Fig. 3 (its PGA results), before the report
        List<Reproduction.Unit> units = r.units();
        List<String> order = units.stream().map(Reproduction.Unit::name).toList();
        Reproduction.Unit certify = units.get(order.indexOf("certify"));
        for (String in : List.of("train-standard", "choose-eps", "train-at", "train-global-snr", "train-dd-snr",
                "train-dd-onr", "train-seeds", "fig3")) {
            assertTrue(certify.inputs().contains(in), "certify needs " + in + ": " + certify.inputs());
            assertTrue(order.indexOf(in) < order.indexOf("certify"), in);
        }
        assertTrue(units.get(order.indexOf("report")).inputs().contains("certify"));

        r.stopAfter("certify").run();
        assertTrue(r.store().done("certify"));
        assertFalse(r.store().done("report"));
        for (String f : List.of(CertifyPhase.CSV, CertifyPhase.BRACKET_CSV, "certified-accuracy.png",
                "certified-accuracy.csv")) {
            assertTrue(Files.isRegularFile(out.resolve(f)) && Files.size(out.resolve(f)) > 0, f);
        }
        List<String> lines = Files.readAllLines(out.resolve(CertifyPhase.CSV));
        assertEquals(CertifyPhase.CSV_HEADER, lines.get(0), "header row first");
        List<String> bracket = Files.readAllLines(out.resolve(CertifyPhase.BRACKET_CSV));
        assertEquals(CertifyPhase.BRACKET_HEADER, bracket.get(0), "header row first");

        Map<String, String> v = r.store().values("certify");
        assertEquals("0", v.get("certified_not_robust"));
        double epsTrain = r.eps();
        Map<String, List<double[]>> rows = CertifyPhase.read(out.resolve(CertifyPhase.CSV));
        assertEquals(Reproduction.METHODS, List.copyOf(rows.keySet()));
        double[] eps = CertifyPhase.radii(Profile.SMOKE, epsTrain);
        int certifiedAtX = 0, certifiedBall = 0;
        for (String m : Reproduction.METHODS) {
            List<double[]> mr = rows.get(m);
            assertEquals(eps.length, mr.size(), m);
            boolean[] clean = Reproduction.correct(r.model(m), r.curveSet().slice(0, Profile.SMOKE.certifyImages()));
            String before = null;
            for (int j = 0; j < mr.size(); j++) {
                double[] row = mr.get(j);
                int n = (int) row[2], k = (int) Math.round(row[1] * n);
                assertEquals(eps[j], row[0], m);
                assertTrue(row[1] <= row[5], m + " eps " + row[0] + ": certified " + row[1] + " above PGA " + row[5]);
                assertEquals(dev.opnorm.experiments.report.Estimate.wilson(k, n).low(), row[3], 1e-12);
                assertEquals(dev.opnorm.experiments.report.Estimate.wilson(k, n).high(), row[4], 1e-12);
                String bits = v.get("certified_bits_" + m + "_" + Profile.fmt(row[0]));
                assertEquals(k, bits.chars().filter(c -> c == '1').count(), m);
                for (int i = 0; i < bits.length(); i++) {
                    // per image: certified only where correctly classified, and never again after a failure
                    assertTrue(bits.charAt(i) == '0' || clean[i], m + " image " + i);
                    assertTrue(before == null || bits.charAt(i) == '0' || before.charAt(i) == '1', m + " " + i);
                }
                if (j > 0) {
                    assertTrue(row[1] <= mr.get(j - 1)[1], m + ": certified accuracy rises at eps " + row[0]);
                }
                before = bits;
            }
            certifiedAtX += (int) Math.round(mr.get(0)[1] * mr.get(0)[2]);
            certifiedBall += (int) Math.round(mr.get(1)[1] * mr.get(1)[2]);
        }
        assertTrue(certifiedAtX > 0, "some image is classified correctly and certified at eps 0");
        assertTrue(certifiedBall > 0, "the smoke radii certify some image: the checks above compare something");
        // bracket rows: lower <= upper, the upper bound grows with the ball, the ratio to the global bound
        double[] previous = null;
        for (String line : bracket.subList(1, bracket.size())) {
            String[] c = line.split(",");
            double e = Double.parseDouble(c[2]), lo = Double.parseDouble(c[3]), up = Double.parseDouble(c[4]);
            double global = Double.parseDouble(c[6]);
            // the upper bound is for the network in exact arithmetic, the lower for the float one: equal up to float
            // rounding at a point
            assertTrue(lo > 0 && up >= lo * (1 - 1e-5), line);
            assertEquals(up / lo, Double.parseDouble(c[5]), 1e-12 * up / lo, line);
            assertEquals(up / global, Double.parseDouble(c[7]), 1e-12 * up / global, line);
            assertTrue(global > 0 && Double.isFinite(global), line);
            if (previous != null && e > previous[0]) {
                assertTrue(up >= previous[1], "upper bound shrinks with a larger ball: " + line);
            }
            previous = new double[]{e, up};
        }
        assertEquals(1 + Reproduction.METHODS.size() * Profile.SMOKE.certifyBracketImages()
                * Profile.SMOKE.certifyEps().length, bracket.size());

        // the same phase on one thread writes the same files
        Path one = tmp.resolve("certify-one-thread");
        copy(out, one);
        Files.delete(one.resolve("phases/certify.done"));
        Kernels k = new VectorKernels(1);
        Engine.setKernels(k);
        Reproduction single = new Reproduction(Profile.SMOKE, one, data, 0, k, 1, QUIET);
        single.prepare();
        assertTrue(single.runUnit("certify"));
        for (String f : List.of(CertifyPhase.CSV, CertifyPhase.BRACKET_CSV)) {
            assertEquals(Files.readString(out.resolve(f)), Files.readString(one.resolve(f)), f);
        }
    }

    @Test
    void runId_aFolderFromBeforeTheCertifyPhaseResumes_otherCertifySettingsAreRejected() throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 60, 30);
        Path out = tmp.resolve("legacy");
        Files.createDirectories(out.resolve("phases"));
        String legacy = "profile=" + Profile.SMOKE.describeBeforeCertify() + "\nseed=0\ndata=" + data.toAbsolutePath()
                + "\n";
        Files.writeString(out.resolve(Reproduction.RUN_ID), legacy);
        repro(data, out).prepare();
        String now = Files.readString(out.resolve(Reproduction.RUN_ID));
        assertTrue(now.contains("certify_images=" + Profile.SMOKE.certifyImages()), now);

        Profile other = Profile.SMOKE.with(Map.of("certifyImages", "2"));
        Kernels k = new VectorKernels(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Reproduction(other, out, data, 0, k, 2, QUIET).prepare());
        assertTrue(e.getMessage().contains("other settings"), e.getMessage());
        for (String key : List.of("certify_images=3", "certify_eps_l2=0,", "certify_bracket_images=1",
                "certify_bounds=interval")) {
            assertTrue(Profile.SMOKE.toString().contains(key), key + " in " + Profile.SMOKE);
        }
        assertThrows(IllegalArgumentException.class, () -> Profile.SMOKE.with(Map.of("certifyBounds", "box")));
        assertThrows(IllegalArgumentException.class, () -> Profile.SMOKE.with(Map.of("certifyEps", "1e-3,1e-2")));
    }

    private static void copy(Path from, Path to) throws IOException {
        try (var files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t);
                }
            }
        }
    }

    @Test
    void profile_overrides_replaceNamedSizes_andRejectUnknownKeys() {
        Profile p = Profile.QUICK.with(Map.of("epochs", "7", "epsGrid", "0.5,1"));
        assertEquals(7, p.epochs());
        assertArrayEquals(new double[]{0.5, 1}, p.epsGrid());
        assertEquals("quick+custom", p.name());
        assertEquals(Profile.QUICK.trainPerClass(), p.trainPerClass());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Profile.QUICK.with(Map.of("epoch", "7")));
        assertTrue(e.getMessage().contains("epoch"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Profile.QUICK.with(Map.of("epsGrid", "2,1")));
    }

    @Test
    void phaseStore_values_roundTrip_andMissingPhaseNamed() throws IOException {
        PhaseStore st = new PhaseStore(tmp);
        assertFalse(st.done("fig3"));
        st.finish("fig3", new java.util.LinkedHashMap<>(Map.of("acc_l2_at", "0.5")), 1.25);
        assertTrue(st.done("fig3"));
        assertEquals(0.5, st.number("fig3", "acc_l2_at"));
        assertEquals("1.3", st.values("fig3").get("seconds"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> st.values("fig2"));
        assertTrue(e.getMessage().contains("fig2"), e.getMessage());
    }

    @Test
    void robust_attacksOnlyTheImagesStillAlive_andAgreesWithRobustAccuracyWhenAllAre() throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 20, 40);
        Kernels k = new VectorKernels(2);
        Engine.setKernels(k);
        dev.opnorm.nn.layers.Sequential net = dev.opnorm.nn.models.Models.create("cnn7-w0.0625", 1, 10, 3, k);
        dev.opnorm.nn.data.Dataset raw = dev.opnorm.nn.data.FashionMnist.load(data,
                dev.opnorm.nn.data.FashionMnist.Split.TEST, dev.opnorm.nn.data.Domain.SYMMETRIC).padTo(32, 32);
        // labels = the network's own predictions: every image starts correct, so "alive" alone decides
        int[] pred = new int[raw.size()];
        var logits = net.forward(raw.images());
        for (int i = 0; i < pred.length; i++) {
            for (int c = 1; c < 10; c++) {
                pred[i] = logits.data[i * 10 + c] > logits.data[i * 10 + pred[i]] ? c : pred[i];
            }
        }
        var test = new dev.opnorm.nn.data.Dataset("own labels", raw.images(), pred, 10, raw.domain());
        var pga = dev.opnorm.robust.attack.Pga.l2(0.05).iterations(3).seed(0)
                .domain(dev.opnorm.nn.data.Domain.SYMMETRIC);
        boolean[] all = new boolean[test.size()];
        java.util.Arrays.fill(all, true);
        boolean[] everyImage = Reproduction.robust(net, test, pga, all);
        assertEquals(dev.opnorm.robust.attack.RobustAccuracy.of(net, test, pga, 50).robustCorrect(),
                Reproduction.count(everyImage));
        assertTrue(Reproduction.count(everyImage) > test.size() / 2, "a small radius leaves most images unbroken");

        boolean[] half = new boolean[test.size()];
        for (int i = 0; i < half.length; i += 2) {
            half[i] = true;
        }
        boolean[] some = Reproduction.robust(net, test, pga, half);
        for (int i = 0; i < some.length; i++) {
            if (!half[i]) {
                assertFalse(some[i], "image " + i + " was broken before: it stays broken");
            }
        }
        assertTrue(Reproduction.count(some) > 0);
        assertArrayEquals(some, Reproduction.robust(net, test, pga, half), "deterministic");

        // the per-image encodings the report reads back
        double[] v = {0.1, 1e-300, 3.0};
        assertArrayEquals(v, Reproduction.nums(Reproduction.nums(v)));
        assertArrayEquals(new double[]{1, 0, 1}, Reproduction.bits(Reproduction.bits(new boolean[]{true, false, true})));
        assertThrows(IllegalStateException.class, () -> Reproduction.bits("10x"));
    }
}
