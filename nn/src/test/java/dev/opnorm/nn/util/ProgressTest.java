package dev.opnorm.nn.util;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ProgressTest {
    /** A clock the test moves by hand: the throttling logic is tested, not timing. */
    private static final class FakeClock {
        long nanos = 1_000_000_000L;
    }

    @Test
    void formatLine_showsBarPercentRateEtaAndFields() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("loss", "0.4123");
        f.put("acc", "0.873");
        String line = Progress.formatLine("epoch 3", 5000, 10000, 4.0, "img", f, 20);
        assertEquals("epoch 3 [##########----------]  50.0%  5000/10000 img  1250 img/s  ETA 00:04  loss=0.4123  acc=0.873",
                line);
    }

    @Test
    void formatLine_unknownRateAndEta_beforeAnyWork() {
        String line = Progress.formatLine("", 0, 7, 0.0, "", Map.of(), 4);
        assertEquals("[----]   0.0%  0/7  ? /s  ETA ?", line);
    }

    @Test
    void formatLine_fullBar_atTotal_andRoundsBarDown() {
        assertTrue(Progress.formatLine("x", 9, 9, 3, "it", null, 10).startsWith("x [##########] 100.0%  9/9 it  3.0 it/s  ETA 00:00"));
        // 19/20 of a 10-wide bar is 9.5 characters: floor, never a full bar before the end
        assertTrue(Progress.formatLine("x", 19, 20, 1, "it", null, 10).startsWith("x [#########-]  95.0%"));
    }

    @Test
    void formatDuration_formats() {
        assertEquals("00:00", Progress.formatDuration(0));
        assertEquals("00:01", Progress.formatDuration(0.2)); // rounded up: never 00:00 while work remains
        assertEquals("01:05", Progress.formatDuration(65));
        assertEquals("1:00:00", Progress.formatDuration(3600));
        assertEquals("1d 01:01:01", Progress.formatDuration(90061));
        assertEquals("?", Progress.formatDuration(Double.POSITIVE_INFINITY));
        assertEquals("?", Progress.formatDuration(-1));
    }

    @Test
    void formatRateAndNumber_format() {
        assertEquals("12.3", Progress.formatRate(12.34));
        assertEquals("4568", Progress.formatRate(4567.6));
        assertEquals("?", Progress.formatRate(Double.NaN));
        assertEquals("0.4123", Progress.formatNumber(0.41234));
        assertEquals("100", Progress.formatNumber(100));
        assertEquals("0", Progress.formatNumber(0));
        assertEquals("1.235e+05", Progress.formatNumber(123456));
        assertEquals("-2.500e-04", Progress.formatNumber(-0.00025));
    }

    @Test
    void logMode_printsOneLinePerStep_andFinishOnce() {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        FakeClock clock = new FakeClock();
        Progress p = new Progress("run", 100, "img", new PrintStream(bo, true, StandardCharsets.UTF_8), false, 25,
                () -> clock.nanos);
        for (int i = 0; i < 100; i++) {
            clock.nanos += 10_000_000L;
            p.advance(1);
        }
        p.field("loss", 0.5).finish();
        p.finish();
        String[] lines = bo.toString(StandardCharsets.UTF_8).split("\\R");
        assertEquals(4, lines.length, String.join("\n", lines)); // 25%, 50%, 75%, then finish at 100%
        assertTrue(lines[0].contains(" 25.0%"), lines[0]);
        assertTrue(lines[2].contains(" 75.0%"), lines[2]);
        assertTrue(lines[3].contains("100.0%  100/100 img  100.0 img/s  ETA 00:00  loss=0.5"), lines[3]);
        assertFalse(bo.toString(StandardCharsets.UTF_8).contains("\r"));
    }

    @Test
    void logMode_bigJumpPrintsOnce() {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        Progress p = new Progress("", 10, "", new PrintStream(bo, true, StandardCharsets.UTF_8), false, 10, () -> 0L);
        p.update(7); // 70%: one line, not seven
        p.update(8);
        assertEquals(2, bo.toString(StandardCharsets.UTF_8).split("\\R").length);
    }

    @Test
    void interactiveMode_redrawsInPlace_atMostEveryRedrawInterval() {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        FakeClock clock = new FakeClock();
        Progress p = new Progress("e", 1000, "img", new PrintStream(bo, true, StandardCharsets.UTF_8), true, 10,
                () -> clock.nanos);
        for (int i = 0; i < 1000; i++) {
            clock.nanos += 1_000_000L; // 1 ms per unit: 1 s in total -> about 5 redraws
            p.advance(1);
        }
        p.finish();
        String s = bo.toString(StandardCharsets.UTF_8);
        long redraws = s.chars().filter(c -> c == '\r').count();
        assertEquals(5 + 1, redraws, s); // at units 1, 201, 401, 601, 801 (200 ms apart), then finish
        assertTrue(s.endsWith(System.lineSeparator()));
        assertEquals(1, s.split("\n").length); // one physical line: every redraw returns with '\r'
    }

    @Test
    void interactiveMode_padsOverALongerPreviousLine() {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        Progress p = new Progress("e", 10, "", new PrintStream(bo, true, StandardCharsets.UTF_8), true, 10, () -> 0L);
        p.field("note", "a-very-long-value").update(1);
        p.field("note", "x");
        p.finish();
        String[] draws = bo.toString(StandardCharsets.UTF_8).split("\r");
        String last = draws[2].replace(System.lineSeparator(), "");
        assertTrue(last.stripTrailing().endsWith("note=x"), last);
        assertEquals(draws[1].length(), last.length()); // padded with spaces over the longer first draw
    }

    @Test
    void start_underTestRunner_isNotATerminal_soLogsPlainLines() {
        // surefire runs tests with redirected streams: no terminal, so no '\r' redraws in CI logs
        assertFalse(Progress.isTerminal());
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        Progress p = Progress.start("t", 4, "it", new PrintStream(bo, true, StandardCharsets.UTF_8));
        p.advance(4);
        p.finish();
        assertFalse(bo.toString(StandardCharsets.UTF_8).contains("\r"));
    }

    @Test
    void constructorAndUpdates_rejectBadInput() {
        PrintStream o = new PrintStream(new ByteArrayOutputStream());
        assertThrows(IllegalArgumentException.class, () -> new Progress("", 0, "", o, false, 10, () -> 0L));
        assertThrows(IllegalArgumentException.class, () -> new Progress("", 5, "", o, false, 0, () -> 0L));
        Progress p = new Progress("", 5, "", o, false, 10, () -> 0L);
        assertThrows(IllegalArgumentException.class, () -> p.advance(-1));
        p.update(50);
        assertEquals(5, p.done()); // clamped to total
    }
}
