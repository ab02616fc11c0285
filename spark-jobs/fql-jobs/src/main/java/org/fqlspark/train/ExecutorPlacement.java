package org.fqlspark.train;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.resource.ExecutorResourceRequest;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.resource.TaskResourceRequest;
import org.apache.spark.storage.BlockManagerId;

import scala.collection.JavaConverters;

/**
 * Where worker shards should live: one worker per task slot, spread over the executors, so that the W tasks of a
 * round run side by side. Without this, the load job can run before every executor has registered, both shards get
 * cached on the first executor, and from then on locality (a round is shorter than {@code spark.locality.wait}) keeps
 * every round on that one executor, serialising the workers.
 *
 * <p>Task slots are counted from the default resource profile, as Spark's scheduler counts them: per executor, the
 * fewest tasks any resource allows (cores / {@code spark.task.cpus}, GPUs / {@code spark.task.resource.gpu.amount},
 * ...), summed over the registered executors ({@code SparkContext.maxNumConcurrentTasks}). A run asking for more
 * workers than the cluster can hold is refused, with the numbers, rather than run with workers queued behind each
 * other. Nothing here touches ND4J: the driver needs neither a GPU nor a CUDA backend.
 */
final class ExecutorPlacement {

    /** Thrown when the cluster cannot give every worker its own task slot (bad input: exit code 2). */
    static final class NotEnoughSlotsException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        NotEnoughSlotsException(String message) {
            super(message);
        }
    }

    private ExecutorPlacement() {
    }

    /**
     * Checks that {@code workers} tasks fit side by side, waiting (up to {@code timeout}) for executors to register, and
     * returns one preferred location per worker ({@code executor_<host>_<id>}, round-robin over the executors sorted by
     * id); empty in local mode, where every task runs in this JVM anyway.
     *
     * @throws NotEnoughSlotsException when the settings cannot give W slots, or the registered executors did not offer
     *     them within {@code timeout}
     */
    static List<String> preferredLocations(SparkContext sc, int workers, Duration timeout, PrintStream log) {
        ResourceProfile profile = sc.resourceProfileManager().defaultResourceProfile();
        if (sc.isLocal()) {
            int slots = sc.maxNumConcurrentTasks(profile);
            if (workers > slots) {
                throw new NotEnoughSlotsException(String.format(Locale.ROOT, "--workers %d needs %d task slots (one per worker, "
                        + "so that a round's workers run side by side); %s offers %d (spark.task.cpus=%d). Use --workers %d or "
                        + "fewer, or a master with more cores", workers, workers, sc.master(), slots, taskCpus(sc.conf()), slots));
            }
            return List.of();
        }
        int perExecutor = profile.maxTasksPerExecutor(sc.conf());
        int bound = upperBound(sc.conf(), perExecutor);
        if (workers > bound) {
            throw new NotEnoughSlotsException(String.format(Locale.ROOT, "--workers %d needs %d task slots, but these settings "
                    + "allow at most %d: %s. Use --workers %d or fewer, or give the application more executors", workers, workers,
                    bound, describe(sc.conf(), profile), bound));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        int slots = sc.maxNumConcurrentTasks(profile);
        List<BlockManagerId> executors = executors(sc);
        // The scheduler counts an executor's slots before its block manager (which names its location) registers.
        while ((slots < workers || !blockManagersOfAll(sc, executors)) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            slots = sc.maxNumConcurrentTasks(profile);
            executors = executors(sc);
        }
        if (slots < workers) {
            throw new NotEnoughSlotsException(String.format(Locale.ROOT, "--workers %d needs %d task slots; within %d s the "
                    + "cluster registered %d executor(s) with %d slots in all (%s). Use --workers %d or fewer, or check that "
                    + "the cluster can start the executors this application asks for", workers, workers, timeout.toSeconds(),
                    executors.size(), slots, describe(sc.conf(), profile), Math.max(1, slots)));
        }
        if (executors.isEmpty()) {
            log.println("fql train: no executor block manager registered yet; shards are placed by Spark's scheduler");
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            out.add(location(executors.get(w % executors.size())));
        }
        return out;
    }

    private static boolean blockManagersOfAll(SparkContext sc, List<BlockManagerId> executors) {
        Set<String> known = new HashSet<>();
        for (BlockManagerId e : executors) {
            known.add(e.executorId());
        }
        return !executors.isEmpty() && known.containsAll(JavaConverters.seqAsJavaList(sc.getExecutorIds()));
    }

    /** Whether the registered executors offer {@code workers} slots and all of them can be named as locations. */
    static boolean ready(SparkContext sc, int workers) {
        return slots(sc) >= workers && blockManagersOfAll(sc, executors(sc));
    }

    /** Task slots the registered executors offer now. */
    static int slots(SparkContext sc) {
        return sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
    }

    /** Whether every executor of {@code placement} is still registered. */
    static boolean allAlive(SparkContext sc, List<String> placement) {
        Set<String> alive = new HashSet<>();
        for (BlockManagerId e : executors(sc)) {
            alive.add(location(e));
        }
        return alive.containsAll(placement);
    }

    /**
     * A new placement after executors were lost: workers whose executor is alive stay where they are (their cached
     * shard and live agent stay useful), the others go to the alive executors holding the fewest workers, in executor
     * order. Call it once {@link #slots} is back to at least the worker count.
     */
    static List<String> replace(SparkContext sc, List<String> placement) {
        List<String> alive = new ArrayList<>();
        for (BlockManagerId e : executors(sc)) {
            alive.add(location(e));
        }
        return replace(placement, alive);
    }

    static List<String> replace(List<String> placement, List<String> aliveExecutors) {
        if (aliveExecutors.isEmpty()) {
            return placement;
        }
        Map<String, Integer> load = new LinkedHashMap<>();
        for (String e : aliveExecutors) {
            load.put(e, 0);
        }
        for (String p : placement) {
            load.computeIfPresent(p, (k, v) -> v + 1);
        }
        List<String> out = new ArrayList<>(placement);
        for (int w = 0; w < out.size(); w++) {
            if (!load.containsKey(out.get(w))) {
                String least = null;
                for (Map.Entry<String, Integer> e : load.entrySet()) {
                    if (least == null || e.getValue() < load.get(least)) {
                        least = e.getKey();
                    }
                }
                out.set(w, least);
                load.merge(least, 1, Integer::sum);
            }
        }
        return out;
    }

    /** The most slots these settings can ever give (executor count times slots per executor), where they say. */
    private static int upperBound(SparkConf conf, int perExecutor) {
        int bound = Integer.MAX_VALUE;
        if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            int max = conf.getInt("spark.dynamicAllocation.maxExecutors", Integer.MAX_VALUE);
            if (max < Integer.MAX_VALUE) {
                bound = (int) Math.min(bound, (long) max * perExecutor);
            }
        } else if (conf.contains("spark.executor.instances")) {
            bound = (int) Math.min(bound, (long) conf.getInt("spark.executor.instances", 0) * perExecutor);
        }
        if (conf.contains("spark.cores.max")) {   // standalone: the application's total cores
            int coresMax = conf.getInt("spark.cores.max", Integer.MAX_VALUE);
            int executorCores = conf.getInt("spark.executor.cores", 0);
            int byCores = executorCores > 0 ? (coresMax / executorCores) * perExecutor : coresMax / taskCpus(conf);
            bound = Math.min(bound, byCores);
        }
        return bound;
    }

    /** The settings that decide slots per executor, for messages. */
    static String describe(SparkConf conf, ResourceProfile profile) {
        StringBuilder b = new StringBuilder();
        b.append(profile.maxTasksPerExecutor(conf)).append(" slot(s) per executor, limited by ")
                .append(profile.limitingResource(conf).isEmpty() ? "cpus" : profile.limitingResource(conf));
        b.append("; spark.executor.cores=").append(conf.get("spark.executor.cores", "(unset)"));
        b.append(", spark.task.cpus=").append(taskCpus(conf));
        for (Map.Entry<String, ExecutorResourceRequest> e : profile.executorResourcesJMap().entrySet()) {
            if (e.getKey().equals("cores") || e.getKey().equals("memory") || e.getKey().equals("offHeap")
                    || e.getKey().equals("memoryOverhead") || e.getKey().equals("pyspark.memory")) {
                continue;
            }
            b.append(", spark.executor.resource.").append(e.getKey()).append(".amount=").append(e.getValue().amount());
        }
        for (Map.Entry<String, TaskResourceRequest> e : profile.taskResourcesJMap().entrySet()) {
            if (!e.getKey().equals("cpus")) {
                b.append(", spark.task.resource.").append(e.getKey()).append(".amount=").append(e.getValue().amount());
            }
        }
        for (String key : List.of("spark.cores.max", "spark.executor.instances", "spark.dynamicAllocation.maxExecutors")) {
            if (conf.contains(key)) {
                b.append(", ").append(key).append('=').append(conf.get(key));
            }
        }
        return b.toString();
    }

    private static int taskCpus(SparkConf conf) {
        return conf.getInt("spark.task.cpus", 1);
    }

    private static String location(BlockManagerId e) {
        return "executor_" + e.host() + "_" + e.executorId();
    }

    private static List<BlockManagerId> executors(SparkContext sc) {
        List<BlockManagerId> ids = new ArrayList<>(JavaConverters.setAsJavaSet(sc.env().blockManager().master().getMemoryStatus().keySet()));
        ids.removeIf(id -> id.isDriver());
        ids.sort(Comparator.comparing((BlockManagerId id) -> id.executorId().length()).thenComparing(BlockManagerId::executorId));
        return ids;
    }
}
