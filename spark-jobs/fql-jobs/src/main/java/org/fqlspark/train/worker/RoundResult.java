package org.fqlspark.train.worker;

/**
 * What one round did, whichever kind ran it.
 *
 * @param steps          steps each worker took
 * @param metrics        the workers' merged loss metrics
 * @param computeSeconds the slowest worker's compute time
 * @param reported       workers that reported (all W, or the round failed)
 * @param divergence     the first non-finite loss a worker saw, or null
 * @param next           the averaged state after the round, or null when it is not known here (a round in the middle of
 *                       a stage whose workers averaged among themselves) or the round failed
 * @param nonFinite      the first non-finite entry of {@code next}, or null
 * @param seconds        the round's wall time on the driver (collection included)
 * @param collectSeconds of which collecting online experience took this long (0 offline)
 */
public record RoundResult(int steps, RoundMetrics metrics, double computeSeconds, int reported,
        WorkerOutcome.Divergence divergence, TrainingState next, String nonFinite, double seconds, double collectSeconds) {

    /** The result of a round whose W outcomes were summed into {@code sum} on the driver. */
    public static RoundResult averaged(ParameterAverager sum, int steps, int workers, double seconds, double collectSeconds) {
        WorkerOutcome.Divergence divergence = sum.divergence();
        TrainingState next = divergence == null && sum.count() == workers ? sum.average() : null;
        return new RoundResult(steps, sum.metrics(), sum.maxComputeSeconds(), sum.count(), divergence, next,
                next == null ? null : next.firstNonFinite(), seconds, collectSeconds);
    }

    /** Time spent neither computing nor collecting: the averaging's share of the round. */
    public double averagingSeconds() {
        return Math.max(0, seconds - collectSeconds - computeSeconds);
    }
}
