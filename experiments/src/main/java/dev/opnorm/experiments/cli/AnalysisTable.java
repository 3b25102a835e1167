package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.robust.analysis.PointStats;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The data of one analysis figure: named series of (x, mean, standard error, n) points over test points, with
 * the axis names and labels a chart needs. Written as a CSV with the run's provenance header
 * ({@code series,<x column>,mean,stderr,n}); the same data can be handed to a chart renderer.
 */
final class AnalysisTable {
    /** One point of a series: statistics over test points at x. */
    record Point(double x, PointStats stats) {
    }

    final String name;
    final String title;
    final String xColumn;
    final String xLabel;
    final String yLabel;
    final boolean logY;
    final String caption;
    private final Map<String, List<Point>> series = new LinkedHashMap<>();

    AnalysisTable(String name, String title, String xColumn, String xLabel, String yLabel, boolean logY, String caption) {
        this.name = name;
        this.title = title;
        this.xColumn = xColumn;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logY = logY;
        this.caption = caption;
    }

    /** Adds a series: x[k] against the statistics of column k of a per-point table [point][k]. */
    AnalysisTable add(String seriesName, double[] x, double[][] perPoint) {
        PointStats[] s = PointStats.columns(perPoint);
        if (s.length != x.length) {
            throw new IllegalArgumentException(name + "/" + seriesName + ": " + x.length + " x values for " + s.length
                    + " columns");
        }
        List<Point> pts = new ArrayList<>();
        for (int k = 0; k < x.length; k++) {
            pts.add(new Point(x[k], s[k]));
        }
        series.put(seriesName, pts);
        return this;
    }

    /** The series in the order added (read-only view). */
    Map<String, List<Point>> series() {
        return java.util.Collections.unmodifiableMap(series);
    }

    /** The CSV text: the manifest's header lines, then one row per series point. */
    String csv(RunManifest manifest) {
        StringBuilder b = new StringBuilder(manifest.csvHeader());
        b.append("# figure: ").append(title).append('\n');
        if (!caption.isEmpty()) {
            b.append("# ").append(caption).append('\n');
        }
        b.append("series,").append(xColumn).append(",mean,stderr,n\n");
        series.forEach((s, pts) -> {
            for (Point p : pts) {
                b.append(s).append(',').append(num(p.x(), 9)).append(',').append(num(p.stats().mean(), 9)).append(',')
                        .append(num(p.stats().stderr(), 6)).append(',').append(p.stats().n()).append('\n');
            }
        });
        return b.toString();
    }

    /** x with the given significant digits, without trailing zeros ("1", "0.05", "1.23456789e-07"); NaN as "NaN". */
    static String num(double x, int digits) {
        if (!Double.isFinite(x)) {
            return String.valueOf(x);
        }
        if (x == 0) {
            return "0";
        }
        java.math.BigDecimal d = new java.math.BigDecimal(x).round(new java.math.MathContext(digits)).stripTrailingZeros();
        double a = Math.abs(x);
        return a >= 1e-4 && a < 1e9 ? d.toPlainString() : d.toString();
    }

    /** Writes {@code <name>.csv} atomically into dir; returns the file name. */
    String write(Path dir, RunManifest manifest) throws IOException {
        String file = name + ".csv";
        RunManifest.AtomicFiles.writeString(dir.resolve(file), csv(manifest));
        return file;
    }
}
