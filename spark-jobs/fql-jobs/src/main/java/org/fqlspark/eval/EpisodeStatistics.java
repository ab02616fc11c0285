package org.fqlspark.eval;

import java.io.Serializable;

import org.apache.commons.math3.distribution.TDistribution;

/**
 * Summary statistics over evaluation episodes as a small add/merge aggregator (testable without Spark): success
 * count, Welford mean and squared deviations of the return (merged with Chan et al.'s pairwise formula), total length.
 * A failed episode (its environment crashed or hung) counts as unsuccessful in the success rate and its interval,
 * since leaving it out would report 1 good episode of 50 as 100%; it has no return or length, so the return and length
 * statistics are over completed episodes only.
 *
 * <p>Intervals (two-sided 95%):
 * <ul>
 * <li>mean return: Student-t, {@code mean ± t(0.975, n−1) · s / √n} with the sample standard deviation s; undefined
 * (null) for fewer than two completed episodes;</li>
 * <li>success rate: Wilson score interval, which stays inside [0, 1] and is sensible at 0% and 100%.</li>
 * </ul>
 */
public final class EpisodeStatistics implements Serializable {

    /** The 0.975 quantile of the standard normal. */
    static final double Z_975 = 1.959963984540054;

    private long completed;
    private long failed;
    private long successes;
    private double meanReturn;
    private double squaredDeviations;
    private long totalLength;

    public EpisodeStatistics add(EpisodeResult episode) {
        if (episode.failed()) {
            failed++;
            return this;
        }
        completed++;
        if (episode.success()) successes++;
        totalLength += episode.length();
        double delta = episode.episodeReturn() - meanReturn;
        meanReturn += delta / completed;
        squaredDeviations += delta * (episode.episodeReturn() - meanReturn);
        return this;
    }

    public EpisodeStatistics merge(EpisodeStatistics other) {
        long n = completed + other.completed;
        if (n > 0) {
            double delta = other.meanReturn - meanReturn;
            meanReturn += delta * other.completed / n;
            squaredDeviations += other.squaredDeviations + delta * delta * ((double) completed * other.completed / n);
        }
        completed = n;
        failed += other.failed;
        successes += other.successes;
        totalLength += other.totalLength;
        return this;
    }

    public static EpisodeStatistics of(Iterable<EpisodeResult> episodes) {
        EpisodeStatistics statistics = new EpisodeStatistics();
        for (EpisodeResult episode : episodes) statistics.add(episode);
        return statistics;
    }

    public long completed() {
        return completed;
    }

    public long failed() {
        return failed;
    }

    public long successes() {
        return successes;
    }

    /** Successes over all episodes, failed ones counted as unsuccessful, in [0, 1]; NaN when there were none. */
    public double successRate() {
        long all = completed + failed;
        return all == 0 ? Double.NaN : (double) successes / all;
    }

    /** NaN when no episode completed. */
    public double meanReturn() {
        return completed == 0 ? Double.NaN : meanReturn;
    }

    /** Sample standard deviation (n − 1 in the denominator); NaN for fewer than two episodes. */
    public double returnStd() {
        return completed < 2 ? Double.NaN : Math.sqrt(squaredDeviations / (completed - 1));
    }

    /** NaN when no episode completed. */
    public double meanLength() {
        return completed == 0 ? Double.NaN : (double) totalLength / completed;
    }

    public long totalLength() {
        return totalLength;
    }

    /** Student-t 95% interval {low, high} of the mean return; null for fewer than two completed episodes. */
    public double[] returnConfidenceInterval() {
        if (completed < 2) return null;
        double halfWidth = studentT975(completed - 1) * returnStd() / Math.sqrt(completed);
        return new double[] {meanReturn - halfWidth, meanReturn + halfWidth};
    }

    /** Wilson score 95% interval {low, high} of the success rate over all episodes; null when there were none. */
    public double[] successRateConfidenceInterval() {
        if (completed + failed == 0) return null;
        double n = completed + failed;
        double p = successRate();
        double z2 = Z_975 * Z_975;
        double denominator = 1 + z2 / n;
        double centre = (p + z2 / (2 * n)) / denominator;
        double halfWidth = Z_975 / denominator * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return new double[] {Math.max(0, centre - halfWidth), Math.min(1, centre + halfWidth)};
    }

    /** The 0.975 quantile of Student's t with {@code degreesOfFreedom}. */
    static double studentT975(long degreesOfFreedom) {
        return new TDistribution(null, degreesOfFreedom, TDistribution.DEFAULT_INVERSE_ABSOLUTE_ACCURACY)
                .inverseCumulativeProbability(0.975);
    }
}
