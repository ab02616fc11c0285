package org.fqlspark.train;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;

/**
 * Counts lost executors and this run's failed task attempts, for the result and the log. Several runs can share a
 * SparkContext (a sweep's concurrent trials), so a task counts only when its job was submitted by this run's thread
 * (tagged with the local property {@link #RUN_PROPERTY}); a lost executor is shared by every run on it.
 */
final class RunListener extends SparkListener {

    /** The Spark local property naming the run that submitted a job. */
    static final String RUN_PROPERTY = "fql.train.run";

    final AtomicInteger executorsLost = new AtomicInteger();
    final AtomicInteger failedTasks = new AtomicInteger();
    private final String runId;
    private final Set<Integer> stages = ConcurrentHashMap.newKeySet();

    RunListener(String runId) {
        this.runId = runId;
    }

    @Override
    public void onJobStart(SparkListenerJobStart start) {
        if (start.properties() != null && runId.equals(start.properties().getProperty(RUN_PROPERTY))) {
            scala.collection.Iterator<StageInfo> it = start.stageInfos().iterator();
            while (it.hasNext()) stages.add(it.next().stageId());
        }
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        executorsLost.incrementAndGet();
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!end.taskInfo().successful() && stages.contains(end.stageId())) {
            failedTasks.incrementAndGet();
        }
    }
}
