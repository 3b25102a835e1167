package dev.opnorm.experiments.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compares two run folders (e.g. a CPU run and an OpenCL run, or the same run on two machines) file by
 * file. CSV files are compared cell by cell: numbers by value, other cells as text; lines starting with
 * '#' (the provenance header) are skipped. Other files are compared by content. {@code run.json} is not
 * compared as a file: its fields decide which agreement to expect.
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
        Map<String, String> ma = manifest(a), mb = manifest(b);
        Expect expect = Expect.BIT_IDENTICAL;
        if (ma.isEmpty() || mb.isEmpty()) {
            notes.add("run.json missing in " + (ma.isEmpty() ? a : b) + ": expecting agreement within tolerance");
            expect = Expect.WITHIN_TOLERANCE;
        } else {
            for (String key : new TreeSet<>(union(ma.keySet(), mb.keySet()))) {
                if (!(key.startsWith("options.") || key.equals("backend") || key.equals("seed")
                        || key.equals("command") || key.equals("bn_mode") || key.equals("model"))) {
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
        TreeSet<String> names = new TreeSet<>(union(list(a), list(b)));
        names.remove("run.json");
        for (String name : names) {
            Path fa = a.resolve(name), fb = b.resolve(name);
            if (!Files.exists(fa) || !Files.exists(fb)) {
                files.add(new FileResult(name, "missing in " + (Files.exists(fa) ? "B" : "A"), false, 0, 0, List.of()));
            } else if (name.endsWith(".csv")) {
                files.add(compareCsv(name, fa, fb, expect, rtol, atol, top, ignored));
            } else {
                boolean same = RunManifest.sha256(fa).equals(RunManifest.sha256(fb));
                boolean ok = same || expect == Expect.WITHIN_TOLERANCE;
                files.add(new FileResult(name, same ? "identical" : ok ? "differs (not numeric, not checked)" : "DIFFERS",
                        ok, 1, 0, List.of()));
            }
        }
        return new Report(expect, notes, files);
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

    private static List<String> list(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).toList();
        }
    }

    private static <T> List<T> union(java.util.Collection<T> a, java.util.Collection<T> b) {
        List<T> r = new ArrayList<>(a);
        r.addAll(b);
        return r;
    }

    private static final Pattern FIELD = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern SECTION = Pattern.compile("\"(\\w+)\"\\s*:\\s*\\{([^}]*)\\}");

    /** The flat fields of run.json; options as "options.NAME". Empty when there is no run.json. */
    static Map<String, String> manifest(Path dir) throws IOException {
        Path f = dir.resolve("run.json");
        Map<String, String> m = new TreeMap<>();
        if (!Files.isRegularFile(f)) {
            return m;
        }
        String json = Files.readString(f);
        Matcher s = SECTION.matcher(json);
        StringBuilder top = new StringBuilder();
        int last = 0;
        while (s.find()) {
            top.append(json, last, s.start());
            last = s.end();
            Matcher fm = FIELD.matcher(s.group(2));
            while (fm.find()) {
                if (s.group(1).equals("options")) {
                    m.put("options." + fm.group(1), fm.group(2));
                }
            }
        }
        top.append(json.substring(last));
        Matcher fm = FIELD.matcher(top);
        while (fm.find()) {
            m.put(fm.group(1), fm.group(2));
        }
        return m;
    }
}
