package org.fqlspark.eval;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How an evaluation's normalized score is defined for an environment id (docs/algorithm.md §7).
 *
 * <ul>
 * <li><b>Built-in point-maze and OGBench ids</b> ({@code pointmaze-medium}, {@code antmaze-large-navigate-singletask-v0},
 * {@code cube-double-play-singletask-task2-v0}, ...): the success rate in percent, {@code 100 × successes / episodes},
 * OGBench's reported metric.</li>
 * <li><b>D4RL antmaze and Adroit ids</b>: {@code 100 × (mean return − min) / (max − min)} with D4RL's reference
 * returns, copied from {@code d4rl/infos.py} ({@code REF_MIN_SCORE}, {@code REF_MAX_SCORE}; Farama-Foundation/D4RL):
 * antmaze {@code umaze, umaze-diverse, medium-play, medium-diverse, large-play, large-diverse} (v0, v2): 0 and 1;
 * Adroit {@code pen, door, hammer, relocate} × {@code human, cloned, expert} (v0; v1 reuses the v0 values).</li>
 * <li>Anything else: no normalized score (null in {@code summary.json}).</li>
 * </ul>
 */
public final class ReferenceScores {

    /** A normalized-score rule; {@code min}/{@code max} are null for success-rate rules. */
    public record Normalization(String definition, Double minReturn, Double maxReturn, String source) {

        public boolean usesSuccessRate() {
            return minReturn == null;
        }

        /** The normalized score in percent from the completed episodes' statistics; null when undefined. */
        public Double score(EpisodeStatistics statistics) {
            if (statistics.completed() == 0) return null;
            if (usesSuccessRate()) return 100.0 * statistics.successRate();
            return 100.0 * (statistics.meanReturn() - minReturn) / (maxReturn - minReturn);
        }
    }

    static final String D4RL_SOURCE = "D4RL d4rl/infos.py REF_MIN_SCORE / REF_MAX_SCORE";

    private static final Pattern OGBENCH = Pattern.compile(
            "(visual-)?(pointmaze|antmaze|humanoidmaze|antsoccer|cube|scene|puzzle)-[a-z0-9x-]*"
                    + "(navigate|stitch|explore|teleport|arena|play|noisy)[a-z0-9-]*-v\\d+");
    private static final Pattern D4RL_ANTMAZE = Pattern.compile(
            "antmaze-(umaze|umaze-diverse|medium-play|medium-diverse|large-play|large-diverse)-v[02]");
    private static final Pattern D4RL_ADROIT = Pattern.compile("(pen|door|hammer|relocate)-(human|cloned|expert)-v[01]");

    /** Adroit random ({@code REF_MIN_SCORE}) and expert ({@code REF_MAX_SCORE}) returns per task. */
    private static final Map<String, double[]> ADROIT = Map.of(
            "pen", new double[] {96.262799, 3076.8331017826877},
            "hammer", new double[] {-274.856578, 12794.134825156867},
            "relocate", new double[] {-6.425911, 4233.877797728884},
            "door", new double[] {-56.512833, 2880.5693087298737});

    private ReferenceScores() {
    }

    public static Optional<Normalization> forEnvironment(String envId) {
        if (envId == null) return Optional.empty();
        String id = envId.trim();
        if (id.startsWith("pointmaze-") && !id.matches(".*-v\\d+")) {
            return Optional.of(new Normalization("success rate in percent (100 × successes / completed episodes)", null, null,
                    "built-in point-maze; OGBench reports the success rate"));
        }
        if (D4RL_ANTMAZE.matcher(id).matches()) {
            return Optional.of(new Normalization("100 × (mean return − min) / (max − min), D4RL reference returns", 0.0, 1.0,
                    D4RL_SOURCE));
        }
        var adroit = D4RL_ADROIT.matcher(id);
        if (adroit.matches()) {
            double[] range = ADROIT.get(adroit.group(1));
            return Optional.of(new Normalization("100 × (mean return − min) / (max − min), D4RL reference returns", range[0],
                    range[1], D4RL_SOURCE));
        }
        if (OGBENCH.matcher(id).matches()) {
            return Optional.of(new Normalization("success rate in percent (100 × successes / completed episodes)", null, null,
                    "OGBench: success flag at the final step"));
        }
        return Optional.empty();
    }
}
