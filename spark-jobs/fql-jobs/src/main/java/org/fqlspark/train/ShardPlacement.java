package org.fqlspark.train;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.train.worker.ShardLoader;
import org.fqlspark.train.worker.WorkerRegistry;
import org.fqlspark.train.worker.WorkerShard;

/**
 * The W worker shards, cached on the executors, and where they live: loaded once (the row counts checked against the
 * manifest), placed again after an executor holding one was lost, and released when the run ends. Also counts, through
 * a {@link RunListener}, the executors lost and the task attempts that failed during the run.
 */
final class ShardPlacement implements AutoCloseable {

    /** How long the driver waits for executors to offer W task slots (at the start, and after a loss). */
    static final Duration PLACEMENT_TIMEOUT = Duration.ofSeconds(60);

    private final SparkSession spark;
    private final RunStart.DatasetRef data;
    private final int workers;
    /** The action-chunk length h: how the rows are split (per transition at 1, per episode above). */
    private final int horizon;
    private final PrintStream log;
    private final RunListener listener;
    private JavaRDD<WorkerShard> shards;
    /** Executors meant to hold the shards, in worker order (empty in local mode). */
    private List<String> placement;
    private List<Integer> rows = List.of();
    private double loadSeconds;
    /** Executors lost (as the listener counted them) when the shards were last placed. */
    private int lostAtPlacement;
    private int placements = 1;
    private long waitedForSlotsSince = -1;

    private ShardPlacement(SparkSession spark, RunStart.DatasetRef data, int workers, int horizon, List<String> placement,
            String runId, PrintStream log) {
        this.spark = spark;
        this.data = data;
        this.workers = workers;
        this.horizon = horizon;
        this.placement = placement;
        this.log = log;
        this.listener = new RunListener(runId);
    }

    /**
     * The executors to place W workers on, before anything is written: a cluster that cannot hold W workers side by side
     * is refused (exit code 2).
     */
    static List<String> preferredLocations(SparkSession spark, int workers, PrintStream log) {
        return ExecutorPlacement.preferredLocations(spark.sparkContext(), workers, PLACEMENT_TIMEOUT, log);
    }

    /**
     * Loads and caches the shards on {@code placement} and checks their rows add up to the manifest's count;
     * {@code horizon} is the config's action-chunk length ({@link ShardLoader#load}).
     */
    static ShardPlacement load(SparkSession spark, RunStart.DatasetRef data, int workers, int horizon, List<String> placement,
            String runId, PrintStream log) {
        ShardPlacement p = new ShardPlacement(spark, data, workers, horizon, placement, runId, log);
        long t0 = System.nanoTime();
        p.shards = ShardLoader.load(spark, data.dir(), data.manifest(), workers, horizon, placement);
        spark.sparkContext().setLocalProperty(RunListener.RUN_PROPERTY, runId);
        spark.sparkContext().addSparkListener(p.listener);
        try {
            spark.sparkContext().setJobDescription("fql train: load " + workers + " worker shards");
            try {
                p.rows = p.shards.map(WorkerShard::size).collect();
            } catch (Exception e) {   // Spark rethrows task failures as the checked SparkException
                throw badDataOr(e);
            }
            long total = p.rows.stream().mapToLong(Integer::longValue).sum();
            if (total != data.transitions()) {
                throw new IllegalArgumentException(data.dir() + ": read " + total + " transitions, the manifest says "
                        + data.transitions());
            }
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        p.loadSeconds = (System.nanoTime() - t0) / 1e9;
        log.printf(Locale.ROOT, "fql train: %d transitions in %d worker shards %s, loaded in %.1f s%s%n", data.transitions(),
                p.rows.size(), p.rows, p.loadSeconds, placement.isEmpty() ? "" : ", placed on " + placement);
        return p;
    }

    JavaRDD<WorkerShard> rdd() {
        return shards;
    }

    List<Integer> rows() {
        return rows;
    }

    double loadSeconds() {
        return loadSeconds;
    }

    List<String> placement() {
        return placement;
    }

    int placements() {
        return placements;
    }

    int executorsLost() {
        return listener.executorsLost.get();
    }

    int failedTasks() {
        return listener.failedTasks.get();
    }

    /**
     * After an executor holding a shard was lost, Spark recomputes that shard wherever a slot is free, usually beside
     * another worker, and locality then keeps both there: rounds run at half speed from then on. So once the cluster
     * offers W slots again (the replacement executor registered), the shards are loaded again with the lost workers
     * placed on executors with free slots; surviving workers keep their executor. Until then rounds go on, the round
     * after a loss waiting up to {@link #PLACEMENT_TIMEOUT} for the replacement. Numbers do not change: the shards
     * are the same rows in the same order and every round starts from the broadcast average.
     */
    void placeAgainIfLost(long step) {
        int lost = listener.executorsLost.get();
        if (placement.isEmpty() || lost == lostAtPlacement) {
            return;
        }
        SparkContext sc = spark.sparkContext();
        if (ExecutorPlacement.allAlive(sc, placement)) {
            lostAtPlacement = lost;   // an executor without a shard: nothing to move
            return;
        }
        if (waitedForSlotsSince < 0) {
            waitedForSlotsSince = System.nanoTime();
            log.printf("fql train: an executor holding a shard was lost before step %d; waiting up to %d s for a "
                    + "replacement to place it again%n", step, PLACEMENT_TIMEOUT.toSeconds());
        }
        long deadline = waitedForSlotsSince + PLACEMENT_TIMEOUT.toNanos();
        while (!ExecutorPlacement.ready(sc, workers) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (!ExecutorPlacement.ready(sc, workers)) {
            return;   // still short of slots: workers share until a replacement registers (checked every round)
        }
        long t0 = System.nanoTime();
        List<String> fresh = ExecutorPlacement.replace(sc, placement);
        sc.setJobDescription("fql train: place " + workers + " worker shards again");
        JavaRDD<WorkerShard> moved = ShardLoader.load(spark, data.dir(), data.manifest(), workers, horizon, fresh);
        List<Integer> sizes = moved.map(WorkerShard::size).collect();
        if (!sizes.equals(rows)) {
            moved.unpersist(false);
            throw new IllegalStateException("reloading the shards gave " + sizes + " rows per worker, first load " + rows);
        }
        shards.unpersist(false);
        shards = moved;
        log.printf(Locale.ROOT, "fql train: shards placed again at step %d on %s (was %s), in %.1f s%n", step, fresh,
                placement, (System.nanoTime() - t0) / 1e9);
        placement = fresh;
        lostAtPlacement = lost;
        placements++;
        waitedForSlotsSince = -1;
    }

    /** Drops the live agents of run {@code runId} in every executor that holds a shard (best effort), and here. */
    void releaseWorkers(String runId) {
        try {
            spark.sparkContext().setJobDescription("fql train: release worker agents");
            shards.foreachPartition(it -> WorkerRegistry.release(runId));
        } catch (RuntimeException e) {
            log.println("fql train: could not release worker agents on every executor: " + e.getMessage());
        }
        WorkerRegistry.release(runId);
    }

    /** Uncaches the shards and stops counting. */
    @Override
    public void close() {
        spark.sparkContext().setJobDescription(null);
        shards.unpersist(false);
        spark.sparkContext().removeSparkListener(listener);
        spark.sparkContext().setLocalProperty(RunListener.RUN_PROPERTY, null);
    }

    /** A data error raised inside a load task, unwrapped so it reads as bad input (exit code 2). */
    private static RuntimeException badDataOr(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException bad) {
                return new IllegalArgumentException(bad.getMessage(), e);
            }
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
    }
}
