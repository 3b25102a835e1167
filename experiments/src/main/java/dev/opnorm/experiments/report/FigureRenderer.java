package dev.opnorm.experiments.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.Range;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Draws a {@link Figure} with JFreeChart into a PNG: lines with error bars or shaded standard-error bands,
 * optional log-scale y, a legend, dashed vertical markers. Headless: sets {@code java.awt.headless=true}
 * before AWT starts, unless the JVM was started with an explicit value. Colours come from a fixed palette
 * in series order, so one figure always looks the same.
 */
public final class FigureRenderer {
    /** Default PNG size in pixels. */
    public static final int WIDTH = 800;
    public static final int HEIGHT = 500;
    /** Largest accepted side, to catch swapped or garbage arguments before AWT allocates. */
    static final int MAX_SIDE = 8192;

    // Before any AWT class initializes: java.awt.Color's static init already caches the headless flag.
    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    // Tableau 10: distinguishable, and the order the series of a figure are drawn in
    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
            new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};

    private FigureRenderer() {
    }

    static byte[] png(Figure f, int width, int height) {
        if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
            throw new IllegalArgumentException("figure '" + f.title() + "': PNG size " + width + "x" + height
                    + " outside 1.." + MAX_SIDE);
        }
        JFreeChart chart = chart(f);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(out, chart, width, height);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array stream does not fail
        }
        return out.toByteArray();
    }

    static JFreeChart chart(Figure f) {
        boolean log = f.isLogY();
        // On a log axis a band or bar reaching <= 0 is cut at the smallest positive value in the figure.
        double floor = Double.POSITIVE_INFINITY, top = 0;
        if (log) {
            for (Figure.Series s : f.seriesList()) {
                for (Figure.Point p : s.points()) {
                    double lo = low(f, p);
                    if (p.mean() > 0) {
                        floor = Math.min(floor, lo > 0 ? lo : p.mean());
                        top = Math.max(top, high(f, p));
                    }
                }
            }
            if (floor == Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("figure '" + f.title() + "': log-scale y axis but no positive value");
            }
        }
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        for (Figure.Series s : f.seriesList()) {
            YIntervalSeries ys = new YIntervalSeries(s.name(), true, true);
            for (Figure.Point p : s.points()) {
                if (log && p.mean() <= 0) {
                    continue;
                }
                double lo = low(f, p), hi = high(f, p);
                ys.add(p.x(), p.mean(), log && lo <= 0 ? floor : lo, hi);
            }
            data.addSeries(ys);
        }

        XYLineAndShapeRenderer renderer = switch (f.errorStyle()) {
            case BARS -> {
                XYErrorRenderer r = new XYErrorRenderer();
                r.setDrawXError(false);
                r.setDrawYError(true);
                r.setDefaultLinesVisible(true);
                r.setDefaultShapesVisible(true);
                r.setCapLength(6);
                yield r;
            }
            case BAND -> {
                DeviationRenderer r = new DeviationRenderer(true, false);
                r.setAlpha(0.25f);
                yield r;
            }
            case NONE -> new XYLineAndShapeRenderer(true, false);
        };
        for (int i = 0; i < f.seriesList().size(); i++) {
            Color c = PALETTE[i % PALETTE.length];
            renderer.setSeriesPaint(i, c);
            renderer.setSeriesFillPaint(i, c);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }

        NumberAxis x = new NumberAxis(f.xLabel());
        x.setAutoRangeIncludesZero(false);
        ValueAxis y;
        if (log) {
            LogAxis la = new LogAxis(f.yLabel());
            la.setSmallestValue(floor / 2);
            // Ticks at whole powers of ten (about ten of them) read better than 10^1.2, 10^1.4, ...
            double[] yr = f.yRange();
            double decades = yr != null && yr[0] > 0 ? Math.log10(yr[1] / yr[0]) : Math.log10(top / floor);
            if (decades >= 2) {
                la.setAutoTickUnitSelection(false);
                la.setTickUnit(new NumberTickUnit(Math.max(1, Math.ceil(decades / 10))));
            }
            y = la;
        } else {
            NumberAxis na = new NumberAxis(f.yLabel());
            na.setAutoRangeIncludesZero(false);
            y = na;
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        double[] yr = f.yRange();
        if (yr != null) {
            if (log && yr[0] <= 0) {
                throw new IllegalArgumentException("figure '" + f.title() + "': log-scale y range must start above 0, got "
                        + yr[0]);
            }
            y.setRange(yr[0], yr[1]);
        }
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        for (Figure.Marker m : f.markers()) {
            ValueMarker vm = new ValueMarker(m.x(), Color.DARK_GRAY,
                    new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
            vm.setLabel(m.label());
            vm.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            vm.setLabelTextAnchor(TextAnchor.TOP_LEFT);
            plot.addDomainMarker(vm);
        }
        includeMarkers(x, f);

        JFreeChart chart = new JFreeChart(f.title(), JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        LegendTitle legend = chart.getLegend();
        legend.setPosition(RectangleEdge.BOTTOM);
        return chart;
    }

    /** The x axis' automatic range ignores markers; widen it so every marker is visible. */
    private static void includeMarkers(NumberAxis x, Figure f) {
        if (f.markers().isEmpty()) {
            return;
        }
        Range r = x.getRange();
        double lo = r.getLowerBound(), hi = r.getUpperBound();
        for (Figure.Marker m : f.markers()) {
            lo = Math.min(lo, m.x());
            hi = Math.max(hi, m.x());
        }
        if (lo < r.getLowerBound() || hi > r.getUpperBound()) {
            double pad = 0.02 * (hi - lo);
            x.setRange(lo - pad, hi + pad);
        }
    }

    /** The lower end drawn: the point's 95 % interval when it has one, else mean - stderr. */
    private static double low(Figure f, Figure.Point p) {
        return f.errorStyle() != Figure.ErrorStyle.NONE && p.hasInterval() ? p.low() : p.mean() - stderrDrawn(f, p);
    }

    /** The upper end drawn, as {@link #low}. */
    private static double high(Figure f, Figure.Point p) {
        return f.errorStyle() != Figure.ErrorStyle.NONE && p.hasInterval() ? p.high() : p.mean() + stderrDrawn(f, p);
    }

    private static double stderrDrawn(Figure f, Figure.Point p) {
        return f.errorStyle() == Figure.ErrorStyle.NONE || Double.isNaN(p.stderr()) ? 0 : p.stderr();
    }
}
