package dev.opnorm.experiments.run;

import dev.opnorm.nn.checkpoint.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Compares two run folders (e.g. a CPU run and an OpenCL run, or the same run on two machines) file by
 * file. CSV files are compared cell by cell: numbers by value, other cells as text; lines starting with
 * '#' (the provenance lines of older runs; provenance now lives in run.json) are skipped, and so are the
 * {@link #TIMING_COLUMNS} (listed in the notes). Other files are compared by content. The lock file and temporary files of interrupted writes are no results and are
 * ignored; a folder without any result is an error. {@code run.json} is not compared as a file: parsed as JSON,
 * its fields decide which agreement to expect (each differing option is named), and a status saying the run did
 * not finish is a mismatch.
 *
 * <p>Expected agreement: when both runs used the same backend and the same resolved options (the thread
 * count may differ), results must be bit-identical; otherwise numbers must agree within
 * |a - b| <= rtol * max(|a|, |b|) + atol.
 */
public final class RunComparison {

    /** How two runs are expected to agree. */
    public enum Expect { BIT_IDENTICAL, WITHIN_TOLERANCE }

    /** One differing number: where it is and how far apart. */
    public record Difference(String file, int line, String column, double a, double b, double relative) {
    }

    /** The verdict for one file. */
    public record FileResult(String file, String status, boolean ok, int compared, double maxRelative,
                             List<Difference> largest) {
    }

    /** All files; {@link #ok()} when every file agrees as expected. */
    public record Report(Expect expect, List<String> notes, List<FileResult> files) {
        public boolean ok() {
            return files.stream().allMatch(FileResult::ok);
        }
    }

    private RunComparison() {
    }

    /**
     * Compares the two folders.
     *
     * @param rtol relative tolerance across backends (e.g. 1e-4)
     * @param atol absolute tolerance floor for values near zero
     * @param top  how many of the largest differences to keep per file
     */
    public static Report compare(Path a, Path b, double rtol, double atol, int top) throws IOException {
        return compare(a, b, rtol, atol, top, java.util.Set.of());
    }

    /**
     * As {@link #compare(Path, Path, double, double, int)}, skipping the CSV columns named in {@code ignored}
     * (diagnostics such as iteration counts, which legitimately differ across backends).
     */
    public static Report compare(Path a, Path b, double rtol, double atol, int top, java.util.Set<String> ignored)
            throws IOException {
        for (Path p : List.of(a, b)) {
            if (!Files.isDirectory(p)) {
                throw new IOException(p + ": not a run folder (no such directory)");
            }
        }
        List<String> notes = new ArrayList<>();
        List<String> resultsA = list(a), resultsB = list(b);
        for (Path p : List.of(a, b)) {
            if ((p == a ? resultsA : resultsB).stream().allMatch(n -> n.equals("run.json"))) {
                throw new IOException(p + ": not a run folder (it holds no results"
                        + (Files.isRegularFile(p.resolve("run.json")) ? ", only run.json" : "") + ")");
            }
        }
        Map<String, String> ma = manifest(a), mb = manifest(b);
        Expect expect = Expect.BIT_IDENTICAL;
        if (ma.isEmpty() || mb.isEmpty()) {
            notes.add("run.json missing in " + (ma.isEmpty() ? a : b) + ": expecting agreement within tolerance");
            expect = Expect.WITHIN_TOLERANCE;
        } else {
            for (String key : new TreeSet<>(union(ma.keySet(), mb.keySet()))) {
                if (!(key.startsWith("options.") || key.equals("backend") || key.equals("seed")
                        || key.equals("command") || key.equals("bn_mode") || key.equals("model"))
                        || FREE_OPTIONS.contains(key)) {
                    continue;
                }
                String va = ma.get(key), vb = mb.get(key);
                if (va == null ? vb != null : !va.equals(vb)) {
                    notes.add(key + " differs: " + va + " vs " + vb);
                    expect = Expect.WITHIN_TOLERANCE;
                }
            }
            if (!String.valueOf(ma.get("threads")).equals(String.valueOf(mb.get("threads")))) {
                notes.add("threads differ (" + ma.get("threads") + " vs " + mb.get("threads")
                        + "): results must not depend on it");
            }
        }
        List<FileResult> files = new ArrayList<>();
        for (Path p : List.of(a, b)) {
            String status = (p == a ? ma : mb).get("status");
            if (status != null && UNFINISHED.matcher(status).lookingAt()) {
                files.add(new FileResult("run.json", (p == a ? "A" : "B") + " DID NOT FINISH: " + status, false, 0, 0,
                        List.of()));
            }
        }
        Set<String> timings = new TreeSet<>();
        TreeSet<String> names = new TreeSet<>(union(resultsA, resultsB));
        names.remove("run.json");
        for (String name : names) {
            Path fa = a.resolve(name), fb = b.resolve(name);
            if (!Files.exists(fa) || !Files.exists(fb)) {
                files.add(new FileResult(name, "missing in " + (Files.exists(fa) ? "B" : "A"), false, 0, 0, List.of()));
            } else if (name.endsWith(".csv")) {
                Set<String> skip = new java.util.HashSet<>(ignored);
                for (String c : header(fa)) {
                    if (TIMING_COLUMNS.contains(c)) {
                        skip.add(c);
                        timings.add(name + ":" + c);
                    }
                }
                files.add(compareCsv(name, fa, fb, expect, rtol, atol, top, skip));
            } else {
                boolean same = RunManifest.sha256(fa).equals(RunManifest.sha256(fb));
                boolean ok = same || expect == Expect.WITHIN_TOLERANCE;
                files.add(new FileResult(name, same ? "identical" : ok ? "differs (not numeric, not checked)" : "DIFFERS",
                        ok, 1, 0, List.of()));
            }
        }
        if (!timings.isEmpty()) {
            notes.add("timing columns not compared (they differ from run to run): " + String.join(", ", timings));
        }
        return new Report(expect, notes, files);
    }

    /** CSV columns that measure time, not results: never compared. */
    public static final Set<String> TIMING_COLUMNS = Set.of("seconds", "images_per_s", "cpu_seconds", "wall_seconds",
            "ms", "millis");

    /** Options that name where and how a run was started, not what it computed. */
    static final Set<String> FREE_OPTIONS = Set.of("options.out", "options.resume", "options.force");

    /** run.json statuses of runs that did not end normally. */
    private static final Pattern UNFINISHED = Pattern.compile("running|interrupted|killed|failed|diverged|stopped:");

    private static List<String> header(Path csv) throws IOException {
        List<String> lines = dataLines(csv);
        return lines.isEmpty() ? List.of() : List.of(lines.get(0).split(",", -1));
    }

    static FileResult compareCsv(String name, Path fa, Path fb, Expect expect, double rtol, double atol, int top,
            java.util.Set<String> ignored) throws IOException {
        List<String> la = dataLines(fa), lb = dataLines(fb);
        if (la.size() != lb.size()) {
            return new FileResult(name, "DIFFERENT ROW COUNT " + la.size() + " vs " + lb.size(), false, 0, 0, List.of());
        }
        if (la.isEmpty()) {
            return new FileResult(name, "identical (empty)", true, 0, 0, List.of());
        }
        String[] header = la.get(0).split(",", -1);
        if (!la.get(0).equals(lb.get(0))) {
            return new FileResult(name, "DIFFERENT HEADER", false, 0, 0, List.of());
        }
        List<Difference> diffs = new ArrayList<>();
        boolean textMismatch = false, exact = true, ok = true;
        int compared = 0;
        double maxRel = 0;
        for (int i = 1; i < la.size(); i++) {
            String[] ca = la.get(i).split(",", -1), cb = lb.get(i).split(",", -1);
            if (ca.length != cb.length) {
                return new FileResult(name, "DIFFERENT COLUMN COUNT at data line " + i, false, compared, maxRel, diffs);
            }
            for (int j = 0; j < ca.length; j++) {
                if (j < header.length && ignored.contains(header[j])) {
                    continue;
                }
                if (ca[j].equals(cb[j])) {
                    compared++;
                    continue;
                }
                Double va = number(ca[j]), vb = number(cb[j]);
                compared++;
                if (va == null || vb == null) {
                    textMismatch = true;
                    continue;
                }
                double d = Math.abs(va - vb);
                if (d == 0) {
                    continue;
                }
                exact = false;
                double rel = d / Math.max(Math.abs(va), Math.abs(vb));
                maxRel = Math.max(maxRel, rel);
                if (expect == Expect.BIT_IDENTICAL || d > rtol * Math.max(Math.abs(va), Math.abs(vb)) + atol) {
                    ok = false;
                }
                diffs.add(new Difference(name, i, j < header.length ? header[j] : "#" + j, va, vb, rel));
            }
        }
        diffs.sort(Comparator.comparingDouble(Difference::relative).reversed());
        List<Difference> largest = List.copyOf(diffs.subList(0, Math.min(top, diffs.size())));
        if (textMismatch) {
            return new FileResult(name, "TEXT CELLS DIFFER", false, compared, maxRel, largest);
        }
        String status = exact ? "identical" : ok ? "within tolerance" : expect == Expect.BIT_IDENTICAL
                ? "NOT BIT-IDENTICAL" : "OUTSIDE TOLERANCE";
        return new FileResult(name, status, ok, compared, maxRel, largest);
    }

    private static final Pattern NUMBER = Pattern.compile("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?|[-+]?(NaN|Infinity)");

    private static Double number(String s) {
        String t = s.trim();
        return NUMBER.matcher(t).matches() ? Double.valueOf(t) : null;
    }

    private static List<String> dataLines(Path p) throws IOException {
        return Files.readAllLines(p).stream().filter(l -> !l.startsWith("#") && !l.isBlank()).toList();
    }

    /** Result files of a run folder: regular files, without the lock file and temporary files of killed writes. */
    private static List<String> list(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().equals(RunFolder.LOCK_FILE)
                            && !RunFolder.isTemporary(p.getFileName().toString()))
                    .map(p -> dir.relativize(p).toString()).toList();
        }
    }

    private static <T> List<T> union(java.util.Collection<T> a, java.util.Collection<T> b) {
        List<T> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }

    /**
     * The fields of run.json, parsed as JSON: top-level strings (and numbers) as they are, options as
     * "options.NAME". Empty when there is no run.json.
     *
     * @throws IOException naming the file when it is not a JSON object
     */
    static Map<String, String> manifest(Path dir) throws IOException {
        Path f = dir.resolve("run.json");
        Map<String, String> m = new TreeMap<>();
        if (!Files.isRegularFile(f)) {
            return m;
        }
        Map<String, Object> json;
        try {
            json = Json.parseObject(Files.readString(f));
        } catch (Json.JsonException e) {
            throw new IOException(f + ": not valid JSON: " + e.getMessage());
        }
        for (Map.Entry<String, Object> e : json.entrySet()) {
            if (e.getValue() instanceof Map<?, ?> section) {
                if (e.getKey().equals("options")) {
                    section.forEach((k, v) -> m.put("options." + k, scalar(v)));
                }
            } else {
                m.put(e.getKey(), scalar(e.getValue()));
            }
        }
        return m;
    }

    private static String scalar(Object v) {
        return v instanceof String s ? s : Json.write(v);
    }
}
