package dev.opnorm.nn.util;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Waits for a set of submitted tasks after the calling thread did its own share, and rethrows the first failure:
 * the caller's own (passed in) before any task's, then the tasks' in submission order. Every task is waited for
 * even after a failure, so nothing still runs on shared buffers when the exception reaches the caller.
 */
public final class Join {
    private Join() {
    }

    /**
     * @param failure what the calling thread's own share threw, or null
     * @param futures the tasks submitted beside it
     * @param what    names the work in the message of an interruption or a checked failure ("kernel task")
     */
    public static void all(Throwable failure, List<? extends Future<?>> futures, String what) {
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = new IllegalStateException("interrupted while waiting for " + what + "s", e);
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException(what + " failed", failure);
        }
    }
}
