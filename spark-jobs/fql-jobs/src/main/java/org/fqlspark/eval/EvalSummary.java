package org.fqlspark.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The content of {@code summary.json}. Failed episodes (a crashed or hung environment) count as unsuccessful: the
 * success rate and its interval are over all episodes, completed and failed; the return and length statistics are over
 * completed episodes only (so is a normalized score defined by returns; one defined by the success rate follows the
 * success rate). Failed ones are also counted in {@code episodesFailed} and listed in {@code failures}. Numbers that
 * are undefined (no completed episode, a confidence interval from one episode, no reference scores) are null.
 *
 * <p>JSON keys (see {@link #toJson()}): {@code format}, {@code format_version}, {@code env}, {@code env_id},
 * {@code checkpoint}, {@code checkpoint_step}, {@code episodes}, {@code episodes_completed}, {@code episodes_failed},
 * {@code success_rate}, {@code success_rate_percent}, {@code success_rate_ci95}, {@code mean_return},
 * {@code return_std}, {@code return_ci95}, {@code return_ci_method}, {@code mean_length}, {@code env_steps},
 * {@code normalized_score}, {@code normalized_score_definition}, {@code reference_min_return},
 * {@code reference_max_return}, {@code reference_source}, {@code seed}, {@code partitions},
 * {@code max_episode_steps}, {@code policy}, {@code elapsed_seconds}, {@code failures}, {@code versions}.
 */
public record EvalSummary(
        String env,
        String envId,
        String checkpoint,
        long checkpointStep,
        int episodes,
        long episodesCompleted,
        long episodesFailed,
        Double successRate,
        double[] successRateCi95,
        Double meanReturn,
        Double returnStd,
        double[] returnCi95,
        Double meanLength,
        long envSteps,
        Double normalizedScore,
        ReferenceScores.Normalization normalization,
        long seed,
        int partitions,
        int maxEpisodeSteps,
        Policy policy,
        double elapsedSeconds,
        List<EpisodeResult> failures,
        Map<String, String> versions) {

    public static final String FORMAT = "fql-eval-summary";
    public static final int FORMAT_VERSION = 1;

    static Double finiteOrNull(double x) {
        return Double.isFinite(x) ? x : null;
    }

    /** The JSON object written to {@code summary.json}, keys in a fixed order. */
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("format", FORMAT);
        json.put("format_version", FORMAT_VERSION);
        json.put("env", env);
        json.put("env_id", envId);
        json.put("checkpoint", checkpoint);
        json.put("checkpoint_step", checkpointStep);
        json.put("episodes", episodes);
        json.put("episodes_completed", episodesCompleted);
        json.put("episodes_failed", episodesFailed);
        json.put("success_rate", successRate);
        json.put("success_rate_percent", successRate == null ? null : 100 * successRate);
        json.put("success_rate_ci95", pair(successRateCi95));
        json.put("mean_return", meanReturn);
        json.put("return_std", returnStd);
        json.put("return_ci95", pair(returnCi95));
        json.put("return_ci_method", "student-t, 95%, two-sided");
        json.put("mean_length", meanLength);
        json.put("env_steps", envSteps);
        json.put("normalized_score", normalizedScore);
        json.put("normalized_score_definition", normalization == null ? null : normalization.definition());
        json.put("reference_min_return", normalization == null ? null : normalization.minReturn());
        json.put("reference_max_return", normalization == null ? null : normalization.maxReturn());
        json.put("reference_source", normalization == null ? null : normalization.source());
        json.put("seed", seed);
        json.put("partitions", partitions);
        json.put("max_episode_steps", maxEpisodeSteps);
        json.put("policy", policy.flag());
        json.put("elapsed_seconds", elapsedSeconds);
        List<Map<String, Object>> failed = new ArrayList<>();
        for (EpisodeResult f : failures) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("episode", f.episode());
            entry.put("seed", f.seed());
            entry.put("error", f.error());
            failed.add(entry);
        }
        json.put("failures", failed);
        json.put("versions", versions);
        return json;
    }

    private static List<Double> pair(double[] interval) {
        return interval == null ? null : List.of(interval[0], interval[1]);
    }
}
