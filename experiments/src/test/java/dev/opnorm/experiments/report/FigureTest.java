package dev.opnorm.experiments.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FigureTest {
    @TempDir
    Path tmp;

    private static Figure accuracyFigure() {
        Figure f = new Figure("Accuracy under l2 PGA", "eps", "eps (l2)", "accuracy", "test accuracy")
                .yRange(0, 1).marker(0.5, "training eps").caption("PGA, 10 iterations.");
        f.series("standard").add(0, MeanStderr.proportion(9, 10)).add(0.5, MeanStderr.proportion(1, 10));
        f.series("AT, eps=0.5").add(0, MeanStderr.proportion(8, 10)).add(0.5, MeanStderr.proportion(6, 10));
        return f;
    }

    @Test
    void csv_startsWithItsHeaderRow_andHasOneRowPerPoint() {
        String csv = accuracyFigure().csv();
        assertEquals(List.of("series,eps,accuracy,accuracy_stderr,n",
                "standard,0.0,0.9," + se(0.9) + ",10",
                "standard,0.5,0.1," + se(0.1) + ",10",
                "\"AT, eps=0.5\",0.0,0.8," + se(0.8) + ",10",
                "\"AT, eps=0.5\",0.5,0.6," + se(0.6) + ",10"), csv.lines().toList());
    }

    @Test
    void csv_writesUndefinedStderrAsNaN() {
        Figure f = new Figure("one sample", "rank", "rank r", "sigma", "singular value");
        f.series("clean").add(1, new double[]{2.5});
        assertEquals("series,rank,sigma,sigma_stderr,n\nclean,1.0,2.5,NaN,1\n", f.csv());
    }

    @Test
    void csv_andChart_carryTheIntervals_whenPointsHaveThem() {
        Figure f = new Figure("Accuracy", "eps", "eps", "accuracy", "accuracy").errorStyle(Figure.ErrorStyle.BAND);
        Estimate ci = Estimate.wilson(5, 10);
        f.series("AT").add(0, MeanStderr.proportion(5, 10), ci).add(1, 0.2, 0.1, 10);
        assertEquals(List.of("series,eps,accuracy,accuracy_stderr,n,accuracy_ci95_low,accuracy_ci95_high",
                "AT,0.0,0.5," + se(0.5) + ",10," + ci.low() + "," + ci.high(),
                "AT,1.0,0.2,0.1,10,NaN,NaN"), f.csv().lines().toList());
        // the band is the interval where the point has one, mean +- stderr where it has none
        var data = (org.jfree.data.xy.YIntervalSeriesCollection) FigureRenderer.chart(f).getXYPlot().getDataset();
        assertEquals(ci.low(), data.getStartYValue(0, 0), 1e-12);
        assertEquals(ci.high(), data.getEndYValue(0, 0), 1e-12);
        assertEquals(0.1, data.getStartYValue(0, 1), 1e-12);
        var e = assertThrows(IllegalArgumentException.class, () -> new Figure.Point(2, 0.5, 0.1, 10, 0.6, 0.4));
        assertTrue(e.getMessage().contains("0.6"), e.getMessage());
    }

    @Test
    void write_producesCsvAndDecodablePng_ofDefaultSize() throws IOException {
        FigureFiles files = accuracyFigure().write(tmp.resolve("out"), "fig3_l2");
        assertEquals(tmp.resolve("out/fig3_l2.csv"), files.csv());
        assertEquals("Accuracy under l2 PGA", files.title());
        assertEquals("PGA, 10 iterations.", files.caption());
        assertEquals(accuracyFigure().csv(), Files.readString(files.csv()));
        BufferedImage img = ImageIO.read(files.png().toFile());
        assertNotNull(img, "PNG does not decode");
        assertEquals(FigureRenderer.WIDTH, img.getWidth());
        assertEquals(FigureRenderer.HEIGHT, img.getHeight());
        assertTrue(distinctColours(img) > 3, "the chart is blank");
    }

    @Test
    void png_hasRequestedSize_forLogScaleBandWithBandsBelowZero() throws IOException {
        Figure f = new Figure("Singular value spectrum", "rank", "rank r", "sigma", "sigma_r of J(x)")
                .logY(true).errorStyle(Figure.ErrorStyle.BAND);
        for (int r = 1; r <= 50; r++) {
            double v = Math.pow(0.8, r);
            f.series("standard").add(r, v, v * (r % 7 == 0 ? 1.5 : 0.1), 20); // some bands reach below zero
            f.series("AT").add(r, v / 10, v / 40, 20);
        }
        f.series("AT").add(51, 0.0, 0.0, 20); // a zero on a log axis: left out of the image, kept in the CSV
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(f.png(320, 200)));
        assertEquals(320, img.getWidth());
        assertEquals(200, img.getHeight());
        assertTrue(f.csv().contains("AT,51.0,0.0,0.0,20\n"));
    }

    @Test
    void markerOutsideTheData_isStillOnTheAxis() {
        Figure f = new Figure("t", "eps", "eps", "accuracy", "accuracy").marker(3.0, "eps_train");
        f.series("a").add(0, 1, 0, 5).add(1, 0.5, 0.1, 5);
        var chart = FigureRenderer.chart(f);
        var range = chart.getXYPlot().getDomainAxis().getRange();
        assertTrue(range.contains(3.0), range.toString());
        assertTrue(range.contains(0.0), range.toString());
    }

    @Test
    void meanStderr_matchesTheDefinition_andProportionAgreesWithZeroOneSamples() {
        MeanStderr m = MeanStderr.of(new double[]{1, 2, 3, 4});
        assertEquals(2.5, m.mean());
        assertEquals(Math.sqrt(5.0 / 12.0), m.stderr(), 1e-15);
        assertEquals(4, m.n());
        MeanStderr p = MeanStderr.proportion(3, 8), q = MeanStderr.of(new double[]{1, 0, 1, 0, 0, 1, 0, 0});
        assertEquals(q.mean(), p.mean());
        assertEquals(q.stderr(), p.stderr(), 1e-15);
        assertTrue(Double.isNaN(MeanStderr.of(new double[]{7}).stderr()));
        assertThrows(IllegalArgumentException.class, () -> MeanStderr.of(new double[]{1, Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> MeanStderr.proportion(5, 4));
    }

    @Test
    void badInput_isRejectedWithMessagesNamingTheProblem() {
        Figure empty = new Figure("empty", "x", "x", "y", "y");
        empty.series("s");
        var e = assertThrows(IllegalArgumentException.class, () -> empty.write(tmp, "f"));
        assertTrue(e.getMessage().contains("no points"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Figure("t", "e p s", "x", "y", "y"));
        assertTrue(e.getMessage().contains("e p s"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Figure("t", "x", "x", "x", "y"));
        assertTrue(e.getMessage().contains("clash"), e.getMessage());
        Figure f = accuracyFigure();
        e = assertThrows(IllegalArgumentException.class, () -> f.write(tmp, "../escape"));
        assertTrue(e.getMessage().contains("../escape"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> f.png(0, 10));
        assertTrue(e.getMessage().contains("0x10"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> f.series("s").add(Double.NaN, 1, 0, 1));
        e = assertThrows(IllegalArgumentException.class, () -> f.series("s").add(1, 1, -1, 1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        Figure neg = new Figure("negative", "x", "x", "y", "y").logY(true);
        neg.series("s").add(1, -1, 0, 1);
        e = assertThrows(IllegalArgumentException.class, () -> neg.png(100, 100));
        assertTrue(e.getMessage().contains("no positive value"), e.getMessage());
    }

    /** Standard error of a proportion p over 10 examples. */
    private static double se(double p) {
        return Math.sqrt(p * (1 - p) / 9);
    }

    private static int distinctColours(BufferedImage img) {
        java.util.Set<Integer> c = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                c.add(img.getRGB(x, y));
            }
        }
        return c.size();
    }
}
