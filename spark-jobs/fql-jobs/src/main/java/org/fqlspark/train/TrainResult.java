package org.fqlspark.train;

import java.util.List;
import java.util.Map;
import org.fqlspark.train.worker.TrainingState;

/**
 * What a training run did.
 *
 * @param runDir             the run directory (qualified URI)
 * @param startStep          the step it started from (0, or the resumed checkpoint's step)
 * @param finalStep          the step it ended at
 * @param rounds             averaging rounds run by this invocation
 * @param finalState         the final averaged state (also in the last checkpoint)
 * @param lastMetrics        the last round's metrics (names as in metrics.csv)
 * @param lastCheckpoint     path of the last checkpoint written
 * @param trainSeconds       wall time of the rounds (excludes start-up and data loading)
 * @param loadSeconds        time to read the dataset into the workers' cached shards
 * @param averagingSeconds   time of the rounds not spent in the slowest worker's gradient steps: broadcast,
 *                           scheduling, state upload/download, treeAggregate, the average itself
 * @param samplesPerSecond   W · steps · batch size / trainSeconds
 * @param workerRows         transitions per worker shard
 * @param executorsLost      executors Spark reported removed during the run
 * @param failedTasks        task attempts that failed (and were retried) during the run
 */
public record TrainResult(
        String runDir,
        long startStep,
        long finalStep,
        int rounds,
        TrainingState finalState,
        Map<String, Double> lastMetrics,
        String lastCheckpoint,
        double trainSeconds,
        double loadSeconds,
        double averagingSeconds,
        double samplesPerSecond,
        List<Integer> workerRows,
        int executorsLost,
        int failedTasks) {

    /** Share of the training wall time spent outside the workers' gradient steps. */
    public double averagingShare() {
        return trainSeconds > 0 ? averagingSeconds / trainSeconds : 0;
    }
}
