package org.fqlspark.train;

import java.util.concurrent.atomic.AtomicInteger;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/** Counts lost executors and failed task attempts during a run, for the result and the log. */
final class RunListener extends SparkListener {

    final AtomicInteger executorsLost = new AtomicInteger();
    final AtomicInteger failedTasks = new AtomicInteger();

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
        executorsLost.incrementAndGet();
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!end.taskInfo().successful()) {
            failedTasks.incrementAndGet();
        }
    }
}
