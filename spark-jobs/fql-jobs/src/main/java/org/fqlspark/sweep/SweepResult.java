package org.fqlspark.sweep;

import java.util.List;
import java.util.Map;

/**
 * What a sweep invocation did.
 *
 * @param output   the sweep directory, fully qualified
 * @param outcomes one per trial of the spec, in trial order
 * @param best     the content of best.json ({@code trial_id} null when no trial completed)
 * @param seconds  wall time of this invocation
 */
public record SweepResult(String output, List<SweepJob.Outcome> outcomes, Map<String, Object> best, double seconds) {

    public SweepResult {
        outcomes = List.copyOf(outcomes);
    }

    public long count(SweepJob.Status status) {
        return outcomes.stream().filter(o -> o.status() == status).count();
    }

    /** True when every trial has finished (now or earlier) with every evaluation episode run. */
    public boolean allComplete() {
        return count(SweepJob.Status.FAILED) == 0 && count(SweepJob.Status.INCOMPLETE) == 0;
    }
}
