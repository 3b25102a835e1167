package dev.opnorm.experiments.report;

import dev.opnorm.experiments.run.RunManifest;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One figure of the paper as data: a title, the x and y axes (a CSV column name and an axis label each),
 * several named series of points (x, mean, standard error, number of samples, optionally a 95 % interval),
 * optional vertical marker lines (e.g. the training eps) and a caption. {@link #write} writes it twice, as
 * {@code <name>.csv} (the numbers; the run's provenance is in its run.json) and {@code <name>.png} (the chart,
 * where a point's 95 % interval, when it has one, is drawn instead of mean +- stderr), so every figure exists
 * both as data and as an image; {@link HtmlReport} then embeds the PNG and links the CSV.
 *
 * <p>Not thread-safe: build a figure on one thread, then write it. The setters return {@code this}.
 *
 * <pre>
 *   Figure f = new Figure("Accuracy under l2 PGA", "eps", "eps (l2)", "accuracy", "test accuracy")
 *           .yRange(0, 1).marker(1.75, "training eps");
 *   f.series("AT").add(0.5, MeanStderr.proportion(812, 1000));
 *   FigureFiles files = f.write(outDir, "fig3_l2");
 * </pre>
 */
public final class Figure {
    /** How standard errors are drawn. */
    public enum ErrorStyle {
        /** A vertical bar mean +- stderr at each point (few points, e.g. accuracy against eps). */
        BARS,
        /** A shaded band between mean - stderr and mean + stderr (many points, e.g. spectra by rank). */
        BAND,
        /** No error drawing (the CSV still has the standard errors). */
        NONE
    }

    /**
     * One point: the mean of n samples at x, its standard error (NaN: undefined, not drawn) and a 95 % interval
     * [low, high] (NaN, NaN when the point has none: the chart then draws mean +- stderr).
     */
    public record Point(double x, double mean, double stderr, int n, double low, double high) {
        public Point(double x, double mean, double stderr, int n) {
            this(x, mean, stderr, n, Double.NaN, Double.NaN);
        }

        /** Whether the point carries a 95 % interval. */
        public boolean hasInterval() {
            return !Double.isNaN(low);
        }

        public Point {
            if (Double.isNaN(low) != Double.isNaN(high) || low > high) {
                throw new IllegalArgumentException("point at x = " + x + ": interval [" + low + ", " + high
                        + "] must be ordered (or both NaN)");
            }
            if (!Double.isFinite(x) || !Double.isFinite(mean)) {
                throw new IllegalArgumentException("point (" + x + ", " + mean + "): x and mean must be finite");
            }
            if (!(stderr >= 0) && !Double.isNaN(stderr)) {
                throw new IllegalArgumentException("point at x = " + x + ": standard error " + stderr
                        + " must be >= 0 (or NaN)");
            }
            if (n < 1) {
                throw new IllegalArgumentException("point at x = " + x + ": " + n + " samples, need >= 1");
            }
        }
    }

    /** A vertical line at x with a label, e.g. the training eps. */
    public record Marker(double x, String label) {
        public Marker {
            if (!Double.isFinite(x)) {
                throw new IllegalArgumentException("marker '" + label + "' at x = " + x + " must be finite");
            }
            label = label == null ? "" : label;
        }
    }

    /** A named curve; points are kept in the order added (and drawn sorted by x). */
    public static final class Series {
        private final String name;
        private final List<Point> points = new ArrayList<>();

        private Series(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        /** The points in the order they were added (read-only). */
        public List<Point> points() {
            return Collections.unmodifiableList(points);
        }

        /** Adds the point (x, m.mean, m.stderr, m.n). */
        public Series add(double x, MeanStderr m) {
            points.add(new Point(x, m.mean(), m.stderr(), m.n()));
            return this;
        }

        /** Adds the point (x, m.mean, m.stderr, m.n) with the 95 % interval of {@code ci}. */
        public Series add(double x, MeanStderr m, Estimate ci) {
            points.add(new Point(x, m.mean(), m.stderr(), m.n(), ci.low(), ci.high()));
            return this;
        }

        /** Adds the mean and standard error of {@code samples} at x. */
        public Series add(double x, double[] samples) {
            return add(x, MeanStderr.of(samples));
        }

        /** Adds a point given by its numbers. */
        public Series add(double x, double mean, double stderr, int n) {
            points.add(new Point(x, mean, stderr, n));
            return this;
        }
    }

    private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");

    private final String title;
    private final String xColumn;
    private final String xLabel;
    private final String yColumn;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();
    private boolean logY;
    private ErrorStyle errorStyle = ErrorStyle.BARS;
    private double yMin = Double.NaN;
    private double yMax = Double.NaN;
    private String caption = "";

    /**
     * @param title   the chart title
     * @param xColumn the CSV column of x, e.g. "eps" (letters, digits, underscore)
     * @param xLabel  the x axis label, e.g. "eps (l2, inputs in [-1, 1])"
     * @param yColumn the CSV column of the mean, e.g. "accuracy"; its standard error is {@code <yColumn>_stderr}
     * @param yLabel  the y axis label
     * @throws IllegalArgumentException for a blank title or a column name that is not an identifier
     */
    public Figure(String title, String xColumn, String xLabel, String yColumn, String yLabel) {
        if (title == null || title.isBlank()) {
            throw new IllegalArgumentException("figure title must not be blank");
        }
        for (String c : new String[]{xColumn, yColumn}) {
            if (c == null || !COLUMN.matcher(c).matches() || c.equals("series") || c.equals("n")) {
                throw new IllegalArgumentException("figure '" + title + "': CSV column name '" + c
                        + "' must be an identifier other than 'series' and 'n'");
            }
        }
        if (xColumn.equals(yColumn) || (xColumn + "_stderr").equals(yColumn)) {
            throw new IllegalArgumentException("figure '" + title + "': x and y columns clash ('" + xColumn + "', '"
                    + yColumn + "')");
        }
        this.title = title;
        this.xColumn = xColumn;
        this.xLabel = xLabel == null ? xColumn : xLabel;
        this.yColumn = yColumn;
        this.yLabel = yLabel == null ? yColumn : yLabel;
    }

    /**
     * The series called {@code name}, created (empty, drawn after the existing ones) if it does not exist.
     *
     * @throws IllegalArgumentException for a blank name
     */
    public Series series(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("figure '" + title + "': series name must not be blank");
        }
        for (Series s : series) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        Series s = new Series(name);
        series.add(s);
        return s;
    }

    /** Adds a vertical marker line at x. */
    public Figure marker(double x, String label) {
        markers.add(new Marker(x, label));
        return this;
    }

    /** Log-scale y axis (e.g. singular value spectra); non-positive means are left out of the PNG only. */
    public Figure logY(boolean on) {
        logY = on;
        return this;
    }

    /** How standard errors are drawn (default {@link ErrorStyle#BARS}). */
    public Figure errorStyle(ErrorStyle style) {
        if (style == null) {
            throw new IllegalArgumentException("figure '" + title + "': error style must not be null");
        }
        errorStyle = style;
        return this;
    }

    /**
     * A fixed y range instead of the automatic one (e.g. [0, 1] for accuracies).
     *
     * @throws IllegalArgumentException unless lo &lt; hi, both finite (and lo &gt; 0 on a log axis, checked at drawing)
     */
    public Figure yRange(double lo, double hi) {
        if (!(Double.isFinite(lo) && Double.isFinite(hi) && lo < hi)) {
            throw new IllegalArgumentException("figure '" + title + "': y range [" + lo + ", " + hi + "] is empty");
        }
        yMin = lo;
        yMax = hi;
        return this;
    }

    /** The caption shown under the figure in the HTML report. */
    public Figure caption(String text) {
        caption = text == null ? "" : text;
        return this;
    }

    public String title() {
        return title;
    }

    public String xColumn() {
        return xColumn;
    }

    public String xLabel() {
        return xLabel;
    }

    public String yColumn() {
        return yColumn;
    }

    public String yLabel() {
        return yLabel;
    }

    public boolean isLogY() {
        return logY;
    }

    public ErrorStyle errorStyle() {
        return errorStyle;
    }

    /** The fixed y range, or null for automatic. */
    public double[] yRange() {
        return Double.isNaN(yMin) ? null : new double[]{yMin, yMax};
    }

    public String caption() {
        return caption;
    }

    /** The series in drawing order (read-only). */
    public List<Series> seriesList() {
        return Collections.unmodifiableList(series);
    }

    public List<Marker> markers() {
        return Collections.unmodifiableList(markers);
    }

    /**
     * The CSV, starting with its header row (no comment lines: the run's provenance is in run.json, the title,
     * axes and markers in the report), one row per point in long format:
     * <pre>
     *   series,&lt;xColumn&gt;,&lt;yColumn&gt;,&lt;yColumn&gt;_stderr,n[,&lt;yColumn&gt;_ci95_low,&lt;yColumn&gt;_ci95_high]
     * </pre>
     * The interval columns appear when any point has an interval (NaN for the points without one). Series in
     * their order, points in the order added. Numbers are {@link Double#toString} (round-trip exact); an
     * undefined standard error is {@code NaN}. Series names are quoted when they need it.
     *
     * @throws IllegalArgumentException when the figure has no points
     */
    public String csv() {
        checkNotEmpty();
        boolean intervals = series.stream().flatMap(s -> s.points.stream()).anyMatch(Point::hasInterval);
        StringBuilder b = new StringBuilder();
        b.append("series,").append(xColumn).append(',').append(yColumn).append(',').append(yColumn)
                .append("_stderr,n");
        if (intervals) {
            b.append(',').append(yColumn).append("_ci95_low,").append(yColumn).append("_ci95_high");
        }
        b.append('\n');
        for (Series s : series) {
            for (Point p : s.points) {
                b.append(csvField(s.name)).append(',').append(num(p.x())).append(',').append(num(p.mean()))
                        .append(',').append(num(p.stderr())).append(',').append(p.n());
                if (intervals) {
                    b.append(',').append(num(p.low())).append(',').append(num(p.high()));
                }
                b.append('\n');
            }
        }
        return b.toString();
    }

    /**
     * The chart as PNG bytes, width x height pixels (headless AWT).
     *
     * @throws IllegalArgumentException when the figure has no points, a size is not positive, or a log axis
     *                                  has nothing positive to show
     */
    public byte[] png(int width, int height) {
        checkNotEmpty();
        return FigureRenderer.png(this, width, height);
    }

    /**
     * Writes {@code <name>.csv} and {@code <name>.png} (default size {@link FigureRenderer#WIDTH} x
     * {@link FigureRenderer#HEIGHT}) into dir, each atomically, and returns their paths.
     *
     * @throws IllegalArgumentException for a name that is not a plain file name, or as {@link #csv}/{@link #png}
     */
    public FigureFiles write(Path dir, String name) throws IOException {
        if (name == null || !FILE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("figure file name '" + name + "' must be letters, digits, '_', '.', '-'");
        }
        String csv = csv();
        byte[] png = png(FigureRenderer.WIDTH, FigureRenderer.HEIGHT);
        Path csvPath = dir.resolve(name + ".csv"), pngPath = dir.resolve(name + ".png");
        RunManifest.AtomicFiles.writeString(csvPath, csv);
        RunManifest.AtomicFiles.writeBytes(pngPath, png);
        return new FigureFiles(title, caption, csvPath, pngPath);
    }

    private void checkNotEmpty() {
        for (Series s : series) {
            if (!s.points.isEmpty()) {
                return;
            }
        }
        throw new IllegalArgumentException("figure '" + title + "' has no points");
    }

    /** Round-trip exact decimal; "NaN" for NaN. */
    static String num(double v) {
        return Double.toString(v);
    }

    /** RFC 4180 quoting when the field has a comma, quote, newline or surrounding space. */
    static String csvField(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r") || !s.equals(s.strip())) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }
}
