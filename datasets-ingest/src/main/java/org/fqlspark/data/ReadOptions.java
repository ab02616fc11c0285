package org.fqlspark.data;

import java.util.Objects;

/**
 * How a source file becomes transitions.
 *
 * @param rewardShift added to every reward when non-null (any format); when null, D4RL antmaze files get
 *     −1 (docs/algorithm.md §6.2) and everything else 0
 * @param d4rlFamily D4RL post-processing family; {@link D4rlFamily#AUTO} decides from the file name
 * @param goal labels rewards/masks of OGBench's raw form, which has none; null means rewards 0, masks 1
 */
public record ReadOptions(Float rewardShift, D4rlFamily d4rlFamily, GoalLabel goal) {

    public static final ReadOptions DEFAULTS = new ReadOptions(null, D4rlFamily.AUTO, null);

    public ReadOptions {
        Objects.requireNonNull(d4rlFamily, "d4rlFamily");
        if (rewardShift != null && !Float.isFinite(rewardShift)) {
            throw new IllegalArgumentException("reward shift must be finite, was " + rewardShift);
        }
    }
}
