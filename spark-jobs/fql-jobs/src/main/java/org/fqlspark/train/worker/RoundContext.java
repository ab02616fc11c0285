package org.fqlspark.train.worker;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Supplier;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.CollectionAccumulator;
import org.fqlspark.tensor.Backends;

/**
 * What every kind of round needs from the run: the session, the cached worker shards (re-placed after an executor
 * loss, so asked for each round), the model's identity and the run's K and W.
 *
 * @param runId      this invocation's id (keys the live agents on the executors)
 * @param configJson the resolved FQL config, as the workers rebuild it
 * @param seed       the run seed
 * @param threads    CPU threads per worker
 * @param workers    W
 * @param k          K: local steps between two averages
 * @param shards     the cached worker shards as they are placed now
 * @param backend    the workers' tensor backend, {@code --backend}: auto, cpu or opencl (carried to the executors in
 *                   every {@link RoundSpec})
 * @param devices    where the workers report the device each built its agent on ({@link #devicesUsed()})
 */
public record RoundContext(SparkSession spark, String runId, String configJson, int obsDim, int actionDim, long seed,
        int threads, int workers, int k, Supplier<JavaRDD<WorkerShard>> shards, PrintStream log, String backend,
        CollectionAccumulator<String> devices) {

    public RoundContext {
        backend = Backends.check(backend);
    }

    /** The context of a run on {@code backend}, with a new accumulator for the workers' devices. */
    public RoundContext(SparkSession spark, String runId, String configJson, int obsDim, int actionDim, long seed,
            int threads, int workers, int k, Supplier<JavaRDD<WorkerShard>> shards, PrintStream log, String backend) {
        this(spark, runId, configJson, obsDim, actionDim, seed, threads, workers, k, shards, log, backend,
                spark.sparkContext().collectionAccumulator("fql train: worker devices"));
    }

    /** The spec of a round of {@code steps} steps from {@code step}. */
    public RoundSpec spec(long step, int steps) {
        return new RoundSpec(runId, configJson, obsDim, actionDim, seed, step, steps, threads, workers, backend, devices);
    }

    /**
     * The devices the workers have built their agents on so far, as their finished tasks reported them: distinct,
     * sorted, comma-separated ("" before the first round has finished).
     */
    public String devicesUsed() {
        List<String> reported = devices.value();
        synchronized (reported) {
            return String.join(", ", reported.stream().distinct().sorted().toList());
        }
    }

    /** Steps of the round from {@code step} in a phase of {@code [phaseStart, phaseEnd)}: up to the next multiple of K. */
    public int stepsFrom(long step, long phaseStart, long phaseEnd) {
        long done = step - phaseStart;
        return (int) Math.min(k - done % k, phaseEnd - step);
    }

    /** Names the Spark jobs that follow (the UI's description). */
    public void describe(String what) {
        spark.sparkContext().setJobDescription("fql train: " + what);
    }
}
