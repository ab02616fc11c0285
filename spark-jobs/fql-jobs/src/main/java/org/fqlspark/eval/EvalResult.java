package org.fqlspark.eval;

import java.util.List;

/**
 * What {@link EvaluateJob#run} produced.
 *
 * @param output   the output directory, fully qualified: {@code episodes.parquet/}, {@code summary.json} and, for the
 *                 point-maze, {@code trajectories.png}
 * @param summary  the content of {@code summary.json}
 * @param episodes one row per episode, ordered by episode index (the Parquet rows)
 */
public record EvalResult(String output, EvalSummary summary, List<EpisodeResult> episodes) {

    public EvalResult {
        episodes = List.copyOf(episodes);
    }

    /** Over completed episodes; null when none completed. */
    public Double successRate() {
        return summary.successRate();
    }

    public Double meanReturn() {
        return summary.meanReturn();
    }

    public Double normalizedScore() {
        return summary.normalizedScore();
    }

    public long failedEpisodes() {
        return summary.episodesFailed();
    }
}
