package org.fqlspark.data;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The D4RL task family, which decides FQL's post-processing (docs/algorithm.md §6.2): antmaze shifts rewards by −1;
 * adroit also marks an episode boundary where the D4RL terminal flag is set.
 */
public enum D4rlFamily {
    /** Decide from the file name: {@link #ANTMAZE} for "antmaze"/"ant_maze", {@link #ADROIT} for pen/door/hammer/relocate. */
    AUTO,
    ANTMAZE,
    ADROIT,
    /** Neither: rewards unchanged, boundaries from observation continuity only. */
    OTHER;

    private static final Pattern ANTMAZE_NAME = Pattern.compile(".*ant[_-]?maze.*");
    private static final Pattern ADROIT_NAME = Pattern.compile("^(pen|door|hammer|relocate)[-_].*");

    /** Resolves {@link #AUTO} from a file name; other values stay as they are. */
    public D4rlFamily resolve(String fileName) {
        if (this != AUTO) return this;
        String n = fileName.toLowerCase(Locale.ROOT);
        if (ANTMAZE_NAME.matcher(n).matches()) return ANTMAZE;
        if (ADROIT_NAME.matcher(n).matches()) return ADROIT;
        return OTHER;
    }

    public static D4rlFamily parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "unknown D4RL family '" + name + "'; expected one of auto, antmaze, adroit, other");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
