package dev.opnorm.spark;

import dev.opnorm.experiments.reproduce.Profile;
import dev.opnorm.experiments.reproduce.Reproduction;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The reproduction's unit graph ({@link Reproduction#units()}) as Spark jobs: each unit whose inputs are done is
 * one job of one task, submitted at once, so independent units (the lambda candidates, the figures) run at the
 * same time on whatever executors are free. A task builds the same {@link Reproduction} on the shared output
 * folder and runs its unit; finished units are skipped, a training resumes from its checkpoint, so a task that
 * Spark retries (a lost executor) or a re-run of the whole command continues where the last one stopped and writes
 * the same files as {@code opnorm reproduce} without Spark.
 */
public final class SparkReproduction {

    /** Everything a task needs to rebuild the reproduction (profile by name + overrides: Profile is a plain record). */
    public record Job(String profile, Map<String, String> overrides, String data, long seed, int threads)
            implements Serializable {
        Profile resolve() {
            return Profile.named(profile).with(overrides);
        }
    }

    private SparkReproduction() {
    }

    /** Reproduction on {@code dir} for this JVM's engine. */
    static Reproduction reproduction(Job job, Path dir, PrintStream log) {
        return new Reproduction(job.resolve(), dir, Path.of(job.data()), job.seed(),
                SparkSupport.kernels(job.threads()), job.threads(), log);
    }

    /**
     * Runs every unfinished unit; returns the units that ran, in the order they finished.
     *
     * @param sc    the context (null: the units one after the other in this process, in graph order)
     */
    public static List<String> run(JavaSparkContext sc, Job job, SharedStore store, PrintStream log)
            throws IOException, InterruptedException {
        return run(sc, job, store, log, null, null);
    }

    /**
     * Runs the unfinished units that {@code until} needs (itself and its inputs, transitively; null: all).
     *
     * @param failOnce test hook: the unit of this name fails once after its training wrote its first checkpoint
     *                 (recorded in the store, so that Spark's retry, in any JVM, goes on)
     */
    public static List<String> run(JavaSparkContext sc, Job job, SharedStore store, PrintStream log, String until,
            String failOnce) throws IOException, InterruptedException {
        List<Reproduction.Unit> units;
        Set<String> done = new HashSet<>();
        Path scratch = Files.createTempDirectory("opnorm-reproduce");
        try (SharedStore.Workspace ws = store.workspace("", scratch)) {
            Reproduction r = reproduction(job, ws.dir(), log);
            r.prepare();
            ws.push();
            units = until == null ? r.units() : needs(r.units(), until);
            for (Reproduction.Unit u : units) {
                if (r.unitDone(u.name())) {
                    done.add(u.name());
                }
            }
        } finally {
            SharedStore.deleteQuietly(scratch);
        }
        List<String> ran = new ArrayList<>();
        if (sc == null) {
            for (Reproduction.Unit u : units) {
                if (!done.contains(u.name()) && runUnit(job, store, u.name(), failOnce)) {
                    ran.add(u.name());
                }
            }
            return ran;
        }
        ExecutorService pool = Executors.newCachedThreadPool(t -> {
            Thread th = new Thread(t, "opnorm-unit-jobs");
            th.setDaemon(true);
            return th;
        });
        try {
            CompletionService<String> cs = new ExecutorCompletionService<>(pool);
            Set<String> submitted = new HashSet<>(done);
            Map<Future<String>, String> running = new LinkedHashMap<>();
            while (done.size() < units.size()) {
                for (Reproduction.Unit u : units) {
                    if (!submitted.contains(u.name()) && done.containsAll(u.inputs())) {
                        submitted.add(u.name());
                        String name = u.name();
                        log.println("[reproduce] submitting " + name);
                        running.put(cs.submit(() -> {
                            sc.setJobDescription("opnorm reproduce: " + name);
                            List<Boolean> r = sc.parallelize(List.of(name), 1)
                                    .map(n -> runUnit(job, store, n, failOnce)).collect();
                            return r.get(0) ? name : "";
                        }), name);
                    }
                }
                if (running.isEmpty()) {
                    throw new IllegalStateException("units left that no finished unit unlocks: the graph has a cycle");
                }
                Future<String> f = cs.take();
                String name = running.remove(f);
                try {
                    if (!f.get().isEmpty()) {
                        ran.add(name);
                    }
                } catch (ExecutionException e) {
                    throw new IOException("unit " + name + " failed (after Spark's retries): " + e.getCause(),
                            e.getCause());
                }
                done.add(name);
            }
            return ran;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Unit {@code until} and every unit it needs, in graph order. */
    static List<Reproduction.Unit> needs(List<Reproduction.Unit> units, String until) {
        Map<String, Reproduction.Unit> byName = new LinkedHashMap<>();
        units.forEach(u -> byName.put(u.name(), u));
        if (!byName.containsKey(until)) {
            throw new IllegalArgumentException("--until must name a unit: one of " + byName.keySet() + ", got '"
                    + until + "'");
        }
        Set<String> needed = new HashSet<>();
        List<String> todo = new ArrayList<>(List.of(until));
        while (!todo.isEmpty()) {
            String n = todo.remove(todo.size() - 1);
            if (needed.add(n)) {
                todo.addAll(byName.get(n).inputs());
            }
        }
        return units.stream().filter(u -> needed.contains(u.name())).toList();
    }

    /**
     * One unit in this JVM, in a workspace of the shared folder (pushed after every training step on a remote
     * store, so that a retry resumes from the newest checkpoint).
     */
    static boolean runUnit(Job job, SharedStore store, String name, String failOnce) throws IOException {
        Path scratch = Files.createTempDirectory("opnorm-unit");
        try (SharedStore.Workspace ws = store.workspace("", scratch)) {
            Reproduction r = reproduction(job, ws.dir(), System.err);
            boolean inject = name.equals(failOnce);
            String marker = SweepRun.FAULT_DIR + "/" + name.replace(':', '_');
            if (ws.staged() || inject) {
                r.afterEachStep(() -> {
                    try {
                        ws.push();
                        if (inject && hasCheckpoint(ws.dir().resolve("models")) && !store.exists(marker)) {
                            store.writeString(marker, "failed once after its first checkpoint\n");
                            throw new IllegalStateException("injected fault: unit " + name
                                    + " fails once after its first checkpoint");
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
            }
            boolean ran = r.runUnit(name);
            ws.push();
            return ran;
        } finally {
            SharedStore.deleteQuietly(scratch);
        }
    }

    private static boolean hasCheckpoint(Path models) throws IOException {
        if (!Files.isDirectory(models)) {
            return false;
        }
        try (var s = Files.list(models)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".checkpoint.safetensors"));
        }
    }
}
