package dev.opnorm.experiments.reproduce;

import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.util.Join;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Spreads the independent batches of an evaluation (clean forwards, attacks) over worker threads, each computing
 * with its own copy of the network on single-threaded kernels, instead of splitting every layer of one batch over
 * the threads: the layers of a batch of 50 small images keep two threads busy only part of the time (packing,
 * padding and the element-wise layers between the products run on one), while whole batches keep every worker
 * busy.
 *
 * <p>The numbers do not change: a batch's result depends only on its own images (BatchNorm EVAL, per-example
 * attack starts seeded by the example's index) and on the network's weights, which every copy holds exactly;
 * the kernels give the same bits on any thread count; each batch writes only its own outputs, so which worker
 * takes which batch (first come, first served) does not matter. Kernels other than {@link VectorKernels} (a
 * device, the scalar reference) keep the one network and run the batches in order on the calling thread.
 */
final class EvalWorkers {
    /** A batch of an evaluation on one network (the given one or a worker's copy). */
    @FunctionalInterface
    interface BatchTask {
        void run(Sequential net, int batch);
    }

    private static final EvalWorkers SERIAL = new EvalWorkers(1, null);

    private final int workers;
    private final Function<Kernels, Sequential> fresh;
    private final Kernels single;
    private ExecutorService pool;

    /**
     * @param workers threads to spread batches over (1: the calling thread alone)
     * @param fresh   a new network of the evaluated architecture on the given kernels (its weights are then
     *                overwritten with the evaluated network's); unused for one worker
     */
    private EvalWorkers(int workers, Function<Kernels, Sequential> fresh) {
        this.workers = workers;
        this.fresh = fresh;
        this.single = workers > 1 ? new VectorKernels(1) : null;
    }

    /** Every batch on the calling thread with the given network. */
    static EvalWorkers serial() {
        return SERIAL;
    }

    /**
     * Workers for a run on {@code kernels} with {@code threads} threads: one per thread for {@link VectorKernels}
     * and more than one thread, else {@link #serial()}.
     *
     * @param fresh a new network of the evaluated architecture on the given kernels
     */
    static EvalWorkers of(Kernels kernels, int threads, Function<Kernels, Sequential> fresh) {
        if (!(kernels instanceof VectorKernels) || threads <= 1) {
            return SERIAL;
        }
        if (fresh == null) {
            throw new IllegalArgumentException("workers need a way to build a copy of the network");
        }
        return new EvalWorkers(threads, fresh);
    }

    /** The number of workers (1 = serial). */
    int workers() {
        return workers;
    }

    /** A copy of {@code net} (parameters and BatchNorm statistics) computing with {@code kernels}. */
    Sequential copy(Sequential net, Kernels kernels) {
        Sequential c = fresh.apply(kernels);
        Checkpoint.of(net).loadInto(c);
        return c;
    }

    /**
     * Runs {@code task} for batches 0 .. batches - 1, each exactly once, and returns when all are done; rethrows
     * the first failure. With several workers each gets its own copy of {@code net} on single-threaded kernels.
     */
    void run(Sequential net, int batches, BatchTask task) {
        int w = Math.min(workers, batches);
        if (w <= 1) {
            for (int b = 0; b < batches; b++) {
                task.run(net, b);
            }
            return;
        }
        List<Sequential> copies = new ArrayList<>(w);
        for (int i = 0; i < w; i++) {
            copies.add(copy(net, single));
        }
        spread(w, batches, (worker, b) -> task.run(copies.get(worker), b));
    }

    /** A job of {@link #map}: item {@code i}, computed with {@code kernels}. */
    @FunctionalInterface
    interface Job<T> {
        T run(int i, Kernels kernels);
    }

    /**
     * The results of {@code job} for items 0 .. n - 1, in item order, the items spread over the workers: with
     * several workers each job computes on single-threaded kernels (its networks built on them), else on
     * {@code own}, the run's kernels, one item after the other on the calling thread. A job must depend only on
     * its item, so that the results do not depend on the worker that ran it.
     */
    <T> List<T> map(int n, Kernels own, Job<T> job) {
        List<T> out = new ArrayList<>(java.util.Collections.nCopies(n, (T) null));
        int w = Math.min(workers, n);
        if (w <= 1) {
            for (int i = 0; i < n; i++) {
                out.set(i, job.run(i, own));
            }
            return out;
        }
        Object[] res = new Object[n];
        spread(w, n, (worker, i) -> res[i] = job.run(i, single));
        for (int i = 0; i < n; i++) {
            @SuppressWarnings("unchecked")
            T t = (T) res[i];
            out.set(i, t);
        }
        return out;
    }

    /** A unit of work of {@link #spread}: unit {@code unit} on worker {@code worker}. */
    @FunctionalInterface
    private interface Unit {
        void run(int worker, int unit);
    }

    /**
     * Units 0 .. units - 1 over w workers (the calling thread is worker 0), first come first served; returns when
     * all are done and rethrows the first failure.
     */
    private void spread(int w, int units, Unit body) {
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>(w - 1);
        for (int i = 1; i < w; i++) {
            int worker = i;
            futures.add(pool().submit(() -> drain(worker, units, next, body)));
        }
        Throwable failure = null;
        try {
            drain(0, units, next, body);
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(units); // the other workers stop after their current unit
        }
        Join.all(failure, futures, "evaluation worker");
    }

    private static void drain(int worker, int units, AtomicInteger next, Unit body) {
        for (int u = next.getAndIncrement(); u < units; u = next.getAndIncrement()) {
            body.run(worker, u);
        }
    }

    private synchronized ExecutorService pool() {
        if (pool == null) {
            pool = Executors.newFixedThreadPool(workers - 1, r -> {
                Thread t = new Thread(r, "opnorm-eval");
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }
}
