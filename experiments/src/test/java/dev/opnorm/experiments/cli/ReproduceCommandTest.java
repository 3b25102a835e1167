package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.reproduce.Reproduction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End-to-end runs of {@code opnorm reproduce --profile smoke} on a tiny synthetic Fashion-MNIST folder: every
 * output file, resumption after a stop (finished phases are not recomputed, the results equal an uninterrupted
 * run's), and flag validation.
 */
public class ReproduceCommandTest {
    @TempDir
    static Path tmp;
    static Path data;
    static Path full;
    static Run fullRun;

    /** Files every complete run writes. */
    static final List<String> OUTPUTS = List.of("eps_search.csv", "eps_search.png", "lambda_search_global-snr.csv",
            "lambda_search_dd-snr.csv", "lambda_search_dd-onr.csv", "fig3_accuracy_l2.csv", "fig3_accuracy_l2.png",
            "fig3_accuracy_linf.csv", "fig3_accuracy_linf.png", "fig2_spectrum_clean.csv", "fig2_spectrum_clean.png",
            "fig2_spectrum_adversarial.csv", "fig2_spectrum_adversarial.png", "fig2_alignment.csv",
            "fig2_alignment.png", "fig4_linearity_random.csv", "fig4_linearity_random.png",
            "fig4_linearity_adversarial.csv", "fig4_linearity_adversarial.png", "fig4_sigma_random.csv",
            "fig4_sigma_random.png", "fig4_sigma_adversarial.csv", "fig4_sigma_adversarial.png",
            "fig5_shared_near_data.csv", "fig5_shared_near_data.png", "fig5_shared_random_inputs.csv",
            "fig5_shared_random_inputs.png", "fig7_interpolation.csv", "fig7_interpolation.png",
            "table2_clean_accuracy.csv", "table2_clean_accuracy.png", "certified.csv", "certify-bracket.csv",
            "certified-accuracy.csv", "certified-accuracy.png", "certify-bracket-width.csv",
            "certify-bracket-width.png", "claims.json", "report.html", "run.json");

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = OpnormCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** Synthetic Fashion-MNIST: train and t10k IDX files, labels i % 10, random pixels. */
    public static Path writeFashion(Path dir, int train, int test) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom r = new SplittableRandom(7);
        for (String prefix : new String[]{"train", "t10k"}) {
            int n = prefix.equals("train") ? train : test;
            ByteBuffer img = ByteBuffer.allocate(16 + n * 784).putInt(0x0803).putInt(n).putInt(28).putInt(28);
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < 784; p++) {
                    // a class-dependent bright band plus noise, so training has something to learn
                    int row = p / 28;
                    boolean band = row >= 2 + 2 * (i % 10) && row < 5 + 2 * (i % 10);
                    img.put((byte) (band ? 200 + r.nextInt(56) : r.nextInt(80)));
                }
            }
            ByteBuffer lab = ByteBuffer.allocate(8 + n).putInt(0x0801).putInt(n);
            for (int i = 0; i < n; i++) {
                lab.put((byte) (i % 10));
            }
            Files.write(dir.resolve(prefix + "-images-idx3-ubyte"), img.array());
            Files.write(dir.resolve(prefix + "-labels-idx1-ubyte"), lab.array());
        }
        return dir;
    }

    static String[] args(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("reproduce", "--profile", "smoke", "--data", data.toString(),
                "--out", out.toString(), "--threads", "2"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    @BeforeAll
    static void uninterrupted() throws IOException {
        data = writeFashion(tmp.resolve("data"), 60, 30);
        full = tmp.resolve("full");
        fullRun = run(args(full));
    }

    @Test
    void reproduce_writesEveryOutput_smokeProfile() throws Exception {
        assertEquals(0, fullRun.code(), fullRun.err());
        for (String f : OUTPUTS) {
            assertTrue(Files.isRegularFile(full.resolve(f)) && Files.size(full.resolve(f)) > 0, "missing " + f);
        }
        for (String m : List.of("standard", "at", "global-snr", "dd-snr", "dd-onr", "interp-t0.5")) {
            assertTrue(Files.isRegularFile(full.resolve("models/" + m + ".safetensors")), m);
        }
        String claims = Files.readString(full.resolve("claims.json"));
        for (String id : List.of("fig2-at-dampens-spectrum", "fig3-at-much-more-robust", "fig4-at-linear-up-to-eps",
                "fig5-larger-cells-near-data", "fig7-same-robustness", "table2-accuracy-matched",
                "eps-train-fools-standard")) {
            assertTrue(claims.contains("\"" + id + "\""), id + " in " + claims);
        }
        String html = Files.readString(full.resolve("report.html"));
        assertTrue(html.contains("data:image/png;base64"), "figures are inlined");
        assertTrue(html.contains("Phase wall times"), "phase times");
        String manifest = Files.readString(full.resolve("run.json"));
        for (String key : List.of("\"seed\"", "\"git_commit\"", "\"backend\"", "\"jdk\"", "\"cpu\"", "\"eps_train_l2\"",
                "\"fig3_accuracy_l2.csv\"", "\"certified.csv\"", "\"certify_images\"", "\"certify_bounds\"",
                "\"seconds_certify\"")) {
            assertTrue(manifest.contains(key), key + " in run.json");
        }
        List<String> rows = dataRows(full.resolve("fig3_accuracy_l2.csv"));
        assertEquals("series,eps,accuracy,accuracy_stderr,n,accuracy_ci95_low,accuracy_ci95_high", rows.get(0));
        assertEquals(1 + 5 * 3, rows.size(), "5 methods x 3 radii");
        for (String row : rows.subList(1, rows.size())) {
            String[] c = row.split(",");
            double acc = Double.parseDouble(c[2]), lo = Double.parseDouble(c[5]), hi = Double.parseDouble(c[6]);
            assertTrue(lo <= acc && acc <= hi, "each accuracy carries its interval: " + row);
        }
        // every CSV starts with its header row; run.json is typed and names the real version
        try (var files = Files.list(full)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".csv")).toList()) {
                String first = Files.readAllLines(f).get(0);
                assertFalse(first.startsWith("#"), f + " starts with " + first);
            }
        }
        Map<String, Object> run = dev.opnorm.nn.checkpoint.Json.parseObject(manifest);
        assertTrue(run.get("seed") instanceof Long && run.get("cores") instanceof Long, manifest);
        assertTrue(run.get("eps_train_l2") instanceof Number, manifest);
        assertTrue(String.valueOf(run.get("opnorm_version")).matches("[0-9].*"), manifest);
        // claims: an effect, its interval, a bound with its reason, a verdict
        Map<String, Object> cj = dev.opnorm.nn.checkpoint.Json.parseObject(claims);
        for (Object o : (List<?>) cj.get("claims")) {
            Map<?, ?> c = (Map<?, ?>) o;
            assertTrue(List.of("held", "contradicted", "inconclusive").contains(c.get("verdict")), c.toString());
            assertTrue(c.get("ci95") instanceof List<?> l && l.size() == 2 && c.get("bound") instanceof Number
                    && !String.valueOf(c.get("bound_reason")).isBlank(), c.toString());
        }
        Map<?, ?> summary = (Map<?, ?>) cj.get("summary");
        assertEquals(20L, summary.get("total"));
        assertTrue(html.contains("Table 2: clean test accuracy [95 % interval]"), "Table 2 with its intervals");
        assertTrue(html.contains("does d.d. SNR or AT certify more?"), "the certify section");
        assertTrue(fullRun.out().contains("ran data, train-standard"), fullRun.out());
    }

    @Test
    void reproduce_stoppedThenResumed_skipsFinishedPhases_sameResults() throws IOException {
        Path out = tmp.resolve("resumed");
        Run first = run(args(out, "--stop-after", "train-at"));
        assertEquals(0, first.code(), first.err());
        assertFalse(Files.exists(out.resolve("claims.json")));
        assertTrue(Files.exists(out.resolve("models/at.safetensors")));
        FileTime stdTime = Files.getLastModifiedTime(out.resolve("models/standard.safetensors"));
        FileTime epsTime = Files.getLastModifiedTime(out.resolve("eps_search.csv"));

        Run second = run(args(out));
        assertEquals(0, second.code(), second.err());
        List<String> log = Files.readAllLines(out.resolve("phases/log.txt"));
        for (String p : List.of("data", "train-standard", "choose-eps", "train-at")) {
            assertEquals(1, log.stream().filter(l -> l.equals("run " + p)).count(), p + " ran once: " + log);
            assertTrue(log.contains("skip " + p), p + " skipped the second time: " + log);
        }
        assertTrue(second.out().contains("ran train-global-snr"), second.out());
        assertEquals(stdTime, Files.getLastModifiedTime(out.resolve("models/standard.safetensors")));
        assertEquals(epsTime, Files.getLastModifiedTime(out.resolve("eps_search.csv")));
        for (String f : OUTPUTS) {
            if (f.endsWith(".csv")) {
                assertEquals(dataRows(full.resolve(f)), dataRows(out.resolve(f)), f);
            }
        }
        assertEquals(claimLines(full), claimLines(out));

        Run third = run(args(out));
        assertEquals(0, third.code(), third.err());
        assertTrue(third.out().contains("no phase"), third.out());
    }

    @Test
    void reproduce_badFlags_exit2NamingTheFlag() {
        Map<String[], String> cases = new LinkedHashMap<>();
        cases.put(args(tmp.resolve("bad1"), "--profile", "huge"), "--profile");
        cases.put(args(tmp.resolve("bad2"), "--stop-after", "fig9"), "--stop-after");
        cases.put(args(tmp.resolve("bad3"), "--threads", "-1"), "--threads");
        cases.put(new String[]{"reproduce", "--profile", "paper", "--out", tmp.resolve("bad4").toString()}, "--data");
        cases.put(new String[]{"reproduce", "--profile", "smoke", "--data", tmp.resolve("nope").toString(), "--out",
                tmp.resolve("bad5").toString()}, "--data");
        cases.put(new String[]{"reproduce", "--seed", "x"}, "--seed");
        cases.put(args(tmp.resolve("bad6"), "--set", "epochz=3"), "--set");
        cases.put(args(tmp.resolve("bad7"), "--set", "epochs=three"), "--set epochs");
        cases.put(args(tmp.resolve("bad8"), "--set", "curveSteps=4"), "curveSteps");
        for (var e : cases.entrySet()) {
            Run r = run(e.getKey());
            assertEquals(2, r.code(), String.join(" ", e.getKey()) + ": " + r.err());
            assertTrue(r.err().contains(e.getValue()), e.getValue() + " named in: " + r.err());
        }
    }

    @Test
    void reproduce_otherSettingsInSameFolder_rejected() {
        Run r = run(args(full, "--seed", "5"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--out"), r.err());
    }

    @Test
    void reproduce_help_listsProfilesAndPhases() {
        Run r = run("reproduce", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("quick") && r.out().contains("full") && r.out().contains("paper")
                && r.out().contains("--stop-after"), r.out());
        assertEquals(17, Reproduction.PHASES.size());
        assertTrue(r.out().contains("table2, certify, report"), r.out());
    }

    static List<String> dataRows(Path csv) throws IOException {
        try (Stream<String> s = Files.lines(csv)) {
            return s.filter(l -> !l.startsWith("#")).toList();
        }
    }

    static List<String> claimLines(Path dir) throws IOException {
        // the run section of claims.json carries the configuration only, so the whole file must agree
        return Files.readAllLines(dir.resolve("claims.json"));
    }

}
