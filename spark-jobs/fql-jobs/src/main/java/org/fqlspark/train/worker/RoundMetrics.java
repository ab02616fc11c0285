package org.fqlspark.train.worker;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Map;

import org.fqlspark.agent.LossReport;

/**
 * Sums of the {@link LossReport} values over the steps of a round (one worker, or several merged): the round's
 * metrics are their means, reported under the official code's names ({@link LossReport#metrics(double)}).
 */
public final class RoundMetrics implements Serializable {

    private static final long serialVersionUID = 1L;
    /** How many sums a round's metrics hold. */
    public static final int FIELDS = 9;

    private final double[] sums = new double[FIELDS];
    private long steps;

    public void add(LossReport r) {
        sums[0] += r.criticLoss();
        sums[1] += r.bcFlowLoss();
        sums[2] += r.distillLoss();
        sums[3] += r.qLoss();
        sums[4] += r.qMean();
        sums[5] += r.qMax();
        sums[6] += r.qMin();
        sums[7] += r.actorQ();
        sums[8] += r.gradNorm();
        steps++;
    }

    public void merge(RoundMetrics other) {
        for (int i = 0; i < FIELDS; i++) {
            sums[i] += other.sums[i];
        }
        steps += other.steps;
    }

    public long steps() {
        return steps;
    }

    /** The sums in field order (a copy): with {@link #steps()}, the whole of this object, as the peer exchange sends it. */
    public double[] sums() {
        return sums.clone();
    }

    /** Metrics with these sums and step count (what {@link #sums()} and {@link #steps()} gave on the sending side). */
    public static RoundMetrics of(double[] sums, long steps) {
        if (sums.length != FIELDS) {
            throw new IllegalArgumentException("round metrics have " + FIELDS + " sums, not " + sums.length);
        }
        RoundMetrics m = new RoundMetrics();
        System.arraycopy(sums, 0, m.sums, 0, FIELDS);
        m.steps = steps;
        return m;
    }

    /** The mean report over all merged steps (NaN fields when there were none). */
    public LossReport mean() {
        double[] m = Arrays.stream(sums).map(s -> s / steps).toArray();
        return new LossReport(m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], Map.of());
    }
}
