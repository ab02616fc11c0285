package org.fqlspark.data;

import java.util.Objects;

/**
 * An offline RL dataset held in memory as flat, row-major float buffers: the form every reader produces,
 * the generator writes and the trainer samples from (no per-row boxing).
 *
 * <p>Row {@code i} is one transition (s_i, a_i, r_i, m_i, s'_i). {@code observations[i * obsDim + j]} is
 * feature {@code j} of s_i; likewise for actions and next observations. {@code terminals[i] = 1} marks the
 * last transition of an episode (an episode boundary only, never used in a loss); {@code masks[i] = 0} means
 * "do not bootstrap" (docs/algorithm.md §6).
 */
public record TransitionData(
        int obsDim,
        int actionDim,
        float[] observations,
        float[] actions,
        float[] rewards,
        float[] masks,
        float[] terminals,
        float[] nextObservations,
        long[] episodeIds,
        int[] stepIndices) {

    public TransitionData {
        if (obsDim <= 0) throw new IllegalArgumentException("obsDim must be positive, was " + obsDim);
        if (actionDim <= 0) throw new IllegalArgumentException("actionDim must be positive, was " + actionDim);
        Objects.requireNonNull(observations, "observations");
        Objects.requireNonNull(actions, "actions");
        Objects.requireNonNull(rewards, "rewards");
        Objects.requireNonNull(masks, "masks");
        Objects.requireNonNull(terminals, "terminals");
        Objects.requireNonNull(nextObservations, "nextObservations");
        Objects.requireNonNull(episodeIds, "episodeIds");
        Objects.requireNonNull(stepIndices, "stepIndices");
        int n = rewards.length;
        check("observations", observations.length, (long) n * obsDim);
        check("actions", actions.length, (long) n * actionDim);
        check("masks", masks.length, n);
        check("terminals", terminals.length, n);
        check("next_observations", nextObservations.length, (long) n * obsDim);
        check("episode_id", episodeIds.length, n);
        check("step_index", stepIndices.length, n);
    }

    private static void check(String key, long actual, long expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(
                    "'" + key + "' has " + actual + " values, expected " + expected + " (mismatched lengths)");
        }
    }

    /**
     * {@code n} transitions of zeros, for a reader or a filter to fill in place through the accessors (each column is
     * allocated at its final length, so nothing is copied afterwards).
     */
    public static TransitionData zeros(int n, int obsDim, int actionDim) {
        return new TransitionData(obsDim, actionDim, new float[n * obsDim], new float[n * actionDim], new float[n], new float[n],
                new float[n], new float[n * obsDim], new long[n], new int[n]);
    }

    /**
     * Writes transition {@code at}: its observation, action and next observation from row {@code row} of the packed
     * row-major arrays given (laid out with this data's dimensions), and its scalars.
     */
    public void set(int at, float[] obs, float[] act, float[] next, int row, float reward, float mask, float terminal,
                    long episodeId, int stepIndex) {
        System.arraycopy(obs, row * obsDim, observations, at * obsDim, obsDim);
        System.arraycopy(act, row * actionDim, actions, at * actionDim, actionDim);
        System.arraycopy(next, row * obsDim, nextObservations, at * obsDim, obsDim);
        rewards[at] = reward;
        masks[at] = mask;
        terminals[at] = terminal;
        episodeIds[at] = episodeId;
        stepIndices[at] = stepIndex;
    }

    /** Number of transitions. */
    public int size() {
        return rewards.length;
    }
}
