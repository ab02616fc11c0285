package org.fqlspark.train;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.spark.SparkContext;
import org.apache.spark.storage.BlockManagerId;

import scala.collection.JavaConverters;

/**
 * Where worker shards should live on a cluster: one worker per executor task slot, spread over the executors, so
 * that the W tasks of a round run side by side. Without this, the load job can run before every executor has
 * registered, both shards get cached on the first executor, and from then on locality (a round is shorter than
 * {@code spark.locality.wait}) keeps every round on that one executor, serialising the workers.
 */
final class ExecutorPlacement {

    private ExecutorPlacement() {
    }

    /**
     * Waits (up to {@code timeout}) until the registered executors have task slots for {@code workers} tasks, then
     * returns one preferred location per worker ({@code executor_<host>_<id>}, round-robin over the executors sorted
     * by id). Empty in local mode, where every task runs in this JVM anyway.
     */
    static List<String> preferredLocations(SparkContext sc, int workers, Duration timeout, PrintStream log) {
        if (sc.isLocal()) {
            return List.of();
        }
        int taskCpus = sc.conf().getInt("spark.task.cpus", 1);
        int executorCores = sc.conf().getInt("spark.executor.cores", 0);
        int slotsPerExecutor = executorCores > 0 ? Math.max(1, executorCores / taskCpus) : workers;   // unknown: one executor may do
        int wanted = (workers + slotsPerExecutor - 1) / slotsPerExecutor;
        long deadline = System.nanoTime() + timeout.toNanos();
        List<BlockManagerId> executors = executors(sc);
        while (executors.size() < wanted && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            executors = executors(sc);
        }
        if (executors.isEmpty()) {
            return List.of();
        }
        if (executors.size() < wanted) {
            log.printf("fql train: only %d of the %d executors wanted for %d workers registered within %s; some workers will share%n",
                    executors.size(), wanted, workers, timeout);
        }
        List<String> out = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            BlockManagerId e = executors.get(w % executors.size());
            out.add("executor_" + e.host() + "_" + e.executorId());
        }
        return out;
    }

    private static List<BlockManagerId> executors(SparkContext sc) {
        List<BlockManagerId> ids = new ArrayList<>(JavaConverters.setAsJavaSet(sc.env().blockManager().master().getMemoryStatus().keySet()));
        ids.removeIf(id -> id.isDriver());
        ids.sort(Comparator.comparing((BlockManagerId id) -> id.executorId().length()).thenComparing(BlockManagerId::executorId));
        return ids;
    }
}
