package dev.opnorm.experiments.run;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a run needs to be reproduced and compared: the command and its resolved options, the seed, the
 * opnorm version and git commit, JDK, OS, CPU model and cores, backend and device, thread count, and
 * SHA-256 of inputs and outputs. Written as {@code run.json} into the run's output folder, with typed values:
 * numbers as JSON numbers, booleans as booleans, everything else as strings. This is the provenance of a run's
 * CSV files, which start directly with their header row.
 */
public final class RunManifest {
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final Map<String, Object> options = new LinkedHashMap<>();
    private final Map<String, String> inputs = new LinkedHashMap<>();
    private final Map<String, String> outputs = new LinkedHashMap<>();

    public RunManifest(String command) {
        fields.put("command", command);
        fields.put("opnorm_version", version());
        fields.put("git_commit", gitCommit());
        fields.put("jdk", System.getProperty("java.vendor") + " " + System.getProperty("java.version"));
        fields.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        fields.put("cpu", cpuModel());
        fields.put("cores", Runtime.getRuntime().availableProcessors());
    }

    /** The resource Maven fills with the project version (experiments/pom.xml filters it). */
    static final String VERSION_RESOURCE = "/dev/opnorm/experiments/version.properties";

    /**
     * The opnorm version: the Maven-filtered {@link #VERSION_RESOURCE} (present whether the classes run from a jar
     * or from target/classes), else the jar manifest's Implementation-Version, else "unknown".
     */
    public static String version() {
        try (InputStream in = RunManifest.class.getResourceAsStream(VERSION_RESOURCE)) {
            if (in != null) {
                java.util.Properties p = new java.util.Properties();
                p.load(in);
                String v = p.getProperty("version", "").trim();
                if (!v.isEmpty() && !v.contains("${")) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through to the manifest
        }
        String v = RunManifest.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }

    /**
     * Sets a top-level field (backend, device, threads, seed...): numbers and booleans keep their type in run.json,
     * null is null, anything else is written as its string.
     */
    public RunManifest put(String key, Object value) {
        fields.put(key, typed(value));
        return this;
    }

    /** Records a resolved option (typed as {@link #put}). */
    public RunManifest option(String key, Object value) {
        options.put(key, typed(value));
        return this;
    }

    private static Object typed(Object v) {
        if (v == null) {
            return null; // JSON null: e.g. a step that does not apply
        }
        if (v instanceof Number n) {
            return n instanceof Float || n instanceof Double ? (Object) n.doubleValue() : (Object) n.longValue();
        }
        return v instanceof Boolean ? v : String.valueOf(v);
    }

    /** Records an input file with its SHA-256 (a folder: each regular file in it). */
    public RunManifest input(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            try (var s = Files.list(file)) {
                for (Path p : s.sorted().toList()) {
                    if (Files.isRegularFile(p)) {
                        inputs.put(p.toString(), sha256(p));
                    }
                }
            }
        } else {
            inputs.put(file.toString(), sha256(file));
        }
        return this;
    }

    /** Records an output file (by name relative to the run folder) with its SHA-256. */
    public RunManifest output(Path dir, String name) throws IOException {
        outputs.put(name, sha256(dir.resolve(name)));
        return this;
    }

    /**
     * The top-level fields so far (command, commit, JDK, backend...), in insertion order, as Long, Double, Boolean
     * or String; read-only.
     */
    public Map<String, Object> fields() {
        return java.util.Collections.unmodifiableMap(fields);
    }

    /** The resolved options so far, in insertion order, typed as {@link #fields}; read-only. */
    public Map<String, Object> options() {
        return java.util.Collections.unmodifiableMap(options);
    }

    public String json() {
        StringBuilder b = new StringBuilder("{\n");
        fields.forEach((k, v) -> b.append("  ").append(q(k)).append(": ").append(scalar(v)).append(",\n"));
        section(b, "options", options);
        b.append(",\n");
        section(b, "inputs_sha256", inputs);
        b.append(",\n");
        section(b, "outputs_sha256", outputs);
        return b.append("\n}\n").toString();
    }

    /**
     * A parsed run.json (e.g. one whose status is to change) in the layout {@link #json()} writes: scalars
     * first, then the sections (objects of scalars); numbers, booleans and nulls keep their type.
     */
    public static String render(Map<String, Object> json) {
        StringBuilder b = new StringBuilder("{\n");
        int i = 0;
        for (var e : json.entrySet()) {
            b.append(i++ == 0 ? "" : ",\n");
            if (e.getValue() instanceof Map<?, ?> m) {
                Map<String, Object> values = new LinkedHashMap<>();
                m.forEach((k, v) -> values.put(String.valueOf(k), v));
                section(b, e.getKey(), values);
            } else {
                b.append("  ").append(q(e.getKey())).append(": ").append(scalar(e.getValue()));
            }
        }
        return b.append("\n}\n").toString();
    }

    /** Writes run.json atomically into dir. */
    public void write(Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve("run.json"), json());
    }

    private static void section(StringBuilder b, String name, Map<String, ?> m) {
        b.append("  ").append(q(name)).append(": {");
        int i = 0;
        for (var e : m.entrySet()) {
            b.append(i++ == 0 ? "\n" : ",\n").append("    ").append(q(e.getKey())).append(": ")
                    .append(scalar(e.getValue()));
        }
        b.append(m.isEmpty() ? "}" : "\n  }");
    }

    /** A JSON scalar: integers and finite doubles as numbers (non-finite ones as null), booleans, null, strings. */
    static String scalar(Object v) {
        if (v == null) {
            return "null";
        } else if (v instanceof Boolean bool) {
            return bool.toString();
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return v.toString();
        } else if (v instanceof Number n) {
            double d = n.doubleValue();
            return Double.isFinite(d) ? Double.toString(d) : "null";
        }
        return q(String.valueOf(v));
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
            StringBuilder b = new StringBuilder();
            for (byte x : md.digest()) {
                b.append(String.format(Locale.ROOT, "%02x", x));
            }
            return b.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The commit of the working tree the code runs from, or "unknown" outside a git checkout. */
    static String gitCommit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() == 0 && out.matches("[0-9a-f]{40}")) {
                Process d = new ProcessBuilder("git", "status", "--porcelain", "--untracked-files=no")
                        .redirectErrorStream(true).start();
                String dirty = new String(d.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                d.waitFor();
                return dirty.isEmpty() ? out : out + "+uncommitted";
            }
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "unknown";
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    /** Atomic writes: a temporary file in the same folder, then a rename. */
    public static final class AtomicFiles {
        private AtomicFiles() {
        }

        public static void writeString(Path target, String content) throws IOException {
            writeBytes(target, content.getBytes(StandardCharsets.UTF_8));
        }

        public static void writeBytes(Path target, byte[] content) throws IOException {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            try {
                Files.write(tmp, content);
                // createTempFile makes the file private (0600); results are meant to be shared like any file
                if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
                    Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                }
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
