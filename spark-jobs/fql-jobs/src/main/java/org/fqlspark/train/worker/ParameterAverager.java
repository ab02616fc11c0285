package org.fqlspark.train.worker;

import java.io.Serializable;
import java.util.BitSet;
import java.util.TreeMap;

/**
 * The averaging step of DL4J's {@code ParameterAveragingTrainingMaster}, for FQL's state: a small aggregator that sums
 * the parameters, the target critic and both Adam moments (updater-state averaging) of every worker, plus a count,
 * fed to {@code treeAggregate}; {@link #average()} divides. Testable without Spark.
 *
 * <p>Contributions are kept per worker, as the float arrays the workers sent, and {@link #average()} sums them in
 * worker order (0, 1, ..., W-1) in double, then divides once and rounds to float. So the average does not depend on
 * the order in which tasks finish or on the shape of the aggregation tree: any W is deterministic by construction.
 * One worker's "average" is that worker's state bit for bit (W = 1 reproduces the single-process trainer, signed
 * zeros included). The price: the holder of the final aggregate (the driver) keeps all W states until
 * {@link #average()}; a partial aggregate on an executor ships the states it holds, not a sum.
 */
public final class ParameterAverager implements Serializable {

    private static final long serialVersionUID = 1L;

    private int count;
    private long step = -1;
    /** Each contributing worker's arrays (parameters, target, Adam m, Adam v), by worker id. */
    private final TreeMap<Integer, float[][]> states = new TreeMap<>();
    private final BitSet workers = new BitSet();
    private final RoundMetrics metrics = new RoundMetrics();
    private double maxComputeSeconds;
    private double sumComputeSeconds;
    private WorkerOutcome.Divergence divergence;

    /** Adds one worker's outcome; returns this. */
    public ParameterAverager add(WorkerOutcome o) {
        ParameterAverager one = new ParameterAverager();
        one.count = 1;
        one.step = o.state().step();
        one.states.put(o.worker(), o.state().arrays());
        one.workers.set(o.worker());
        one.metrics.merge(o.metrics());
        one.maxComputeSeconds = o.computeSeconds();
        one.sumComputeSeconds = o.computeSeconds();
        one.divergence = o.divergence();
        return merge(one);
    }

    /** Merges another partial aggregate into this one; returns this. */
    public ParameterAverager merge(ParameterAverager other) {
        if (other.count == 0) {
            return this;
        }
        if (workers.intersects(other.workers)) {
            throw new IllegalStateException("worker(s) " + intersection(other) + " contributed twice to one average");
        }
        if (count == 0) {
            step = other.step;
        } else if (step != other.step) {
            throw new IllegalStateException("workers ended the round at different steps: " + step + " and " + other.step);
        }
        states.putAll(other.states);
        count += other.count;
        workers.or(other.workers);
        metrics.merge(other.metrics);
        maxComputeSeconds = Math.max(maxComputeSeconds, other.maxComputeSeconds);
        sumComputeSeconds += other.sumComputeSeconds;
        if (other.divergence != null && (divergence == null || other.divergence.before(divergence))) {
            divergence = other.divergence;
        }
        return this;
    }

    /** The element-wise mean of every contributed state (each array divided by the count). */
    public TrainingState average() {
        if (count == 0) {
            throw new IllegalStateException("no worker contributed to the average");
        }
        float[][] a;
        if (states.size() == 1) {
            a = states.firstEntry().getValue();
        } else {
            double[][] sums = null;
            for (float[][] worker : states.values()) {   // worker order
                if (sums == null) {
                    sums = toDouble(worker);
                } else {
                    addInto(sums, worker);
                }
            }
            a = new float[sums.length][];
            for (int k = 0; k < sums.length; k++) {
                a[k] = new float[sums[k].length];
                for (int i = 0; i < a[k].length; i++) {
                    a[k][i] = (float) (sums[k][i] / count);
                }
            }
        }
        return new TrainingState(a[0], a[1], a[2], a[3], step);
    }

    public int count() {
        return count;
    }

    public BitSet workers() {
        return (BitSet) workers.clone();
    }

    public RoundMetrics metrics() {
        return metrics;
    }

    /** The slowest worker's compute time (the round's critical path without the averaging). */
    public double maxComputeSeconds() {
        return maxComputeSeconds;
    }

    public double sumComputeSeconds() {
        return sumComputeSeconds;
    }

    /** The earliest non-finite step any worker met, or null. */
    public WorkerOutcome.Divergence divergence() {
        return divergence;
    }

    private String intersection(ParameterAverager other) {
        BitSet b = (BitSet) workers.clone();
        b.and(other.workers);
        return b.toString();
    }

    private static double[][] toDouble(float[][] a) {
        double[][] d = new double[a.length][];
        for (int k = 0; k < a.length; k++) {
            d[k] = new double[a[k].length];
            for (int i = 0; i < a[k].length; i++) {
                d[k][i] = a[k][i];
            }
        }
        return d;
    }

    private static void addInto(double[][] sum, float[][] a) {
        check(sum, a.length);
        for (int k = 0; k < a.length; k++) {
            checkLength(sum[k].length, a[k].length);
            for (int i = 0; i < a[k].length; i++) {
                sum[k][i] += a[k][i];
            }
        }
    }

    private static void check(double[][] sum, int n) {
        if (sum.length != n) {
            throw new IllegalStateException("states with " + sum.length + " and " + n + " arrays cannot be averaged");
        }
    }

    private static void checkLength(int a, int b) {
        if (a != b) {
            throw new IllegalStateException("states of " + a + " and " + b + " values cannot be averaged");
        }
    }
}
