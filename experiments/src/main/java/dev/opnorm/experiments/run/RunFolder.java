package dev.opnorm.experiments.run;

import dev.opnorm.nn.checkpoint.Json;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * A run's output folder, owned by one process at a time, claimed before any computation.
 *
 * <p><b>The lock.</b> {@value #LOCK_FILE} in the folder holds the owner's pid, the start time of that
 * process and the command. The owner also holds an OS lock on that file, which the OS drops when the
 * process dies however it dies. A claim fails while another process (or another command in this JVM) holds
 * the OS lock, and also when the file names a process that is still alive and started at the recorded time
 * (a file system that ignores OS locks must not let two runs share a folder). A lock whose process is gone
 * is stale: the claim takes it over and says so. Releasing empties the file and drops the OS lock; the empty
 * file stays, because deleting a lock file that another process may just have opened would let two
 * processes lock two different files of the same name.
 *
 * <p><b>Earlier results.</b> A folder that holds anything but the lock file and temporary files is refused
 * unless the caller was told to replace ({@link Policy#REPLACE}, the --force flag) or to continue
 * ({@link Policy#RESUME}: only a folder whose run.json was written by the same command, or that holds the
 * command's resume marker, e.g. a training checkpoint). Temporary files of writes that a kill interrupted
 * (".NAME....tmp", see {@link RunManifest.AtomicFiles}) are removed once the folder is owned: no one else
 * writes there any more.
 *
 * <p><b>Exit.</b> A JVM shutdown hook (SIGINT, SIGTERM, System.exit) runs the actions registered with
 * {@link #onShutdown} (e.g. stop training at the next step and checkpoint) and then releases the lock.
 */
public final class RunFolder implements AutoCloseable {
    /** The lock file's name. */
    public static final String LOCK_FILE = ".opnorm.lock";

    /** What to do with a folder that already holds results. */
    public enum Policy {
        /** Refuse it (the default of every command). */
        REFUSE,
        /** Write into it anyway, replacing what the command writes (--force). */
        REPLACE,
        /** Continue the same command's run there (train --resume, reproduce). */
        RESUME
    }

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;
    private final List<String> notes = new ArrayList<>();
    private final List<Runnable> shutdownActions = new CopyOnWriteArrayList<>();
    private final Thread hook;
    private boolean released;

    private RunFolder(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
        this.hook = new Thread(this::onJvmExit, "opnorm-run-folder-exit");
    }

    /**
     * Checks and claims {@code dir} as the output folder of {@code command}.
     *
     * @param flag         the option that named the folder, for messages (e.g. "--out")
     * @param command      the command's name as written into run.json (e.g. "train")
     * @param policy       what to do when the folder already holds results
     * @param resumeMarker a file (relative to dir) whose presence makes the folder resumable by this command
     *                     even without a run.json of it; null when none
     * @param err          where notes go (a stale lock taken over, temporary files removed); may be null
     * @throws IllegalArgumentException when the path is empty or names a file, or the folder holds results the
     *                                  policy does not allow to touch (naming the files and the flag to pass)
     * @throws IllegalStateException    when another process or command owns the folder (naming its pid)
     * @throws IOException              when the folder cannot be created or the lock file not written
     */
    public static RunFolder claim(Path dir, String flag, String command, Policy policy, String resumeMarker,
            PrintWriter err) throws IOException {
        if (dir == null || dir.toString().isBlank()) {
            throw new IllegalArgumentException(flag + " must name a folder, got '" + (dir == null ? "" : dir) + "'");
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(flag + " " + dir + " is a file, not a folder: choose a folder");
        }
        boolean existed = Files.isDirectory(dir);
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException(flag + " " + dir + ": " + e.getFile() + " is a file, not a folder");
        } catch (AccessDeniedException e) {
            throw new IOException(flag + " " + dir + ": cannot create the folder (permission denied: " + e.getFile() + ")");
        } catch (FileSystemException e) {
            throw new IOException(flag + " " + dir + ": cannot create the folder (" + reason(e) + ")");
        }
        RunFolder f = lock(dir, flag, command);
        f.err = err;
        f.created = !existed;
        try {
            // facts about the folder, whatever this command may do there: only its owner may clean up
            f.removeTemporaryFiles();
            f.markKilledRun();
            f.checkContents(flag, command, policy, resumeMarker);
        } catch (IOException | RuntimeException e) {
            f.printNotes();
            f.release();
            throw e;
        }
        f.printNotes();
        Runtime.getRuntime().addShutdownHook(f.hook);
        return f;
    }

    /** The folder. */
    public Path dir() {
        return dir;
    }

    /** What the claim found and did (a stale lock taken over, temporary files removed, a killed run marked). */
    public List<String> notes() {
        return List.copyOf(notes);
    }

    /**
     * Runs {@code action} when the JVM shuts down (SIGINT, SIGTERM) while the folder is still owned, before the
     * lock is released. The action must bound its own waiting.
     */
    public void onShutdown(Runnable action) {
        shutdownActions.add(action);
    }

    /** Releases the folder and drops the shutdown hook (a finished command). */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook releases the lock after its actions
            return;
        }
        release();
    }

    private void onJvmExit() {
        for (Runnable a : shutdownActions) {
            try {
                a.run();
            } catch (RuntimeException e) {
                System.err.println("opnorm: while stopping: " + e);
            }
        }
        release();
    }

    private synchronized void release() {
        if (released) {
            return;
        }
        released = true;
        try {
            channel.truncate(0);
            channel.force(false);
        } catch (IOException e) {
            // the OS lock goes with the channel below; an unreadable leftover is treated as stale
        }
        try {
            // a folder this claim created and nothing was written to (a rejected command) is not left behind
            if (created && entries(dir).isEmpty()) {
                Files.deleteIfExists(dir.resolve(LOCK_FILE));
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            // something appeared in it meanwhile: keep it
        }
        try {
            lock.release();
        } catch (IOException e) {
            // closing the channel releases it too
        }
        try {
            channel.close();
        } catch (IOException e) {
            // nothing left to do
        }
        HELD.remove(key(dir));
    }

    // ---- the lock ----

    /** Canonical folders this JVM holds, so a second command in the same JVM gets a clear message. */
    private static final java.util.Set<String> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static String key(Path dir) {
        return dir.toAbsolutePath().normalize().toString();
    }

    private static RunFolder lock(Path dir, String flag, String command) throws IOException {
        Path file = dir.resolve(LOCK_FILE);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (AccessDeniedException e) {
            throw new IOException(flag + " " + dir + ": not writable (permission denied: " + file + ")");
        } catch (FileSystemException e) {
            throw new IOException(flag + " " + dir + ": cannot create the lock file " + file + " (" + reason(e) + ")");
        }
        FileLock lk;
        try {
            lk = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lk = null;
        } catch (IOException e) {
            ch.close();
            throw new IOException(flag + " " + dir + ": cannot lock " + file + " (" + e.getMessage() + ")");
        }
        // read through the same channel: on POSIX, closing any other descriptor of the file drops our lock
        Map<String, String> previous = parseOwner(readAll(ch));
        if (lk == null) {
            ch.close();
            throw inUse(flag, dir, previous);
        }
        Optional<ProcessHandle> owner = previous.containsKey("pid") ? liveOwner(previous) : Optional.empty();
        if (owner.isPresent() && owner.get().pid() != ProcessHandle.current().pid()) {
            // the process named in the file still runs: a file system without working OS locks
            lk.release();
            ch.close();
            throw inUse(flag, dir, previous);
        }
        if (!HELD.add(key(dir))) {
            lk.release();
            ch.close();
            throw inUse(flag, dir, previous);
        }
        RunFolder f = new RunFolder(dir, ch, lk);
        if (previous.containsKey("pid")) {
            f.notes.add(dir + " was locked by process " + previous.get("pid") + " (opnorm "
                    + previous.getOrDefault("command", "?") + ", started " + previous.getOrDefault("started", "?")
                    + "), which is no longer running: stale lock taken over");
            f.staleOwner = previous;
        }
        ProcessHandle me = ProcessHandle.current();
        String content = "pid=" + me.pid() + "\nstarted=" + me.info().startInstant().map(Instant::toString).orElse("?")
                + "\ncommand=" + command + "\nsince=" + Instant.now() + "\n";
        try {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)), 0);
            ch.force(false);
        } catch (IOException e) {
            f.release();
            throw new IOException(flag + " " + dir + ": cannot write the lock file " + file + " (" + e.getMessage() + ")");
        }
        return f;
    }

    private Map<String, String> staleOwner;
    private PrintWriter err;
    private boolean created;

    private void printNotes() {
        if (err != null) {
            notes.forEach(n -> err.println("note: " + n));
            err.flush();
        }
    }

    private static String readAll(FileChannel ch) throws IOException {
        long size = Math.min(ch.size(), 4096);
        ByteBuffer b = ByteBuffer.allocate((int) size);
        while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
            // read on
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }

    static Map<String, String> parseOwner(String text) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        try {
            Long.parseLong(m.getOrDefault("pid", ""));
        } catch (NumberFormatException e) {
            m.remove("pid");
        }
        return m;
    }

    /** The process the lock file names, when it is alive and is the same process (same start time). */
    private static Optional<ProcessHandle> liveOwner(Map<String, String> owner) {
        Optional<ProcessHandle> p = ProcessHandle.of(Long.parseLong(owner.get("pid"))).filter(ProcessHandle::isAlive);
        String started = owner.get("started");
        if (p.isPresent() && started != null && !started.equals("?")) {
            // a pid reused by an unrelated process does not keep the lock
            Optional<String> actual = p.get().info().startInstant().map(Instant::toString);
            if (actual.isPresent() && !actual.get().equals(started)) {
                return Optional.empty();
            }
        }
        return p;
    }

    private static IllegalStateException inUse(String flag, Path dir, Map<String, String> owner) {
        String who = owner.containsKey("pid")
                ? "process " + owner.get("pid") + (owner.get("pid").equals(Long.toString(ProcessHandle.current().pid()))
                        ? " (this one)" : "") + " (opnorm " + owner.getOrDefault("command", "?") + ", since "
                        + owner.getOrDefault("since", "?") + ")"
                : "another process";
        return new IllegalStateException(flag + " " + dir + " is in use by " + who + ": wait for it to finish, stop it, "
                + "or choose another " + flag);
    }

    // ---- contents ----

    private void checkContents(String flag, String command, Policy policy, String resumeMarker) throws IOException {
        List<String> entries = entries(dir);
        if (entries.isEmpty() || policy == Policy.REPLACE) {
            return;
        }
        String earlier = runCommand(dir).orElse(null);
        boolean marker = resumeMarker != null && Files.exists(dir.resolve(resumeMarker));
        if (policy == Policy.RESUME && (marker || (resumeMarker == null && command.equals(earlier)))) {
            return;
        }
        String shown = entries.size() <= 6 ? String.join(", ", entries)
                : String.join(", ", entries.subList(0, 6)) + ", ... (" + entries.size() + " entries)";
        String what = earlier != null ? "the results of `opnorm " + earlier + "` (" + shown + ")" : "files (" + shown + ")";
        String hint;
        if (policy == Policy.RESUME) {
            hint = command.equals(earlier) && resumeMarker != null
                    ? "there is no " + resumeMarker + " to continue from: pass --force to start over and replace them"
                    : "they are not a run of `opnorm " + command + "` to continue: pass --force to write there anyway";
        } else if (command.equals(earlier) && resumeMarker != null && marker) {
            hint = "pass --resume to continue that run or --force to start over and replace it";
        } else {
            hint = "pass --force to replace them";
        }
        throw new IllegalArgumentException(flag + " " + dir + " already holds " + what + ": " + hint
                + ", or choose another " + flag);
    }

    /** The folder's entries other than the lock file and temporary files, sorted. */
    static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals(LOCK_FILE) && !isTemporary(n)).sorted().toList();
        }
    }

    /** A temporary file of an atomic write (".NAME&lt;random&gt;.tmp"), left behind when the write was killed. */
    public static boolean isTemporary(String name) {
        return name.startsWith(".") && name.endsWith(".tmp");
    }

    /** The command that wrote dir/run.json, if it is a readable run.json. */
    static Optional<String> runCommand(Path dir) {
        return readRunJson(dir).map(m -> m.get("command")).filter(String.class::isInstance).map(String.class::cast);
    }

    /** dir/run.json as a JSON object, when it exists and parses. */
    public static Optional<Map<String, Object>> readRunJson(Path dir) {
        Path f = dir.resolve("run.json");
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Json.parseObject(Files.readString(f)));
        } catch (IOException | Json.JsonException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private void removeTemporaryFiles() throws IOException {
        List<Path> temps;
        try (Stream<Path> s = Files.walk(dir, 4)) {
            temps = s.filter(p -> isTemporary(p.getFileName().toString()) && Files.isRegularFile(p)).toList();
        }
        for (Path t : temps) {
            Files.deleteIfExists(t);
        }
        if (!temps.isEmpty()) {
            notes.add("removed " + temps.size() + " temporary file(s) of interrupted writes in " + dir);
        }
    }

    /** A run.json still "running" under a stale lock belongs to a process that was killed: say so in it. */
    private void markKilledRun() throws IOException {
        if (staleOwner == null) {
            return;
        }
        Optional<Map<String, Object>> run = readRunJson(dir);
        if (run.isPresent() && "running".equals(run.get().get("status"))) {
            Map<String, Object> m = new LinkedHashMap<>(run.get());
            m.put("status", "killed: process " + staleOwner.get("pid") + " ended without finishing (found "
                    + Instant.now() + ")");
            RunManifest.AtomicFiles.writeString(dir.resolve("run.json"), RunManifest.render(m));
            notes.add(dir.resolve("run.json") + " marked killed");
        }
    }

    private static String reason(FileSystemException e) {
        return e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
    }
}
