package org.fqlspark.train.worker;

import java.io.IOException;
import java.util.Map;

/**
 * One kind of training round, as the driver's loop sees it: from the averaged state at {@code step}, run the next round
 * (K steps on every worker, fewer at a phase's end) and say what happened. The four kinds (averaged through the driver,
 * averaged among the workers, the online phase's exact and distributed modes) each own whatever state they keep between
 * rounds; the loop only books their results, checkpoints and evaluates.
 */
public interface Rounds {

    /**
     * Runs the round that starts at {@code step}, the {@code round}-th of the run (0-based), from {@code state}.
     * Rounds end at multiples of K counted from the start of their phase, so a resumed run averages at the same steps
     * as an uninterrupted one.
     */
    RoundResult next(TrainingState state, long step, int round) throws IOException;

    /** Fills this kind's own metric columns of the row of {@code result} (the online phase's, for instance). */
    void metrics(Map<String, Double> row, RoundResult result);

    /** Drops whatever this kind keeps live on the executors and here (best effort; the run is over). */
    default void release() {
    }

    /**
     * Whether the driver has work of its own after the round that ends at {@code step} (a checkpoint or an evaluation),
     * so a kind that runs several rounds at once on the executors must stop there.
     */
    @FunctionalInterface
    interface DriverWork {
        boolean dueAfter(int round, long step, int steps);
    }
}
