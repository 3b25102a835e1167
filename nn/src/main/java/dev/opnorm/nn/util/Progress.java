package dev.opnorm.nn.util;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A progress display for long work (an epoch, a norm sweep): done/total, a bar, the rate in units per
 * second, the ETA and extra {@code key=value} fields such as the running loss.
 * <pre>
 *   epoch 3 [##########----------]  50.0%  5000/10000 img  1234.5 img/s  ETA 00:04  loss=0.4123 acc=0.873
 * </pre>
 * Two modes:
 * <ul>
 *   <li>interactive (a terminal): the line is redrawn in place with {@code '\r'} at most every
 *       {@link #REDRAW_NANOS} (5 times a second), padded with spaces over a longer previous line;</li>
 *   <li>log (CI, a file): a plain line is printed each time the work crosses another
 *       {@code everyPercent} of the total, so a log gets about 100/everyPercent lines, not thousands.</li>
 * </ul>
 * {@link #finish()} always prints the final state and ends the line. The formatting is in static pure
 * functions ({@link #formatLine}, {@link #formatDuration}, {@link #formatRate}) so it can be tested without
 * a clock. Methods are synchronized: workers may report progress from several threads.
 */
public final class Progress {
    /** Minimum time between two in-place redraws. */
    public static final long REDRAW_NANOS = 200_000_000L;
    /** Width of the bar in characters. */
    public static final int BAR_WIDTH = 20;

    private final String label;
    private final long total;
    private final String unit;
    private final PrintStream out;
    private final boolean interactive;
    private final int everyPercent;
    private final LongSupplier nanoTime;
    private final long startNanos;
    private final Map<String, String> fields = new LinkedHashMap<>();

    private long done;
    private long lastDrawNanos = Long.MIN_VALUE;
    private int lastLength;
    private long nextLogPercent;
    private boolean finished;

    /**
     * @param label        what is being done, e.g. "epoch 3"
     * @param total        units of work (> 0)
     * @param unit         the unit's short name for the rate, e.g. "img"
     * @param out          where to print
     * @param interactive  redraw in place (true) or print a line every {@code everyPercent} (false)
     * @param everyPercent log mode: print every this many percent (1..100)
     * @param nanoTime     the clock, {@code System::nanoTime} outside tests
     */
    public Progress(String label, long total, String unit, PrintStream out, boolean interactive, int everyPercent,
            LongSupplier nanoTime) {
        if (total <= 0) {
            throw new IllegalArgumentException("progress total must be positive, got " + total);
        }
        if (everyPercent < 1 || everyPercent > 100) {
            throw new IllegalArgumentException("progress: everyPercent must be in 1..100, got " + everyPercent);
        }
        if (out == null || nanoTime == null) {
            throw new IllegalArgumentException("progress: out and nanoTime must not be null");
        }
        this.label = label == null ? "" : label;
        this.total = total;
        this.unit = unit == null ? "" : unit;
        this.out = out;
        this.interactive = interactive;
        this.everyPercent = everyPercent;
        this.nanoTime = nanoTime;
        this.startNanos = nanoTime.getAsLong();
        this.nextLogPercent = everyPercent;
    }

    /**
     * A progress display on {@code out}: interactive when the JVM runs in a terminal ({@link #isTerminal()}),
     * else a line every 10%.
     */
    public static Progress start(String label, long total, String unit, PrintStream out) {
        return new Progress(label, total, unit, out, isTerminal(), 10, System::nanoTime);
    }

    /**
     * True when the JVM is attached to a terminal: {@code System.console() != null} and, on JDK 22+ where a
     * console may exist for redirected streams, {@code Console.isTerminal()} (called reflectively: the code
     * targets Java 17).
     */
    public static boolean isTerminal() {
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return true; // before JDK 22 a non-null console means a terminal
        }
    }

    /** Adds {@code units} to the work done and redraws if due. */
    public synchronized Progress advance(long units) {
        if (units < 0) {
            throw new IllegalArgumentException("progress cannot go back: advance(" + units + ")");
        }
        return update(done + units);
    }

    /** Sets the work done (clamped to total) and redraws if due. */
    public synchronized Progress update(long doneNow) {
        if (doneNow < 0) {
            throw new IllegalArgumentException("progress: negative work done " + doneNow);
        }
        done = Math.min(doneNow, total);
        maybeDraw();
        return this;
    }

    /** Sets field {@code key} (shown as key=value after the ETA, in first-set order); shown at the next redraw. */
    public synchronized Progress field(String key, String value) {
        fields.put(key, value);
        return this;
    }

    /** {@link #field(String, String)} with a number formatted to 4 significant digits. */
    public synchronized Progress field(String key, double value) {
        return field(key, formatNumber(value));
    }

    /** Units done so far. */
    public synchronized long done() {
        return done;
    }

    /** Prints the final line (whatever the throttling) and ends it with a newline. Idempotent. */
    public synchronized void finish() {
        if (finished) {
            return;
        }
        finished = true;
        String line = currentLine();
        if (interactive) {
            out.print("\r" + padTo(line, lastLength) + System.lineSeparator());
        } else {
            out.println(line);
        }
        out.flush();
    }

    private void maybeDraw() {
        if (finished) {
            return;
        }
        long now = nanoTime.getAsLong();
        if (interactive) {
            if (lastDrawNanos != Long.MIN_VALUE && now - lastDrawNanos < REDRAW_NANOS) {
                return;
            }
            lastDrawNanos = now;
            String line = currentLine();
            out.print("\r" + padTo(line, lastLength));
            lastLength = line.length();
            out.flush();
        } else {
            long percent = done * 100 / total;
            if (percent >= nextLogPercent && done < total) { // 100% is printed by finish()
                nextLogPercent = (percent / everyPercent + 1) * everyPercent;
                out.println(currentLine());
                out.flush();
            }
        }
    }

    private String currentLine() {
        double elapsed = (nanoTime.getAsLong() - startNanos) * 1e-9;
        return formatLine(label, done, total, elapsed, unit, fields, BAR_WIDTH);
    }

    private static String padTo(String line, int length) {
        return line.length() >= length ? line : line + " ".repeat(length - line.length());
    }

    // ---- pure formatting ----

    /**
     * One progress line: {@code label [bar] pct% done/total unit rate unit/s ETA t fields}.
     * The rate and ETA are "?" while nothing is done or no time has passed.
     *
     * @param elapsedSeconds time since the start
     * @param fields         shown as {@code key=value}, space separated, in iteration order
     * @param barWidth       bar characters; 0 for no bar
     */
    public static String formatLine(String label, long done, long total, double elapsedSeconds, String unit,
            Map<String, String> fields, int barWidth) {
        StringBuilder sb = new StringBuilder();
        if (label != null && !label.isEmpty()) {
            sb.append(label).append(' ');
        }
        double frac = total > 0 ? Math.min(1.0, Math.max(0.0, (double) done / total)) : 0.0;
        if (barWidth > 0) {
            int filled = (int) Math.floor(frac * barWidth);
            sb.append('[').append("#".repeat(filled)).append("-".repeat(barWidth - filled)).append("] ");
        }
        sb.append(String.format(Locale.ROOT, "%5.1f%%", frac * 100));
        String u = unit == null || unit.isEmpty() ? "" : " " + unit;
        sb.append("  ").append(done).append('/').append(total).append(u);
        boolean known = done > 0 && elapsedSeconds > 0;
        double rate = known ? done / elapsedSeconds : Double.NaN;
        sb.append("  ").append(known ? formatRate(rate) : "?").append(u.isEmpty() ? " /s" : u + "/s");
        sb.append("  ETA ").append(known ? formatDuration((total - done) / rate) : "?");
        if (fields != null) {
            for (Map.Entry<String, String> e : fields.entrySet()) {
                sb.append("  ").append(e.getKey()).append('=').append(e.getValue());
            }
        }
        return sb.toString();
    }

    /**
     * A duration as {@code mm:ss} below an hour, {@code h:mm:ss} below a day and {@code Nd hh:mm:ss}
     * beyond; seconds are rounded up so a non-zero remainder never shows as 00:00; "?" when not finite or negative.
     */
    public static String formatDuration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = (long) Math.ceil(seconds);
        long days = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
        if (days > 0) {
            return String.format(Locale.ROOT, "%dd %02d:%02d:%02d", days, h, m, sec);
        }
        if (h > 0) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec);
        }
        return String.format(Locale.ROOT, "%02d:%02d", m, sec);
    }

    /** A rate with one decimal below 1000 and none above ({@code 12.3}, {@code 4567}); "?" when not finite. */
    public static String formatRate(double perSecond) {
        if (!Double.isFinite(perSecond)) {
            return "?";
        }
        return perSecond < 1000 ? String.format(Locale.ROOT, "%.1f", perSecond)
                : String.format(Locale.ROOT, "%.0f", perSecond);
    }

    /** A field value with 4 significant digits ({@code 0.4123}, {@code 12.35}, {@code 1.235e+05}). */
    public static String formatNumber(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return Double.toString(v);
        }
        double a = Math.abs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e5)) {
            return String.format(Locale.ROOT, "%.3e", v);
        }
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros()
                .toPlainString();
    }
}
