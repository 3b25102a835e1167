package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.run.RunManifest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The phase markers of a reproduction folder. A phase is finished when its marker
 * {@code phases/<name>.done} exists; the marker is written (atomically, temporary file + rename) only after
 * every output of the phase, so a reproduce killed in the middle of a phase redoes that phase and no other.
 * The marker holds the numbers later phases need (chosen eps, lambdas, the figures' key values, and the
 * per-image results the report's intervals resample: 0/1 strings and comma-separated number lists) as
 * {@code key=value} lines in insertion order, plus the phase's wall time. {@code phases/log.txt} records, one
 * line per event, which phases ran and which were skipped (appended, never rewritten).
 */
public final class PhaseStore {
    private final Path dir;

    /** Markers under {@code out/phases}. */
    public PhaseStore(Path out) {
        this.dir = out.resolve("phases");
    }

    /** Whether phase {@code name} finished. */
    public boolean done(String name) {
        return Files.isRegularFile(marker(name));
    }

    /** Writes the marker of a finished phase: its values and its wall time in seconds (atomic). */
    public void finish(String name, Map<String, String> values, double seconds) throws IOException {
        Files.createDirectories(dir);
        StringBuilder b = new StringBuilder();
        for (var e : values.entrySet()) {
            check(e.getKey(), e.getValue());
            b.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        }
        b.append("seconds=").append(String.format(Locale.ROOT, "%.1f", seconds)).append('\n');
        RunManifest.AtomicFiles.writeString(marker(name), b.toString());
    }

    /**
     * The values stored by phase {@code name}.
     *
     * @throws IllegalStateException when the phase has not finished (a later phase needs it)
     */
    public Map<String, String> values(String name) throws IOException {
        if (!done(name)) {
            throw new IllegalStateException("phase " + name + " has not finished (no " + marker(name) + ")");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(marker(name), StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return m;
    }

    /** One value of a finished phase as a number. */
    public double number(String phase, String key) throws IOException {
        String v = values(phase).get(key);
        if (v == null) {
            throw new IllegalStateException("phase " + phase + " stored no value '" + key + "'");
        }
        return Double.parseDouble(v);
    }

    /** Appends one line to phases/log.txt. */
    public void log(String line) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("log.txt"), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /** The lines of phases/log.txt (empty when none). */
    public List<String> logLines() throws IOException {
        Path f = dir.resolve("log.txt");
        return Files.exists(f) ? Files.readAllLines(f, StandardCharsets.UTF_8) : List.of();
    }

    private Path marker(String name) {
        return dir.resolve(name + ".done");
    }

    private static void check(String key, String value) {
        if (key.isEmpty() || key.contains("=") || key.contains("\n") || value == null || value.contains("\n")) {
            throw new IllegalArgumentException("phase value '" + key + "' = '" + value + "' is not a one-line key=value");
        }
    }
}
