package org.fqlspark.eval;

import java.io.Serializable;

/**
 * One evaluation episode, one Parquet row.
 *
 * @param episode       index in 0..episodes−1
 * @param seed          the environment seed of this episode ({@link EpisodeSeeds#environmentSeed})
 * @param episodeReturn undiscounted sum of rewards (column {@code return})
 * @param length        environment steps taken
 * @param success       the environment's success flag at the final step (OGBench's metric, docs/algorithm.md §7)
 * @param failed        the episode could not be completed (the bridge crashed, hung or answered garbage, or the
 *                      environment threw); {@code episodeReturn} and {@code length} then cover the steps before the
 *                      failure; the episode counts as unsuccessful in the success rate and is left out of the return
 *                      and length statistics
 * @param error         why it failed, {@code null} when it did not
 */
public record EpisodeResult(int episode, long seed, double episodeReturn, int length, boolean success, boolean failed,
                            String error) implements Serializable {

    public EpisodeResult {
        if (episode < 0) throw new IllegalArgumentException("episode must be non-negative, was " + episode);
        if (length < 0) throw new IllegalArgumentException("length must be non-negative, was " + length);
        if (failed && (error == null || error.isBlank())) throw new IllegalArgumentException("a failed episode needs an error message");
        if (!failed && error != null) throw new IllegalArgumentException("an episode that did not fail has no error message");
    }

    static EpisodeResult completed(int episode, long seed, double episodeReturn, int length, boolean success) {
        return new EpisodeResult(episode, seed, episodeReturn, length, success, false, null);
    }

    static EpisodeResult failed(int episode, long seed, double partialReturn, int length, String error) {
        return new EpisodeResult(episode, seed, partialReturn, length, false, true, error);
    }
}
