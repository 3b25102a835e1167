package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.report.Claim;
import dev.opnorm.experiments.report.ClaimsJson;
import dev.opnorm.experiments.report.Estimate;
import dev.opnorm.experiments.run.RunManifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SeedsCommandTest {
    @TempDir
    Path tmp;

    /** A run folder with claims.json in the format the reproduction writes and a minimal report.html. */
    private Path run(String name, long seed, String... idVerdict) throws IOException {
        Path d = tmp.resolve(name);
        Files.createDirectories(d);
        StringBuilder claims = new StringBuilder();
        for (int i = 0; i < idVerdict.length; i += 2) {
            claims.append(i == 0 ? "\n" : ",\n").append("    {\"id\": \"").append(idVerdict[i])
                    .append("\", \"estimate\": 0.5, \"verdict\": \"").append(idVerdict[i + 1]).append("\"}");
        }
        Files.writeString(d.resolve("claims.json"), "{\n  \"run\": {\"command\": \"reproduce\", \"seed\": " + seed
                + "},\n  \"summary\": {},\n  \"claims\": [" + claims + "\n  ]\n}\n");
        Files.writeString(d.resolve("report.html"), "<html><body>\n<h1>report " + name + "</h1>\n</body>\n</html>\n");
        return d;
    }

    @Test
    void seeds_writeAgreementIntoEveryRun_andReplaceTheSectionWhenRunAgain() throws IOException {
        Path a = run("a", 0, "c1", "held", "c2", "contradicted", "c3", "inconclusive");
        Path b = run("b", 1, "c1", "held", "c2", "held", "c3", "inconclusive");
        Path c = run("c", 2, "c1", "held", "c2", "contradicted", "c3", "inconclusive");
        NormCommandTest.Run r = NormCommandTest.run("seeds", a.toString(), b.toString(), c.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("| c2 | contradicted | held | contradicted | no |"), r.out());
        assertTrue(r.out().contains("2 of 3 claims have the same verdict"), r.out());
        String csv = "claim,seed_0,seed_1,seed_2,agree\nc1,held,held,held,yes\nc2,contradicted,held,contradicted,no\n"
                + "c3,inconclusive,inconclusive,inconclusive,yes\n";
        for (Path d : List.of(a, b, c)) {
            assertEquals(csv, Files.readString(d.resolve("seeds.csv")));
        }
        String html = Files.readString(b.resolve("report.html"));
        assertTrue(html.contains("This run is seed 1") && html.contains("<th>seed 1 (this run)</th>"), html);
        assertTrue(html.contains("<tr><td>c2</td><td>contradicted</td><td>held</td><td>contradicted</td><td>no</td>"),
                html);
        assertTrue(html.indexOf(SeedsCommand.END) < html.indexOf("</body>"), html);

        // run again with two of them: the section is replaced, not appended
        NormCommandTest.Run again = NormCommandTest.run("seeds", a.toString(), c.toString());
        assertEquals(0, again.code(), again.out() + again.err());
        String html2 = Files.readString(a.resolve("report.html"));
        assertEquals(1, html2.split(SeedsCommand.BEGIN, -1).length - 1, html2);
        assertTrue(html2.contains("<tr><td>c2</td><td>contradicted</td><td>contradicted</td><td>yes</td>"), html2);
        assertEquals("claim,seed_0,seed_2,agree\nc1,held,held,yes\nc2,contradicted,contradicted,yes\n"
                + "c3,inconclusive,inconclusive,yes\n", Files.readString(a.resolve("seeds.csv")));
    }

    @Test
    void seeds_readsTheClaimsJsonTheReproductionWrites() throws IOException {
        Path a = tmp.resolve("real-a");
        Path b = tmp.resolve("real-b");
        for (Path d : List.of(a, b)) {
            Files.createDirectories(d);
            double lo = d == a ? 0.25 : 0.15;
            ClaimsJson.write(d.resolve("claims.json"), List.of(Claim.above("x", "a statement", "an effect",
                    new Estimate(lo + 0.05, lo, lo + 0.1, "test interval"), 0.2, "a reason")),
                    new RunManifest("reproduce").put("seed", d == a ? 0 : 1));
        }
        NormCommandTest.Run r = NormCommandTest.run("seeds", a.toString(), b.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("| x | held | inconclusive | no |"), r.out());
    }

    @Test
    void seeds_badInput_namesTheFileOrTheSeed() throws IOException {
        Path a = run("a", 0, "c1", "held");
        Path same = run("same", 0, "c1", "held");
        NormCommandTest.Run dup = NormCommandTest.run("seeds", a.toString(), same.toString());
        assertEquals(2, dup.code());
        assertTrue(dup.err().contains("two runs have seed 0"), dup.err());

        Path other = run("other", 1, "c9", "held");
        NormCommandTest.Run mismatch = NormCommandTest.run("seeds", a.toString(), other.toString());
        assertEquals(2, mismatch.code());
        assertTrue(mismatch.err().contains("hold different claims (c9, c1)")
                || mismatch.err().contains("hold different claims (c1, c9)"), mismatch.err());

        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        NormCommandTest.Run missing = NormCommandTest.run("seeds", a.toString(), empty.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains(empty.resolve("claims.json") + ": no such file"), missing.err());
    }
}
