package dev.opnorm.nn.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

import dev.opnorm.nn.util.Join;

/**
 * Runs a fixed number of independent tasks, task 0 on the calling thread and the rest on a shared
 * pool of daemon threads. The work partition is decided by the caller, never by the scheduler: each
 * task must write a disjoint set of outputs, so results do not depend on timing. Tasks never wait on
 * each other, so concurrent callers cannot deadlock (a cached pool grows instead of queueing).
 */
final class Parallel {
    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "opnorm-kernels");
        t.setDaemon(true);
        return t;
    });

    private Parallel() {
    }

    /** Runs body(0), ..., body(tasks - 1) and returns when all have finished; rethrows the first failure. */
    static void run(int tasks, IntConsumer body) {
        if (tasks <= 1) {
            if (tasks == 1) {
                body.accept(0);
            }
            return;
        }
        List<Future<?>> futures = new ArrayList<>(tasks - 1);
        for (int t = 1; t < tasks; t++) {
            final int id = t;
            futures.add(POOL.submit(() -> body.accept(id)));
        }
        Throwable failure = null;
        try {
            body.accept(0);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        Join.all(failure, futures, "kernel task");
    }

    /** Start of chunk t when [0, units) is split into {@code tasks} nearly equal contiguous chunks. */
    static int chunkStart(int units, int tasks, int t) {
        return (int) ((long) units * t / tasks);
    }
}
