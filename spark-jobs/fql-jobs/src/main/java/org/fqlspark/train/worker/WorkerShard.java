package org.fqlspark.train.worker;

import java.io.Serializable;

import org.fqlspark.data.TransitionData;

/**
 * One worker's part of the dataset, held in memory as contiguous row-major float buffers (the columns the loss
 * needs; terminals and episode keys are dropped after the split). Rows are in the data contract's order,
 * (episode_id, step_index). Serializable so Spark can spill a cached shard to disk; in memory it is cached as this
 * object, so sampling never touches a Row.
 */
public record WorkerShard(
        int worker,
        int obsDim,
        int actionDim,
        float[] observations,
        float[] actions,
        float[] rewards,
        float[] masks,
        float[] nextObservations) implements Serializable {

    private static final long serialVersionUID = 1L;

    public WorkerShard {
        int n = rewards.length;
        if (n == 0) {
            throw new IllegalArgumentException("worker " + worker + " holds no transitions: use fewer workers than transitions");
        }
        if (observations.length != (long) n * obsDim || nextObservations.length != (long) n * obsDim
                || actions.length != (long) n * actionDim || masks.length != n) {
            throw new IllegalArgumentException("worker " + worker + ": column lengths do not match " + n + " rows");
        }
    }

    /** All of {@code data} as the shard of worker 0 (what W = 1 trains on). */
    public static WorkerShard of(TransitionData data) {
        return new WorkerShard(0, data.obsDim(), data.actionDim(), data.observations(), data.actions(), data.rewards(),
                data.masks(), data.nextObservations());
    }

    public int size() {
        return rewards.length;
    }
}
