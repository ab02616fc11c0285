package org.fqlspark.train;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.io.Lease;
import org.fqlspark.run.RunDirectory;
import org.fqlspark.train.online.OnlinePhase;
import org.fqlspark.train.online.OnlineRounds;
import org.fqlspark.train.worker.TrainingState;

/**
 * Writes the run's checkpoints: the averaged state with the run's identity (config, dimensions, seed, provenance and the
 * round), the online phase's rows first when it has started (the checkpoint then refers to them), under the lease, so
 * that a driver that lost the run to another never writes over it; metrics.parquet is rewritten with each.
 */
final class CheckpointWriter {

    private final SparkSession spark;
    private final RunDirectory dir;
    private final Lease lease;
    private final FqlConfig config;
    private final int obsDim;
    private final int actionDim;
    private final long seed;
    private final int keep;
    private final Map<String, String> provenance;
    private final MetricsLog metrics;

    CheckpointWriter(SparkSession spark, RunDirectory dir, Lease lease, FqlConfig config, int obsDim, int actionDim, long seed,
            int keep, Map<String, String> provenance, MetricsLog metrics) {
        this.spark = spark;
        this.dir = dir;
        this.lease = lease;
        this.config = config;
        this.obsDim = obsDim;
        this.actionDim = actionDim;
        this.seed = seed;
        this.keep = keep;
        this.provenance = provenance;
        this.metrics = metrics;
    }

    /** Writes the checkpoint of {@code state} after round {@code round}; returns its path. */
    String write(TrainingState state, int round, OnlineRounds online) throws IOException {
        Map<String, String> p = new LinkedHashMap<>(provenance);
        p.put("round", Integer.toString(round));
        if (online != null && online.started()) {
            p.put(OnlinePhase.CHECKPOINT_KEY, online.commit());
        }
        Checkpoint cp = new Checkpoint(config, obsDim, actionDim, seed, state.toAgentState(), p);
        lease.check();   // never write over a run another driver has taken over
        String path = dir.saveCheckpoint(cp, keep).toString();
        metrics.writeParquet(spark);
        return path;
    }

    /** The checkpoint bytes of {@code state} as an evaluation loads them (written nowhere). */
    byte[] image(TrainingState state) {
        return new Checkpoint(config, obsDim, actionDim, seed, state.toAgentState(), provenance).toBytes();
    }
}
