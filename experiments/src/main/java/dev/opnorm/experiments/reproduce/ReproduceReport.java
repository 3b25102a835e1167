package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.report.Claim;
import dev.opnorm.experiments.report.ClaimsJson;
import dev.opnorm.experiments.report.FigureFiles;
import dev.opnorm.experiments.report.HtmlReport;
import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.nn.util.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report phase of a {@link Reproduction}: the paper's qualitative claims (paper-notes.md, "Figures") checked
 * against the numbers the figure phases stored, as claims.json; report.html with the configuration, the phase
 * times, the searches, every figure and the claims table; run.json with the resolved options and the hashes of
 * every output. Thresholds are fixed here, before any run, and a claim that fails is reported as failing.
 */
final class ReproduceReport {
    /** "Strongly dampened": the top singular value at most this fraction of the standard network's. */
    static final double DAMPEN = 0.5;
    /** "Much more robust": accuracy at eps_train above the standard network's by more than this. */
    static final double ROBUST_MARGIN = 0.2;
    /** "About the same" accuracy. */
    static final double SAME = 0.1;
    /** Matched clean accuracy (Table 2). */
    static final double MATCHED = 0.05;
    /** "Decaying with rank": mean |cos| of the top ranks at least this multiple of the tail's. */
    static final double ALIGN_RATIO = 2;

    private ReproduceReport() {
    }

    static Map<String, String> write(Reproduction r) throws IOException {
        PhaseStore st = r.store();
        Path out = r.out();
        List<Claim> claims = claims(r);
        RunManifest manifest = r.manifest();
        manifest.put("eps_train_l2", st.values("choose-eps").get("eps_train"));
        for (String m : List.of("global-snr", "dd-snr", "dd-onr")) {
            manifest.put("lambda_" + m, st.values("train-" + m).get("lambda"));
        }
        ClaimsJson.write(out.resolve("claims.json"), claims, manifest);

        Map<String, String> times = new LinkedHashMap<>();
        double total = 0;
        for (String p : Reproduction.PHASES) {
            if (st.done(p)) {
                double s = st.number(p, "seconds");
                total += s;
                times.put(p, Progress.formatDuration(s));
                manifest.put("seconds_" + p, st.values(p).get("seconds"));
            }
        }
        times.put("total (phases before the report)", Progress.formatDuration(total));

        Profile prof = r.profile();
        HtmlReport html = new HtmlReport("opnorm reproduce (" + prof.name() + "): Roth, Kilcher, Hofmann, NeurIPS 2020");
        int held = 0;
        for (Claim c : claims) {
            held += c.held() ? 1 : 0;
        }
        html.paragraph("The paper's experiments rerun with the " + prof.name() + " profile: " + prof.dataset()
                + ", the 7-layer CNN (" + prof.modelSpec() + "), " + prof.trainPerClass() * 10 + " training images, "
                + prof.epochs() + " epochs. " + held + " of " + claims.size() + " claims held. Thresholds of the "
                + "claims are fixed in the code (ReproduceReport) before any run; failing claims are reported as "
                + "failing.");
        Map<String, String> sizes = new LinkedHashMap<>();
        prof.describe().forEach((k, v) -> sizes.put(k, String.valueOf(v)));
        html.table("Profile", sizes);
        html.table("Phase wall times (this machine)", times);
        Map<String, String> choices = new LinkedHashMap<>();
        Map<String, String> eps = st.values("choose-eps");
        choices.put("eps_train (l2)", eps.get("eps_train") + (Boolean.parseBoolean(eps.get("eps_reached")) ? ""
                : " (no grid radius reached the fool fraction: the largest was used)"));
        eps.forEach((k, v) -> {
            if (k.startsWith("fooled_")) {
                choices.put("fooled at l2 eps " + k.substring(7), v);
            }
        });
        choices.put("AT clean accuracy", st.values("train-at").get("clean_accuracy"));
        for (String m : List.of("global-snr", "dd-snr", "dd-onr")) {
            Map<String, String> v = st.values("train-" + m);
            v.forEach((k, val) -> {
                if (k.startsWith("accuracy_lambda_")) {
                    choices.put(m + " lambda " + k.substring(16) + ": clean accuracy", val);
                }
            });
            choices.put(m + " chosen lambda", v.get("lambda"));
        }
        html.table("Training eps and regularization constants (searches)", choices);
        html.claims(claims);
        for (String p : Reproduction.PHASES) {
            if (!st.done(p)) {
                continue;
            }
            for (var e : st.values(p).entrySet()) {
                String k = e.getKey();
                if (k.startsWith("figure.") && k.endsWith(".title")) {
                    String name = k.substring(7, k.length() - 6);
                    String caption = st.values(p).get("figure." + name + ".caption");
                    html.figure(new FigureFiles(e.getValue(), caption, out.resolve(name + ".csv"),
                            out.resolve(name + ".png")));
                }
            }
        }
        html.config(manifest);
        html.write(out.resolve("report.html"));

        try (var files = Files.list(out)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                if (Files.isRegularFile(f) && (n.endsWith(".csv") || n.endsWith(".png") || n.equals("claims.json")
                        || n.equals("report.html"))) {
                    manifest.output(out, n);
                }
            }
        }
        manifest.input(r.dataDir());
        manifest.write(out);
        Map<String, String> v = new LinkedHashMap<>();
        v.put("claims", String.valueOf(claims.size()));
        v.put("claims_held", String.valueOf(held));
        r.log().printf(Locale.ROOT, "[reproduce] %d of %d claims held; report: %s%n", held, claims.size(),
                out.resolve("report.html"));
        for (Claim c : claims) {
            r.log().printf(Locale.ROOT, "  %-6s %-34s %s%n", c.held() ? "HELD" : "FAILED", c.id(), c.comparison());
        }
        return v;
    }

    /** Every claim, from the stored numbers of the figure phases. */
    static List<Claim> claims(Reproduction r) throws IOException {
        PhaseStore st = r.store();
        Profile p = r.profile();
        List<Claim> c = new ArrayList<>();
        String pts = (p.pointsPerClass() * 10) + " test points", curve = (p.curvePerClass() * 10) + " test images";

        Map<String, String> eps = st.values("choose-eps");
        double epsTrain = d(eps, "eps_train");
        c.add(Claim.atLeast("eps-train-fools-standard", "The training eps is the smallest radius at which almost all "
                        + "PGA examples fool the standard network (Sec. 5)", "fooled fraction at eps_train",
                d(eps, "fooled_" + Profile.fmt(epsTrain)), p.foolFraction())
                .withNote("l2 PGA, " + curve + ", grid " + Profile.fmt(p.epsGrid()[0]) + ".."
                        + Profile.fmt(p.epsGrid()[p.epsGrid().length - 1])));

        Map<String, String> f3 = st.values("fig3");
        double accStd = d(f3, "acc_l2_standard"), accAt = d(f3, "acc_l2_at"), accDd = d(f3, "acc_l2_dd-snr"),
                accG = d(f3, "acc_l2_global-snr");
        String n3 = "accuracy under l2 PGA at eps_train = " + Profile.fmt(epsTrain) + ", " + curve;
        c.add(Claim.greater("fig3-at-much-more-robust", "Fig. 3: AT is much more robust than standard training",
                "AT", accAt, "standard", accStd, ROBUST_MARGIN).withNote(n3));
        c.add(Claim.greater("fig3-dd-snr-much-more-robust", "Fig. 3: d.d. SNR is much more robust than standard "
                + "training", "d.d. SNR", accDd, "standard", accStd, ROBUST_MARGIN).withNote(n3));
        c.add(Claim.within("fig3-at-like-dd-snr", "Fig. 3: AT and d.d. SNR are about equally robust", "AT", accAt,
                "d.d. SNR", accDd, SAME).withNote(n3));
        c.add(Claim.within("fig3-global-snr-like-standard", "Fig. 3: global SNR is about as (non-)robust as standard "
                + "training", "global SNR", accG, "standard", accStd, SAME).withNote(n3));
        c.add(Claim.greater("fig3-dd-onr-linf-robust", "d.d. ONR (p = inf) is more robust than standard training "
                        + "under l_inf PGA", "d.d. ONR", d(f3, "acc_linf_dd-onr"), "standard",
                d(f3, "acc_linf_standard"), SAME).withNote("accuracy under l_inf PGA at eps_train / sqrt(n), " + curve));

        Map<String, String> f2 = st.values("fig2");
        double sStd = d(f2, "sigma1_clean_standard");
        String n2 = "mean top singular value of J_phi at clean points, " + pts;
        c.add(Claim.atMostFactor("fig2-at-dampens-spectrum", "Fig. 2 left: AT dampens the Jacobian's spectrum "
                + "strongly", "AT sigma_1", d(f2, "sigma1_clean_at"), "standard sigma_1", sStd, DAMPEN).withNote(n2));
        c.add(Claim.atMostFactor("fig2-dd-snr-dampens-spectrum", "Fig. 2 left: d.d. SNR dampens the Jacobian's "
                        + "spectrum strongly", "d.d. SNR sigma_1", d(f2, "sigma1_clean_dd-snr"), "standard sigma_1", sStd,
                DAMPEN).withNote(n2));
        double sG = d(f2, "sigma1_clean_global-snr");
        c.add(Claim.of("fig2-global-snr-barely", "Fig. 2 left: global SNR barely dampens the spectrum (less than AT "
                        + "and d.d. SNR)", "global SNR sigma_1 > " + DAMPEN + " * standard sigma_1 and > AT and d.d. SNR "
                        + "sigma_1", nums("global SNR sigma_1", sG, "standard sigma_1", sStd, "AT sigma_1",
                        d(f2, "sigma1_clean_at"), "d.d. SNR sigma_1", d(f2, "sigma1_clean_dd-snr")),
                sG > DAMPEN * sStd && sG > d(f2, "sigma1_clean_at") && sG > d(f2, "sigma1_clean_dd-snr")).withNote(n2));
        Map<String, Double> align = new LinkedHashMap<>();
        boolean decays = true;
        for (String m : Reproduction.METHODS) {
            double top = d(f2, "cos_top_" + m), tail = d(f2, "cos_tail_" + m);
            align.put(m + " top", top);
            align.put(m + " tail", tail);
            decays &= top >= ALIGN_RATIO * tail;
        }
        String n2a = "mean |cos(x* - x, v_r)| over ranks 1-" + Figures.TOP_RANKS + " (top) and over the second half "
                + "of the ranks (tail), " + pts;
        c.add(Claim.of("fig2-alignment-decays", "Fig. 2 right: the adversarial perturbation aligns with the top "
                        + "singular vectors, decaying with rank (trained networks)", "top >= " + ALIGN_RATIO
                        + " * tail for every trained network", align, decays).withNote(n2a));
        double rTop = d(f2, "cos_top_random"), rTail = d(f2, "cos_tail_random");
        c.add(Claim.of("fig2-alignment-flat-random", "Fig. 2 right: for a random network the alignment is flat in "
                        + "the rank", "random top < " + ALIGN_RATIO + " * random tail",
                nums("random top", rTop, "random tail", rTail), rTop < ALIGN_RATIO * rTail).withNote(n2a));

        Map<String, String> f4 = st.values("fig4");
        String n4 = "at ||z||_2 = eps_train along the adversarial direction, " + pts;
        for (String m : List.of("at", "dd-snr")) {
            String label = m.equals("at") ? "AT" : "d.d. SNR";
            c.add(Claim.atMostFactor("fig4-" + m + "-linear-up-to-eps", "Fig. 4 left: " + label + " stays close to "
                            + "linear up to eps_train", label + " deviation", d(f4, "dev_adv_" + m), "standard deviation",
                    d(f4, "dev_adv_standard"), DAMPEN).withNote(n4));
            c.add(Claim.atMostFactor("fig4-" + m + "-sigma-stays-low", "Fig. 4 right: sigma_max(J(x + z)) stays low "
                            + "for " + label, label + " sigma_max", d(f4, "sigma_adv_" + m), "standard sigma_max",
                    d(f4, "sigma_adv_standard"), DAMPEN).withNote(n4));
        }

        Map<String, String> f5 = st.values("fig5");
        double nStd = d(f5, "shared_near_standard"), rStd = d(f5, "shared_random_standard");
        double nAt = d(f5, "shared_near_at"), nDd = d(f5, "shared_near_dd-snr");
        double rAt = d(f5, "shared_random_at"), rDd = d(f5, "shared_random_dd-snr");
        String n5 = "fraction of shared ReLU states at noise radius eps_train (l2 ball), " + pts + " and as many "
                + "random inputs";
        c.add(Claim.of("fig5-larger-cells-near-data", "Fig. 5: AT and d.d. SNR enlarge the activation cells near "
                        + "data", "AT > standard and d.d. SNR > standard (near data)",
                nums("AT near", nAt, "d.d. SNR near", nDd, "standard near", nStd), nAt > nStd && nDd > nStd)
                .withNote(n5));
        c.add(Claim.of("fig5-not-at-random-inputs", "Fig. 5: ... near data only, not at random inputs",
                "(method - standard) near data > (method - standard) at random inputs, for AT and d.d. SNR",
                nums("AT near - standard", nAt - nStd, "AT random - standard", rAt - rStd, "d.d. SNR near - standard",
                        nDd - nStd, "d.d. SNR random - standard", rDd - rStd),
                nAt - nStd > rAt - rStd && nDd - nStd > rDd - rStd).withNote(n5));

        Map<String, String> f7 = st.values("fig7");
        Map<String, Double> rob = new LinkedHashMap<>();
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (var e : f7.entrySet()) {
            if (e.getKey().startsWith("robust_t")) {
                double a = Double.parseDouble(e.getValue());
                rob.put("robust accuracy t=" + e.getKey().substring(8), a);
                lo = Math.min(lo, a);
                hi = Math.max(hi, a);
            }
        }
        c.add(Claim.of("fig7-same-robustness", "Fig. 7: the interpolation between AT and d.d. SNR keeps the same "
                + "robustness", "max - min of the robust accuracies <= " + SAME, rob, hi - lo <= SAME)
                .withNote("l2 PGA at eps_train, " + curve + "; t = 1 AT, t = 0 d.d. SNR"));

        Map<String, String> t2 = st.values("table2");
        Map<String, Double> acc = new LinkedHashMap<>();
        double accStdT = d(t2, "acc_standard"), accAtT = d(t2, "acc_at");
        boolean stdBest = true, matched = true;
        acc.put("standard", accStdT);
        acc.put("at", accAtT);
        for (String m : List.of("global-snr", "dd-snr", "dd-onr")) {
            double a = d(t2, "acc_" + m);
            acc.put(m, a);
            matched &= Math.abs(a - accAtT) <= MATCHED;
        }
        for (var e : acc.entrySet()) {
            stdBest &= e.getValue() <= accStdT;
        }
        String nT = "clean accuracy, " + (p.tablePerClass() * 10) + " test images";
        c.add(Claim.of("table2-standard-most-accurate", "Table 2: standard training has the highest clean accuracy",
                "standard >= every other method", acc, stdBest).withNote(nT));
        c.add(Claim.of("table2-accuracy-matched", "Sec. 5: the regularization constants give clean accuracies "
                        + "matching AT's", "|method - at| <= " + MATCHED + " for global SNR, d.d. SNR, d.d. ONR", acc,
                matched).withNote(nT + "; lambdas chosen from the profile's candidates by the closest accuracy"));
        return c;
    }

    private static double d(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalStateException("no stored value '" + key + "'");
        }
        return Double.parseDouble(v);
    }

    private static Map<String, Double> nums(Object... kv) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Double) kv[i + 1]);
        }
        return m;
    }
}
