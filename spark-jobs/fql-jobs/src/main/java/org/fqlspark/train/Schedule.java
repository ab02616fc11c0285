package org.fqlspark.train;

/**
 * When the driver checkpoints and evaluates: one rule each, used by the loop and by the peer-averaging stages, which
 * must stop where the driver has work. Both also happen at the end of the offline phase and of the run.
 *
 * @param checkpointEvery R: rounds between checkpoints
 * @param evalEvery       steps between evaluations (used only when {@code evaluating})
 * @param evaluating      whether the run evaluates periodically
 * @param offlineSteps    N: the offline phase's end
 * @param total           the run's last step
 */
record Schedule(int checkpointEvery, long evalEvery, boolean evaluating, long offlineSteps, long total) {

    /** Whether the round ending at {@code step} (the {@code round}-th) writes a checkpoint. */
    boolean checkpointDue(int round, long step) {
        return round % checkpointEvery == 0 || step == total || step == offlineSteps;
    }

    /** Whether the round of {@code steps} steps ending at {@code step} ends with a periodic evaluation. */
    boolean evaluationDue(long step, int steps) {
        return evaluating && (step / evalEvery > (step - steps) / evalEvery || step == total || step == offlineSteps);
    }

    /** Whether the driver has work after that round (what a stage of several rounds stops for). */
    boolean driverWorkDue(int round, long step, int steps) {
        return checkpointDue(round, step) || evaluationDue(step, steps);
    }
}
