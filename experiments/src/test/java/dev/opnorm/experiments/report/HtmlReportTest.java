package dev.opnorm.experiments.report;

import dev.opnorm.experiments.run.RunManifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class HtmlReportTest {
    @TempDir
    Path tmp;

    private static List<Claim> claims() {
        return List.of(
                Claim.above("fig3-at-beats-standard", "AT is more robust than standard training (Fig. 3)",
                        "AT - standard", new Estimate(0.5, 0.4, 0.6, "paired bootstrap"), 0.2, "much more robust"),
                Claim.below("fig2-global-snr-barely", "Global SNR barely dampens the spectrum (Fig. 2 <left>)",
                        "global SNR / standard sigma_1", new Estimate(0.9, 0.8, 1.0, "paired bootstrap"), 0.5,
                        "half").withNumbers(java.util.Map.of("global SNR sigma_1", 0.9)).withNote("20 test points"),
                Claim.within("fig3-like", "AT ~ d.d. SNR", "AT - d.d. SNR",
                        new Estimate(0.05, -0.02, 0.12, "paired bootstrap"), 0.1, "about the same"));
    }

    @Test
    void report_embedsEveryFigureAsPng_linksItsCsv_andListsConfigAndClaims() throws IOException {
        RunManifest manifest = new RunManifest("reproduce").put("seed", 11).option("profile", "quick");
        Figure f1 = new Figure("Accuracy vs eps", "eps", "eps", "accuracy", "accuracy").caption("Fig. 3 left.");
        f1.series("standard").add(0, 0.9, 0.01, 100).add(1, 0.2, 0.04, 100);
        Figure f2 = new Figure("Spectrum", "rank", "rank", "sigma", "sigma").logY(true).errorStyle(Figure.ErrorStyle.BAND);
        f2.series("AT").add(1, 3, 0.1, 10).add(2, 1, 0.1, 10).add(3, 0.2, 0.05, 10);
        FigureFiles a = f1.write(tmp.resolve("figures"), "fig3");
        FigureFiles b = f2.write(tmp.resolve("figures"), "fig2");

        Path html = tmp.resolve("report.html");
        new HtmlReport("opnorm reproduce <quick>").paragraph("Sample sizes: 100 points.\n\nSecond paragraph.")
                .config(manifest).figure(a).figure(b).claims(claims()).write(html);
        String text = Files.readString(html);

        assertTrue(text.startsWith("<!DOCTYPE html>"), text.substring(0, 40));
        assertTrue(text.contains("<title>opnorm reproduce &lt;quick&gt;</title>"));
        assertTrue(text.contains("<p>Sample sizes: 100 points.</p>\n<p>Second paragraph.</p>"));
        assertTrue(text.contains("<tr><th>seed</th><td><code>11</code></td></tr>"));
        assertTrue(text.contains("<tr><th>option profile</th><td><code>quick</code></td></tr>"));
        // each PNG is inline, byte for byte, and decodes
        for (FigureFiles ff : List.of(a, b)) {
            assertTrue(text.contains("base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(ff.png()))),
                    ff.png() + " is not embedded");
        }
        Matcher m = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(text);
        int images = 0;
        while (m.find()) {
            assertNotNull(ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(1)))));
            images++;
        }
        assertEquals(2, images);
        assertTrue(text.contains("<a href=\"figures/fig3.csv\">"), "CSV link relative to the report");
        assertTrue(text.contains("Fig. 3 left."));
        assertFalse(text.contains("<script"), "self-contained, no scripts");
        assertFalse(text.matches("(?s).*(src|href)=\"https?:.*"), "no external resources");
        // claims: one of each verdict, effect with interval, bound with reason, escaped statement, note
        assertTrue(text.contains("3 claims: 1 held, 1 contradicted, 1 inconclusive."), text);
        assertTrue(text.contains("id=\"claim-fig3-at-beats-standard\""));
        assertTrue(text.contains("AT - standard = <code>0.5000 [0.4000, 0.6000]</code>"), text);
        assertTrue(text.contains("<code>AT - standard &gt; 0.2</code><br><small>much more robust</small>"), text);
        assertTrue(text.contains("class=\"held\">held</td>"));
        assertTrue(text.contains("class=\"contradicted\">contradicted</td>"));
        assertTrue(text.contains("class=\"inconclusive\">inconclusive</td>"));
        assertTrue(text.contains("Fig. 2 &lt;left&gt;"));
        assertTrue(text.contains("global SNR sigma_1 = <code>0.9000</code>"));
        assertTrue(text.contains("<small>20 test points</small>"));
    }

    @Test
    void report_missingPng_isAnIoError() {
        FigureFiles ghost = new FigureFiles("ghost", "", tmp.resolve("g.csv"), tmp.resolve("g.png"));
        assertThrows(IOException.class, () -> new HtmlReport("r").figure(ghost).write(tmp.resolve("r.html")));
        assertThrows(IllegalArgumentException.class, () -> new HtmlReport(" "));
    }
}
