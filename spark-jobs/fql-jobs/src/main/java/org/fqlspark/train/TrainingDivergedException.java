package org.fqlspark.train;

/**
 * A NaN or infinite loss (or averaged parameter) stopped training. Nothing was checkpointed after the last good
 * round; the message names the step, the worker, the losses and the last good checkpoint.
 */
public final class TrainingDivergedException extends RuntimeException {

    private final long step;
    private final String lastCheckpoint;

    TrainingDivergedException(String message, long step, String lastCheckpoint) {
        super(message);
        this.step = step;
        this.lastCheckpoint = lastCheckpoint;
    }

    /** The first step (1-based count of steps taken) whose losses were not finite. */
    public long step() {
        return step;
    }

    /** The newest checkpoint on disk, or null when none was written. */
    public String lastCheckpoint() {
        return lastCheckpoint;
    }
}
