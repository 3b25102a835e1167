package dev.opnorm.spark;

import dev.opnorm.experiments.run.RunManifest;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.RawLocalFileSystem;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The output location every task writes into, through Hadoop's {@link FileSystem} API: {@code file://} (a folder
 * every executor sees, e.g. an NFS mount) or any scheme whose file system is on the class path (hdfs://, s3a://,
 * ...). Files are written atomically: a temporary file in the same folder, then a rename.
 *
 * <p>The training and figure code writes through {@link java.nio.file}. On a local file system it works in the
 * shared folder itself; on any other scheme a task works in a {@link Workspace}: a local copy of one folder,
 * pulled before the work and pushed back (changed files only, phase markers last) after each resumable step, so a
 * task that a lost executor leaves unfinished resumes elsewhere from what was pushed.
 */
public final class SharedStore implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Files a workspace never copies: a folder's lock (per process) and temporary files of atomic writes. */
    private static final List<String> PRIVATE_SUFFIXES = List.of(".opnorm.lock", ".tmp");

    private final String uri;
    private final Map<String, String> conf;
    private transient FileSystem fs;

    private SharedStore(String uri, Map<String, String> conf) {
        this.uri = uri;
        this.conf = conf;
    }

    /**
     * The location {@code location}: a URI with a scheme, or a plain path (a local folder, made absolute).
     *
     * @param flag the option that named it, for errors
     * @param conf Hadoop settings (e.g. fs.s3a.endpoint), passed to every executor
     */
    public static SharedStore of(String location, String flag, Map<String, String> conf) {
        if (location == null || location.isBlank()) {
            throw new IllegalArgumentException(flag + " must name a folder or a URI");
        }
        String u;
        try {
            URI parsed = new URI(location);
            u = parsed.getScheme() != null && parsed.getScheme().length() > 1 ? parsed.toString()
                    : Path.of(location).toAbsolutePath().normalize().toUri().toString();
        } catch (URISyntaxException e) {
            u = Path.of(location).toAbsolutePath().normalize().toUri().toString();
        }
        while (u.endsWith("/") && !u.endsWith(":///")) {
            u = u.substring(0, u.length() - 1);
        }
        SharedStore s = new SharedStore(u, new LinkedHashMap<>(conf));
        try {
            s.fs();
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException(flag + " " + location + ": no file system for it on the class path ("
                    + e.getCause().getMessage() + ")");
        }
        return s;
    }

    /** The location as a URI string. */
    public String uri() {
        return uri;
    }

    /** The file system (opened lazily on each JVM). */
    public FileSystem fs() {
        if (fs == null) {
            Configuration c = new Configuration();
            conf.forEach(c::set);
            try {
                fs = FileSystem.get(URI.create(uri), c);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return fs;
    }

    /** Whether the location is a local folder that {@link java.nio.file} reaches directly. */
    public boolean isLocal() {
        FileSystem f = fs();
        return f instanceof LocalFileSystem || f.getClass() == RawLocalFileSystem.class;
    }

    /** The local folder of a {@link #isLocal()} location. */
    public Path localPath() {
        if (!isLocal()) {
            throw new IllegalStateException(uri + " is not a local folder");
        }
        return Path.of(URI.create(uri));
    }

    /** The Hadoop path of {@code relative} ("" = the location itself). */
    public org.apache.hadoop.fs.Path path(String relative) {
        return relative.isEmpty() ? new org.apache.hadoop.fs.Path(uri) : new org.apache.hadoop.fs.Path(uri + "/" + relative);
    }

    public boolean exists(String relative) throws IOException {
        return fs().exists(path(relative));
    }

    public String readString(String relative) throws IOException {
        try (InputStream in = fs().open(path(relative))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    public void writeString(String relative, String content) throws IOException {
        writeBytes(relative, content.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes a file atomically: a temporary file next to it, then a rename over it. */
    public void writeBytes(String relative, byte[] content) throws IOException {
        if (isLocal()) {
            RunManifest.AtomicFiles.writeBytes(localPath().resolve(relative), content);
            return;
        }
        upload(relative, out -> out.write(content));
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    private void upload(String relative, Body body) throws IOException {
        FileSystem f = fs();
        org.apache.hadoop.fs.Path target = path(relative);
        org.apache.hadoop.fs.Path tmp = new org.apache.hadoop.fs.Path(target.getParent(),
                "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
        f.mkdirs(target.getParent());
        try (FSDataOutputStream out = f.create(tmp, true)) {
            body.write(out);
        }
        // FileSystem.rename does not replace: a reader sees the old file or the new one, never a partial one
        if (f.exists(target)) {
            f.delete(target, false);
        }
        if (!f.rename(tmp, target)) {
            f.delete(tmp, false);
            throw new IOException("cannot rename " + tmp + " to " + target);
        }
    }

    /**
     * A working folder for {@code relative}: the shared folder itself on a local file system, else a local copy
     * under {@code scratch} pulled now and pushed by {@link Workspace#push()}.
     */
    public Workspace workspace(String relative, Path scratch) throws IOException {
        if (isLocal()) {
            Path dir = relative.isEmpty() ? localPath() : localPath().resolve(relative);
            Files.createDirectories(dir);
            return new Workspace(this, relative, dir, null);
        }
        Path dir = scratch.resolve(UUID.randomUUID().toString());
        Files.createDirectories(dir);
        Workspace w = new Workspace(this, relative, dir, new LinkedHashMap<>());
        w.pull();
        return w;
    }

    /** Deletes a local scratch folder and what it holds; a failure leaves scratch space behind, nothing more. */
    static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            // scratch space only
        }
    }

    /** A local folder that mirrors one shared folder (or is it). */
    public static final class Workspace implements AutoCloseable {
        private final SharedStore store;
        private final String relative;
        private final Path dir;
        /** Local files as last pulled or pushed (relative name to size and SHA-256); null: the shared folder itself. */
        private final Map<String, String> synced;

        private Workspace(SharedStore store, String relative, Path dir, Map<String, String> synced) {
            this.store = store;
            this.relative = relative;
            this.dir = dir;
            this.synced = synced;
        }

        /** The folder to work in. */
        public Path dir() {
            return dir;
        }

        /** Whether this is a copy (pushed back) rather than the shared folder itself. */
        public boolean staged() {
            return synced != null;
        }

        private void pull() throws IOException {
            FileSystem f = store.fs();
            org.apache.hadoop.fs.Path root = store.path(relative);
            if (!f.exists(root)) {
                return;
            }
            String prefix = root.toUri().getPath();
            List<FileStatus> files = new ArrayList<>();
            listRecursively(f, root, files);
            for (FileStatus st : files) {
                String rel = st.getPath().toUri().getPath().substring(prefix.length() + 1);
                if (isPrivate(rel)) {
                    continue;
                }
                Path local = dir.resolve(rel);
                Files.createDirectories(local.getParent());
                try (FSDataInputStream in = f.open(st.getPath())) {
                    Files.copy(in, local, StandardCopyOption.REPLACE_EXISTING);
                }
                synced.put(rel, fingerprint(local));
            }
        }

        private static void listRecursively(FileSystem f, org.apache.hadoop.fs.Path dir, List<FileStatus> into)
                throws IOException {
            for (FileStatus st : f.listStatus(dir)) {
                if (st.isDirectory()) {
                    listRecursively(f, st.getPath(), into);
                } else {
                    into.add(st);
                }
            }
        }

        /**
         * Copies every file that changed since the last pull or push to the shared folder (atomically each), the
         * phase markers (phases/*.done) and run.json last so that a marker never precedes its outputs, and deletes
         * there what was deleted here (e.g. a checkpoint once its training finished).
         */
        public void push() throws IOException {
            if (synced == null) {
                return;
            }
            List<String> changed = new ArrayList<>(), last = new ArrayList<>();
            Map<String, String> now = new LinkedHashMap<>();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.filter(Files::isRegularFile).sorted(Comparator.naturalOrder()).toList()) {
                    String rel = dir.relativize(p).toString().replace('\\', '/');
                    if (isPrivate(rel)) {
                        continue;
                    }
                    String fp = fingerprint(p);
                    now.put(rel, fp);
                    if (!fp.equals(synced.get(rel))) {
                        (rel.endsWith(".done") || rel.endsWith("run.json") ? last : changed).add(rel);
                    }
                }
            }
            changed.addAll(last);
            for (String rel : changed) {
                Path p = dir.resolve(rel);
                store.upload(join(rel), out -> Files.copy(p, out));
                synced.put(rel, now.get(rel));
            }
            for (String rel : new ArrayList<>(synced.keySet())) {
                if (!now.containsKey(rel)) {
                    store.fs().delete(store.path(join(rel)), false);
                    synced.remove(rel);
                }
            }
        }

        private String join(String rel) {
            return relative.isEmpty() ? rel : relative + "/" + rel;
        }

        /** Removes a staged copy (the shared folder itself stays). */
        @Override
        public void close() throws IOException {
            if (synced == null) {
                return;
            }
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }

        private static boolean isPrivate(String rel) {
            String name = rel.substring(rel.lastIndexOf('/') + 1);
            return PRIVATE_SUFFIXES.stream().anyMatch(name::endsWith);
        }

        /** Size and modification time: cheap enough to check after every training step. */
        private static String fingerprint(Path p) throws IOException {
            return Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis();
        }
    }
}
