package org.fqlspark.train.worker;

import java.io.Serializable;

import org.fqlspark.data.TransitionData;

/**
 * One worker's part of the dataset, held in memory as contiguous row-major float buffers (the columns the loss
 * needs; the episode keys are dropped after the split). Rows are in the data contract's order,
 * (episode_id, step_index). Serializable so Spark can spill a cached shard to disk; in memory it is cached as this
 * object, so sampling never touches a Row.
 *
 * <p>{@code ends} marks, per row, where the stored sequence stops for an action chunk (docs/algorithm.md §11.2, the
 * {@code terminals} of Q-chunking's {@code sample_sequence}): 1 where the dataset's {@code terminals} flag is set,
 * where the next row of this shard does not continue the row's episode (another episode, or a step that is not the
 * next one), and at the shard's last row; 0 elsewhere. On a dataset that keeps the contract (terminal at the last
 * row of every contiguous episode segment) and a shard of whole episodes this is exactly the dataset's
 * {@code terminals}. Only chunked sampling (h &gt; 1) reads it.
 */
public record WorkerShard(
        int worker,
        int obsDim,
        int actionDim,
        float[] observations,
        float[] actions,
        float[] rewards,
        float[] masks,
        float[] nextObservations,
        float[] ends) implements Serializable {

    private static final long serialVersionUID = 2L;

    public WorkerShard {
        int n = rewards.length;
        if (n == 0) {
            throw new IllegalArgumentException("worker " + worker + " holds no transitions: use fewer workers than transitions"
                    + " (with horizon_length > 1, fewer workers than episodes)");
        }
        if (observations.length != (long) n * obsDim || nextObservations.length != (long) n * obsDim
                || actions.length != (long) n * actionDim || masks.length != n || ends.length != n) {
            throw new IllegalArgumentException("worker " + worker + ": column lengths do not match " + n + " rows");
        }
    }

    /** A shard that is one stored sequence: its only end is its last row (tests, and FQL's sampling, which never reads it). */
    public WorkerShard(int worker, int obsDim, int actionDim, float[] observations, float[] actions, float[] rewards, float[] masks,
            float[] nextObservations) {
        this(worker, obsDim, actionDim, observations, actions, rewards, masks, nextObservations,
                ends(new float[rewards.length], null, null));
    }

    /** All of {@code data} as the shard of worker 0 (what W = 1 trains on). */
    public static WorkerShard of(TransitionData data) {
        return of(0, data);
    }

    /** {@code data}, rows in (episode, step) order, as the shard of {@code worker}; its episode keys only set the ends. */
    public static WorkerShard of(int worker, TransitionData data) {
        return new WorkerShard(worker, data.obsDim(), data.actionDim(), data.observations(), data.actions(), data.rewards(),
                data.masks(), data.nextObservations(), ends(data.terminals(), data.episodeIds(), data.stepIndices()));
    }

    /**
     * The {@code ends} of rows in (episode, step) order: {@code max(terminal, boundary)}, where a boundary is the last
     * row, or a row whose successor has another episode id or a step other than the next one. Null keys: no boundary
     * but the last row. {@code terminals} is copied, not changed.
     */
    public static float[] ends(float[] terminals, long[] episodeIds, int[] stepIndices) {
        int n = terminals.length;
        float[] ends = new float[n];
        for (int i = 0; i < n; i++) {
            boolean boundary = i == n - 1 || episodeIds != null
                    && (episodeIds[i + 1] != episodeIds[i] || stepIndices[i + 1] != stepIndices[i] + 1);
            ends[i] = boundary ? 1f : terminals[i];
        }
        return ends;
    }

    public int size() {
        return rewards.length;
    }
}
