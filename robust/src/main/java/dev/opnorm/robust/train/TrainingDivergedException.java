package dev.opnorm.robust.train;

import java.nio.file.Path;

/**
 * Training stopped because the loss (or, after an update, a parameter) became NaN or infinite. The step
 * that diverged was not applied and no checkpoint was written after it: the last checkpoint on disk is the
 * last good state.
 */
public final class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long epoch;
    private final long step;
    private final Path lastCheckpoint;

    TrainingDivergedException(String message, long epoch, long step, Path lastCheckpoint) {
        super(message);
        this.epoch = epoch;
        this.step = step;
        this.lastCheckpoint = lastCheckpoint;
    }

    /** The epoch (0-based) in which training diverged. */
    public long epoch() {
        return epoch;
    }

    /** The global step (0-based) that diverged. */
    public long step() {
        return step;
    }

    /** The last good checkpoint, or null when none was written. */
    public Path lastCheckpoint() {
        return lastCheckpoint;
    }
}
