package org.fqlspark.env;

import java.util.Objects;

/**
 * What one {@link Environment#step} returns. For the single-task point-maze {@code reward = success − 1}, the same
 * {−1, 0} scale as the dataset labels (docs/algorithm.md §6.1); {@code terminated} means the goal was reached (no
 * bootstrapping past it), {@code truncated} that the time limit ran out. Both can be true on the last allowed step.
 */
public record StepResult(float[] observation, float reward, boolean terminated, boolean truncated, boolean success) {

    public StepResult {
        Objects.requireNonNull(observation, "observation");
        if (!Float.isFinite(reward)) throw new IllegalArgumentException("reward must be finite, was " + reward);
    }

    /** True when the episode is over for either reason and the environment must be reset. */
    public boolean done() {
        return terminated || truncated;
    }
}
