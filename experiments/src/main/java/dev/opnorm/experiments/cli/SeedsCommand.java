package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.nn.checkpoint.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code opnorm seeds RUN RUN [RUN...]}: do the verdicts of reproductions with different seeds agree? Each run's
 * claims.json is read; every run folder gets {@code seeds.csv} (claim, each seed's verdict, agree) and a section in
 * its report.html listing, for every claim, whether the other seeds agree. A single seed's verdict can be luck of
 * the draw (the networks and the test-image resampling both depend on it); agreement across seeds is the evidence
 * that a held or contradicted claim is a property of the method.
 */
@Command(name = "seeds",
        mixinStandardHelpOptions = true,
        description = {"Compare the claim verdicts of `opnorm reproduce` runs made with different --seed.",
                "Reads RUN/claims.json of each run; writes RUN/seeds.csv (claim, the verdict of every",
                "seed, agree = yes when all verdicts are equal) into every run folder and adds a",
                "section \"Other seeds\" to each RUN/report.html (replaced when run again); prints the",
                "table. The runs must hold the same claims and have different seeds.",
                "Exit code 0 (whatever the verdicts), 2 on a missing or unreadable claims.json."},
        footer = {"", "Example:",
                "  ./opnorm seeds runs/quick-s0 runs/quick-s1 runs/quick-s2"})
public final class SeedsCommand implements Callable<Integer> {
    static final String BEGIN = "<!-- opnorm seeds: begin -->";
    static final String END = "<!-- opnorm seeds: end -->";

    @Spec
    CommandSpec spec;

    @Parameters(arity = "2..*", paramLabel = "RUN", description = "Reproduction output folders (hold claims.json).")
    List<Path> runs = new ArrayList<>();

    /** One run's seed and its verdict per claim id, in the file's order. */
    record Verdicts(Path dir, long seed, Map<String, String> byClaim) {
    }

    @Override
    public Integer call() throws IOException {
        List<Verdicts> all = new ArrayList<>();
        Set<Long> seeds = new LinkedHashSet<>();
        for (Path dir : runs) {
            Verdicts v = read(dir);
            if (!seeds.add(v.seed())) {
                throw new IllegalArgumentException("two runs have seed " + v.seed() + " (" + dir + "): compare runs "
                        + "with different --seed");
            }
            all.add(v);
        }
        Verdicts first = all.get(0);
        for (Verdicts v : all) {
            if (!v.byClaim().keySet().equals(first.byClaim().keySet())) {
                Set<String> diff = new LinkedHashSet<>(v.byClaim().keySet());
                diff.addAll(first.byClaim().keySet());
                diff.removeIf(id -> v.byClaim().containsKey(id) && first.byClaim().containsKey(id));
                throw new IllegalArgumentException(v.dir().resolve("claims.json") + " and "
                        + first.dir().resolve("claims.json") + " hold different claims (" + String.join(", ", diff)
                        + "): compare runs of the same profile and version");
            }
        }
        String csv = csv(all);
        int agree = 0;
        for (String id : first.byClaim().keySet()) {
            agree += agrees(all, id) ? 1 : 0;
        }
        for (Verdicts v : all) {
            RunManifest.AtomicFiles.writeString(v.dir().resolve("seeds.csv"), csv);
            Path report = v.dir().resolve("report.html");
            if (Files.isRegularFile(report)) {
                String html = Files.readString(report, StandardCharsets.UTF_8);
                RunManifest.AtomicFiles.writeString(report, withSection(html, section(all, v)));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(markdown(all));
        out.println(agree + " of " + first.byClaim().size() + " claims have the same verdict for seeds "
                + seeds + "; seeds.csv and report.html written in each run folder.");
        out.flush();
        return 0;
    }

    static Verdicts read(Path dir) throws IOException {
        Path file = dir.resolve("claims.json");
        Map<String, Object> root;
        try {
            root = Json.parseObject(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file (is " + dir + " a finished reproduction?)");
        } catch (Json.JsonException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage());
        }
        if (!(root.get("run") instanceof Map<?, ?> run) || !(run.get("seed") instanceof Number seed)) {
            throw new IllegalArgumentException(file + ": no numeric run.seed");
        }
        if (!(root.get("claims") instanceof List<?> claims)) {
            throw new IllegalArgumentException(file + ": no claims array");
        }
        Map<String, String> byClaim = new LinkedHashMap<>();
        for (int i = 0; i < claims.size(); i++) {
            if (!(claims.get(i) instanceof Map<?, ?> c) || !(c.get("id") instanceof String id)
                    || !(c.get("verdict") instanceof String verdict)) {
                throw new IllegalArgumentException(file + ": claims[" + i + "] lacks a string id or verdict");
            }
            byClaim.put(id, verdict);
        }
        return new Verdicts(dir, seed.longValue(), byClaim);
    }

    static boolean agrees(List<Verdicts> all, String id) {
        String v0 = all.get(0).byClaim().get(id);
        return all.stream().allMatch(v -> v.byClaim().get(id).equals(v0));
    }

    static String csv(List<Verdicts> all) {
        StringBuilder b = new StringBuilder("claim");
        for (Verdicts v : all) {
            b.append(",seed_").append(v.seed());
        }
        b.append(",agree\n");
        for (String id : all.get(0).byClaim().keySet()) {
            b.append(id);
            for (Verdicts v : all) {
                b.append(',').append(v.byClaim().get(id));
            }
            b.append(',').append(agrees(all, id) ? "yes" : "no").append('\n');
        }
        return b.toString();
    }

    private static String markdown(List<Verdicts> all) {
        StringBuilder b = new StringBuilder("| claim |");
        for (Verdicts v : all) {
            b.append(" seed ").append(v.seed()).append(" |");
        }
        b.append(" agree |\n|---|");
        b.append("---|".repeat(all.size() + 1)).append('\n');
        for (String id : all.get(0).byClaim().keySet()) {
            b.append("| ").append(id).append(" |");
            for (Verdicts v : all) {
                b.append(' ').append(v.byClaim().get(id)).append(" |");
            }
            b.append(agrees(all, id) ? " yes |\n" : " no |\n");
        }
        return b.toString();
    }

    /** The report section of run {@code self}: its verdict beside the other seeds', and whether they agree. */
    private static String section(List<Verdicts> all, Verdicts self) {
        StringBuilder b = new StringBuilder(BEGIN).append("\n<h2>Other seeds</h2>\n<p>This run is seed ")
                .append(self.seed()).append(". Verdicts of the same claims in the runs with seeds ");
        List<String> others = new ArrayList<>();
        for (Verdicts v : all) {
            if (v != self) {
                others.add(String.valueOf(v.seed()));
            }
        }
        b.append(String.join(", ", others)).append(" (<code>opnorm seeds</code>; seeds.csv):</p>\n<table>\n<tr><th>claim</th>");
        for (Verdicts v : all) {
            b.append("<th>seed ").append(v.seed()).append(v == self ? " (this run)" : "").append("</th>");
        }
        b.append("<th>other seeds agree</th></tr>\n");
        for (String id : all.get(0).byClaim().keySet()) {
            b.append("<tr><td>").append(escape(id)).append("</td>");
            for (Verdicts v : all) {
                b.append("<td>").append(escape(v.byClaim().get(id))).append("</td>");
            }
            b.append("<td>").append(agrees(all, id) ? "yes" : "no").append("</td></tr>\n");
        }
        return b.append("</table>\n").append(END).toString();
    }

    /** The report with its seeds section replaced (or inserted before the end of the body). */
    static String withSection(String html, String section) {
        int s = html.indexOf(BEGIN);
        int e = html.indexOf(END);
        if (s >= 0 && e > s) {
            return html.substring(0, s) + section + html.substring(e + END.length());
        }
        int body = html.lastIndexOf("</body>");
        return body < 0 ? html + section + "\n" : html.substring(0, body) + section + "\n" + html.substring(body);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
