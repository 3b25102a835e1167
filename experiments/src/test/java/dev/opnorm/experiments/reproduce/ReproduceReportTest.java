package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.report.Claim;
import dev.opnorm.experiments.report.Claim.Verdict;
import dev.opnorm.experiments.report.Estimate;
import dev.opnorm.nn.kernels.ScalarKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The claims are decided from intervals over stored per-image results, through the report's own code path
 * (phase values -> {@link ReproduceReport#claims}): synthetic per-image data with the paper's pattern hold every
 * claim, their opposite contradicts every claim, data at the bounds leave claims inconclusive; and in every case a
 * verdict agrees with where the interval lies relative to the bound.
 */
class ReproduceReportTest {
    @TempDir
    Path tmp;

    private enum Pattern { PAPER, OPPOSITE, AT_THE_BOUNDS }

    /** n 0/1 results, the first round(a n) correct: networks compared on the same images fail on the same ones. */
    private static String bits(int n, double a) {
        int k = (int) Math.round(a * n);
        return "1".repeat(k) + "0".repeat(n - k);
    }

    /** n per-point values around v (10 % spread), the same spread pattern for every network. */
    private static String points(int n, double v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ",").append(v * (1 + 0.1 * Math.sin(i)));
        }
        return b.toString();
    }

    private Reproduction withData(Path out, Pattern p, int seeds) throws IOException {
        Profile prof = seeds == 1 ? Profile.SMOKE : Profile.SMOKE.with(Map.of("seeds", String.valueOf(seeds)));
        Reproduction r = new Reproduction(prof, out, tmp, 0, new ScalarKernels(), 1,
                new PrintStream(OutputStream.nullOutputStream()));
        boolean paper = p == Pattern.PAPER, bounds = p == Pattern.AT_THE_BOUNDS;
        int n = bounds ? 100 : 400;
        PhaseStore st = r.store();
        st.finish("choose-eps", map(seeds, "eps_train", "1.0", "eps_reached", "true", "clean_correct", s(n),
                "fooled_count_1", s(paper ? n - 10 : bounds ? 90 : n / 2)), 1);

        double std = bounds ? 0.1 : 0.05, at = paper ? 0.6 : bounds ? 0.3 : 0.05, dd = paper ? 0.58 : bounds ? 0.3
                : 0.2, gl = paper ? 0.07 : bounds ? 0.2 : 0.6, onr = paper ? 0.5 : 0.1;
        st.finish("fig3", map(seeds, "acc_l2_standard", s(std), "acc_l2_at", s(at), "acc_l2_dd-snr", s(dd),
                "acc_l2_global-snr", s(gl), "acc_linf_standard", "0.1", "acc_linf_dd-onr", s(onr),
                "robust_l2_standard", bits(n, std), "robust_l2_at", bits(n, at), "robust_l2_dd-snr", bits(n, dd),
                "robust_l2_global-snr", bits(n, gl), "robust_linf_standard", bits(n, 0.1), "robust_linf_dd-onr",
                bits(n, onr)), 1);

        boolean opp = p == Pattern.OPPOSITE;
        double sAt = opp ? 9 : 2, sDd = opp ? 9 : 3, sGl = opp ? 1 : 8;
        double tailStd = opp ? 0.3 : 0.02, topRandom = opp ? 0.3 : 0.03;
        int m = 50;
        Map<String, String> f2 = new LinkedHashMap<>(map(seeds, "sigma1_clean_standard", "10", "sigma1_clean_at",
                s(sAt), "sigma1_clean_dd-snr", s(sDd), "sigma1_clean_global-snr", s(sGl),
                "sigma1_points_standard", points(m, 10), "sigma1_points_at", points(m, sAt),
                "sigma1_points_dd-snr", points(m, sDd), "sigma1_points_global-snr", points(m, sGl)));
        for (String net : List.of("standard", "at", "global-snr", "dd-snr", "dd-onr", "random")) {
            double top = net.equals("random") ? topRandom : 0.4;
            double tail = net.equals("standard") ? tailStd : 0.03;
            f2.putAll(map(seeds, "cos_top_" + net, s(top), "cos_tail_" + net, s(tail), "cos_top_points_" + net,
                    points(m, top), "cos_tail_points_" + net, points(m, tail)));
        }
        st.finish("fig2", f2, 1);

        double dev = opp ? 4 : 1, sig = opp ? 12 : 2;
        st.finish("fig4", map(1, "dev_adv_standard", "4", "dev_adv_at", s(dev), "dev_adv_dd-snr", s(dev),
                "sigma_adv_standard", "10", "sigma_adv_at", s(sig), "sigma_adv_dd-snr", s(sig),
                "dev_adv_points_standard", points(m, 4), "dev_adv_points_at", points(m, dev),
                "dev_adv_points_dd-snr", points(m, dev), "sigma_adv_points_standard", points(m, 10),
                "sigma_adv_points_at", points(m, sig), "sigma_adv_points_dd-snr", points(m, sig)), 1);

        double near = opp ? 0.7 : 0.95;
        st.finish("fig5", map(1, "shared_near_standard", "0.8", "shared_near_at", s(near), "shared_near_dd-snr",
                s(near - 0.02), "shared_random_standard", "0.9", "shared_random_at", "0.9", "shared_random_dd-snr",
                "0.9", "shared_near_points_standard", points(m, 0.8), "shared_near_points_at", points(m, near),
                "shared_near_points_dd-snr", points(m, near - 0.02), "shared_random_points_standard",
                points(m, 0.9), "shared_random_points_at", points(m, 0.9), "shared_random_points_dd-snr",
                points(m, 0.9)), 1);

        double t0 = 0.5, t5 = paper ? 0.52 : bounds ? 0.55 : 0.2, t1 = bounds ? 0.6 : 0.55;
        st.finish("fig7", map(1, "robust_t0", s(t0), "robust_t0.5", s(t5), "robust_t1", s(t1),
                "robust_bits_t0", bits(n, t0), "robust_bits_t0.5", bits(n, t5), "robust_bits_t1", bits(n, t1)), 1);

        double aStd = bounds ? 0.81 : 0.9, aAt = 0.8, aGl = paper ? 0.82 : bounds ? 0.8 : 0.95, aDd = bounds ? 0.75
                : 0.79, aOnr = bounds ? 0.75 : 0.81;
        st.finish("table2", map(seeds, "acc_standard", s(aStd), "acc_at", s(aAt), "acc_global-snr", s(aGl),
                "acc_dd-snr", s(aDd), "acc_dd-onr", s(aOnr), "correct_standard", bits(n, aStd), "correct_at",
                bits(n, aAt), "correct_global-snr", bits(n, aGl), "correct_dd-snr", bits(n, aDd), "correct_dd-onr",
                bits(n, aOnr)), 1);
        return r;
    }

    /** A verdict must agree with the interval's place relative to the bound (re-derived here, not by Claim). */
    private static void assertVerdictFollowsInterval(Claim c) {
        Estimate e = c.effect();
        double lo = e.low(), hi = e.high(), b = c.bound();
        boolean beyond = switch (c.side()) {
            case ABOVE -> lo > b;
            case BELOW -> hi < b;
            case WITHIN -> -b < lo && hi < b;
        };
        boolean otherSide = switch (c.side()) {
            case ABOVE -> hi < b;
            case BELOW -> lo > b;
            case WITHIN -> lo > b || hi < -b;
        };
        String what = c.id() + " " + e + " " + c.comparison();
        assertTrue(lo <= e.value() && e.value() <= hi, "the interval holds its estimate: " + what);
        switch (c.verdict()) {
            case HELD -> assertTrue(beyond, what);
            case CONTRADICTED -> assertTrue(otherSide, what);
            case INCONCLUSIVE -> assertTrue(!beyond && !otherSide, what);
        }
    }

    @Test
    void paperPattern_holdsEveryClaim_itsOpposite_contradictsEvery() throws IOException {
        List<Claim> held = ReproduceReport.claims(withData(tmp.resolve("a"), Pattern.PAPER, 1));
        List<Claim> contradicted = ReproduceReport.claims(withData(tmp.resolve("b"), Pattern.OPPOSITE, 1));
        assertEquals(20, held.size());
        assertEquals(held.size(), contradicted.size());
        for (int i = 0; i < held.size(); i++) {
            assertVerdictFollowsInterval(held.get(i));
            assertVerdictFollowsInterval(contradicted.get(i));
            assertEquals(Verdict.HELD, held.get(i).verdict(), held.get(i).id() + " " + held.get(i).effect());
            assertEquals(Verdict.CONTRADICTED, contradicted.get(i).verdict(), contradicted.get(i).id() + " "
                    + contradicted.get(i).effect());
            assertTrue(!held.get(i).reason().isBlank(), held.get(i).id() + " states why its bound");
        }
    }

    @Test
    void dataAtTheBounds_leaveTheClaimsInconclusive() throws IOException {
        List<Claim> claims = ReproduceReport.claims(withData(tmp.resolve("c"), Pattern.AT_THE_BOUNDS, 1));
        Map<String, Claim> byId = new LinkedHashMap<>();
        for (Claim c : claims) {
            assertVerdictFollowsInterval(c);
            byId.put(c.id(), c);
        }
        for (String id : List.of("eps-train-fools-standard", "fig3-at-much-more-robust",
                "fig3-dd-snr-much-more-robust", "fig3-global-snr-like-standard", "fig7-same-robustness",
                "table2-standard-most-accurate")) {
            Claim c = byId.get(id);
            assertEquals(Verdict.INCONCLUSIVE, c.verdict(), id + " " + c.effect());
            // the point estimate sits at (or on the claim's side of) the bound: only the interval keeps it open
            assertTrue(c.effect().low() <= c.bound() || c.side() == Claim.Side.WITHIN, id + " " + c.effect());
        }
        // fooled 90 of 100: Wilson, not a bootstrap
        assertEquals(Estimate.wilson(90, 100), byId.get("eps-train-fools-standard").effect());
    }

    @Test
    void severalSeeds_resampleTheSeeds_andStillDecide() throws IOException {
        List<Claim> claims = ReproduceReport.claims(withData(tmp.resolve("d"), Pattern.PAPER, 3));
        for (Claim c : claims) {
            assertVerdictFollowsInterval(c);
            assertEquals(Verdict.HELD, c.verdict(), c.id() + " " + c.effect());
        }
        Claim fig3 = claims.stream().filter(c -> c.id().equals("fig3-at-much-more-robust")).findFirst().orElseThrow();
        assertTrue(fig3.effect().method().contains("3 resampled seeds"), fig3.effect().method());
        Claim fig4 = claims.stream().filter(c -> c.id().equals("fig4-at-sigma-stays-low")).findFirst().orElseThrow();
        assertTrue(!fig4.effect().method().contains("seeds"), "Fig. 4 is one seed's: " + fig4.effect().method());
    }

    @Test
    void sameData_sameIntervals() throws IOException {
        List<Claim> a = ReproduceReport.claims(withData(tmp.resolve("e"), Pattern.AT_THE_BOUNDS, 1));
        List<Claim> b = ReproduceReport.claims(withData(tmp.resolve("f"), Pattern.AT_THE_BOUNDS, 1));
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).effect(), b.get(i).effect(), a.get(i).id());
        }
    }

    private static String s(double v) {
        return String.valueOf(v);
    }

    private static String s(int v) {
        return String.valueOf(v);
    }

    /**
     * key/value pairs; with several seeds each per-image value (0/1 string or number list) is repeated under
     * KEY_seedK, as the figure phases store further seeds' results.
     */
    private static Map<String, String> map(int seeds, String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
            boolean perImage = kv[i + 1].matches("[01]{2,}") || kv[i + 1].contains(",");
            for (int k = 1; k < seeds && perImage; k++) {
                m.put(kv[i] + "_seed" + k, kv[i + 1]);
            }
        }
        return m;
    }
}
