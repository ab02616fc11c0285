package org.fqlspark.agent;

/** How the TD target aggregates the two target-critic members (docs/algorithm.md §2.1). The actor's Q term always uses the mean. */
public enum QAgg {
    MEAN,
    MIN;

    public static QAgg parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("q_agg must be 'mean' or 'min', was '" + s + "'");
        }
    }
}
