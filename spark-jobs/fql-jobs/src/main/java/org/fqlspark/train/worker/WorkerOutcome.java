package org.fqlspark.train.worker;

import java.io.Serializable;

/**
 * What one worker sends back after a round: its state after the local steps, the round's metric sums, its pure
 * compute time (the gradient steps only), and the first non-finite loss it met, if any.
 */
public record WorkerOutcome(int worker, TrainingState state, RoundMetrics metrics, double computeSeconds, Divergence divergence)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** A step whose losses were not finite. */
    public record Divergence(int worker, long step, String losses) implements Serializable {
        private static final long serialVersionUID = 1L;

        public boolean before(Divergence o) {
            return step < o.step || step == o.step && worker < o.worker;
        }
    }
}
