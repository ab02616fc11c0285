package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Properties;

import org.apache.spark.TaskResultLost$;
import org.apache.spark.TaskState;
import org.apache.spark.executor.ExecutorMetrics;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.scheduler.TaskInfo;
import org.apache.spark.scheduler.TaskLocality;
import org.junit.jupiter.api.Test;

/** A run counts only the failed tasks of jobs its own thread submitted, not those of a concurrent trial. */
class RunListenerTest {

    /**
     * Scala's empty list as whichever Seq the parameter takes: scala.collection.Seq on Scala 2.12 (Spark 3.5),
     * scala.collection.immutable.Seq on 2.13 (Spark 4); the same source compiles on both.
     */
    @SuppressWarnings("unchecked")
    private static <X> X nil() {
        return (X) scala.collection.immutable.Nil$.MODULE$;
    }

    @SuppressWarnings("unchecked")
    private static <X> X unchecked(Object o) {
        return (X) o;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static SparkListenerJobStart jobStart(int jobId, int stageId, String run) {
        StageInfo stage = new StageInfo(stageId, 0, "stage " + stageId, 1, nil(), nil(),
                "", null, nil(), scala.Option.empty(), 0, false, 0);
        Properties properties = new Properties();
        if (run != null) properties.setProperty(RunListener.RUN_PROPERTY, run);
        return new SparkListenerJobStart(jobId, 0L,
                unchecked(scala.collection.JavaConverters.asScalaBuffer(new java.util.ArrayList<>(java.util.List.of(stage))).toSeq()),
                properties);
    }

    private static SparkListenerTaskEnd failedTask(int stageId) {
        TaskInfo info = new TaskInfo(stageId * 10L, 0, 0, 0, 0L, "exec", "host", TaskLocality.PROCESS_LOCAL(), false);
        info.markFinished(TaskState.FAILED(), 1L);
        return new SparkListenerTaskEnd(stageId, 0, "ResultTask", TaskResultLost$.MODULE$, info, new ExecutorMetrics(), null);
    }

    @Test
    void countsOnlyItsOwnFailedTasks() {
        RunListener mine = new RunListener("run-a");
        RunListener theirs = new RunListener("run-b");
        for (RunListener l : new RunListener[] {mine, theirs}) {
            l.onJobStart(jobStart(1, 11, "run-a"));
            l.onJobStart(jobStart(2, 22, "run-b"));
            l.onJobStart(jobStart(3, 33, null));
            l.onTaskEnd(failedTask(11));
            l.onTaskEnd(failedTask(22));
            l.onTaskEnd(failedTask(22));
            l.onTaskEnd(failedTask(33));
        }
        assertEquals(1, mine.failedTasks.get());
        assertEquals(2, theirs.failedTasks.get());
    }
}
