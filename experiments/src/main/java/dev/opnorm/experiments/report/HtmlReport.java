package dev.opnorm.experiments.report;

import dev.opnorm.experiments.run.RunManifest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A self-contained {@code report.html}: a title, free-text paragraphs, the configuration table (a run's
 * manifest fields and options), every figure inline as a base64 PNG with its caption and a link to its
 * CSV, and the claims table (each claim with its effect, 95 % interval, bound and verdict; none hidden). No
 * scripts, no external resources: the file opens offline and can be mailed. Blocks appear in the order they were
 * added.
 *
 * <pre>
 *   new HtmlReport("opnorm reproduce (quick profile)")
 *       .paragraph("200 test points per figure, ...")
 *       .config(manifest)
 *       .figure(files)
 *       .claims(claims)
 *       .write(outDir.resolve("report.html"));
 * </pre>
 */
public final class HtmlReport {
    private final String title;
    private final List<Block> blocks = new ArrayList<>();

    private sealed interface Block permits Text, Table, Fig, Claims {
    }

    private record Text(String heading, String text) implements Block {
    }

    private record Table(String heading, Map<String, String> rows) implements Block {
    }

    private record Fig(FigureFiles files) implements Block {
    }

    private record Claims(List<Claim> claims) implements Block {
    }

    public HtmlReport(String title) {
        if (title == null || title.isBlank()) {
            throw new IllegalArgumentException("report title must not be blank");
        }
        this.title = title;
    }

    /** A paragraph of plain text (escaped; blank lines separate paragraphs). */
    public HtmlReport paragraph(String text) {
        blocks.add(new Text(null, text == null ? "" : text));
        return this;
    }

    /** A section heading followed by plain text. */
    public HtmlReport section(String heading, String text) {
        blocks.add(new Text(heading, text == null ? "" : text));
        return this;
    }

    /** The configuration table: the manifest's fields, then its options (prefixed "option "). */
    public HtmlReport config(RunManifest manifest) {
        Map<String, String> rows = new LinkedHashMap<>();
        manifest.fields().forEach((k, v) -> rows.put(k, String.valueOf(v)));
        manifest.options().forEach((k, v) -> rows.put("option " + k, String.valueOf(v)));
        blocks.add(new Table("Configuration", rows));
        return this;
    }

    /** A key/value table under a heading (copied). */
    public HtmlReport table(String heading, Map<String, String> rows) {
        blocks.add(new Table(heading, new LinkedHashMap<>(rows)));
        return this;
    }

    /** A figure written by {@link Figure#write}: its PNG is read and embedded when the report is written. */
    public HtmlReport figure(FigureFiles files) {
        if (files == null) {
            throw new IllegalArgumentException("figure files must not be null");
        }
        blocks.add(new Fig(files));
        return this;
    }

    /** The claims table (copied). */
    public HtmlReport claims(List<Claim> claims) {
        blocks.add(new Claims(List.copyOf(claims)));
        return this;
    }

    /**
     * The HTML text; CSV links are relative to {@code reportDir} (the folder the report will be in).
     *
     * @throws IOException when a figure's PNG cannot be read
     */
    public String html(Path reportDir) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
                .append(esc(title)).append("</title>\n<style>\n")
                .append("body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}\n")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;")
                .append("text-align:left;vertical-align:top}th{background:#f4f4f4}\n")
                .append("figure{margin:2em 0}figure img{max-width:100%}figcaption{font-size:.95em}\n")
                .append(".held{color:#176f2c;font-weight:bold}.contradicted{color:#b00020;font-weight:bold}")
                .append(".inconclusive{color:#8a5a00;font-weight:bold}\n")
                .append("code{font-size:.9em}\n</style>\n</head>\n<body>\n<h1>").append(esc(title)).append("</h1>\n");
        int figureNo = 0;
        for (Block block : blocks) {
            if (block instanceof Text t) {
                if (t.heading() != null) {
                    b.append("<h2>").append(esc(t.heading())).append("</h2>\n");
                }
                for (String para : t.text().split("\\n\\s*\\n")) {
                    if (!para.isBlank()) {
                        b.append("<p>").append(esc(para.strip())).append("</p>\n");
                    }
                }
            } else if (block instanceof Table t) {
                b.append("<h2>").append(esc(t.heading())).append("</h2>\n<table>\n");
                t.rows().forEach((k, v) -> b.append("<tr><th>").append(esc(k)).append("</th><td><code>")
                        .append(esc(v)).append("</code></td></tr>\n"));
                b.append("</table>\n");
            } else if (block instanceof Fig f) {
                figureNo++;
                FigureFiles ff = f.files();
                String png = Base64.getEncoder().encodeToString(Files.readAllBytes(ff.png()));
                String csv = relative(reportDir, ff.csv());
                b.append("<figure id=\"figure-").append(figureNo).append("\">\n<img alt=\"").append(esc(ff.title()))
                        .append("\" src=\"data:image/png;base64,").append(png).append("\">\n<figcaption><b>Figure ")
                        .append(figureNo).append(".</b> ").append(esc(ff.title())).append(". ");
                if (!ff.caption().isBlank()) {
                    b.append(esc(ff.caption())).append(' ');
                }
                b.append("Data: <a href=\"").append(esc(csv)).append("\">").append(esc(csv))
                        .append("</a>.</figcaption>\n</figure>\n");
            } else if (block instanceof Claims c) {
                claimsTable(b, c.claims());
            }
        }
        return b.append("</body>\n</html>\n").toString();
    }

    /** Writes {@link #html} to file atomically. */
    public void write(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        RunManifest.AtomicFiles.writeString(file, html(dir));
    }

    private static void claimsTable(StringBuilder b, List<Claim> claims) {
        int[] count = new int[Claim.Verdict.values().length];
        for (Claim c : claims) {
            count[c.verdict().ordinal()]++;
        }
        b.append("<h2>Claims</h2>\n<p>").append(claims.size()).append(" claims: ")
                .append(count[Claim.Verdict.HELD.ordinal()]).append(" held, ")
                .append(count[Claim.Verdict.CONTRADICTED.ordinal()]).append(" contradicted, ")
                .append(count[Claim.Verdict.INCONCLUSIVE.ordinal()]).append(" inconclusive. A claim is held when the ")
                .append("95 % interval of its effect lies entirely on the claim's side of the bound, contradicted ")
                .append("when it lies entirely on the other side, inconclusive when it reaches the bound.</p>\n")
                .append("<table>\n<tr><th>claim</th><th>effect [95 % interval]</th><th>bound (why)</th>")
                .append("<th>verdict</th><th>numbers</th></tr>\n");
        for (Claim c : claims) {
            Estimate e = c.effect();
            b.append("<tr id=\"claim-").append(esc(c.id())).append("\"><td>").append(esc(c.statement()))
                    .append("<br><small><code>").append(esc(c.id())).append("</code></small>");
            if (!c.note().isBlank()) {
                b.append("<br><small>").append(esc(c.note())).append("</small>");
            }
            b.append("</td><td>").append(esc(c.effectName())).append(" = <code>").append(esc(format(e.value())))
                    .append(" [").append(esc(format(e.low()))).append(", ").append(esc(format(e.high())))
                    .append("]</code><br><small>").append(esc(e.method())).append("</small></td><td><code>")
                    .append(esc(c.comparison())).append("</code><br><small>").append(esc(c.reason()))
                    .append("</small></td><td class=\"").append(c.verdict().label()).append("\">")
                    .append(c.verdict().label()).append("</td><td>");
            int i = 0;
            for (var n : c.numbers().entrySet()) {
                b.append(i++ == 0 ? "" : "<br>").append(esc(n.getKey())).append(" = <code>")
                        .append(esc(format(n.getValue()))).append("</code>");
            }
            b.append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    /** Four significant digits are enough to read; the exact values are in claims.json. */
    private static String format(double v) {
        return Double.isFinite(v) ? String.format(java.util.Locale.ROOT, "%.4g", v) : Double.toString(v);
    }

    private static String relative(Path dir, Path file) {
        Path abs = file.toAbsolutePath().normalize();
        Path rel = dir.toAbsolutePath().normalize().relativize(abs);
        return rel.toString().replace('\\', '/');
    }

    /** HTML text and attribute escaping. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
