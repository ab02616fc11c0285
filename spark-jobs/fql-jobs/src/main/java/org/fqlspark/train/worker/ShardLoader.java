package org.fqlspark.train.worker;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import org.apache.hadoop.fs.Path;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.storage.StorageLevel;
import org.fqlspark.data.DatasetManifest;
import org.fqlspark.data.DatasetSchema;
import org.fqlspark.data.TransitionData;

import scala.Tuple2;

/**
 * Reads a dataset's Parquet shards (the {@link DatasetSchema} contract, files listed in its manifest) into one
 * {@link WorkerShard} per worker, as an RDD of W partitions that the caller persists: partition w is worker w's
 * shard. Done once per run; rounds then reuse the cached shards.
 *
 * <p>Each transition goes to worker {@link Seeds#workerOf(long, int, int, int)}(episode_id, step_index, W, h): per
 * transition without action chunks, per episode with chunks of h &gt; 1 steps; within a worker, rows are put in
 * (episode_id, step_index) order, so a shard does not depend on how Spark split the files, and with one worker the
 * shard is the dataset in its contract order, which is what the single-process trainer sees. Split per episode, a
 * worker's rows of one episode are therefore all of that episode's rows, contiguous and in step order: a chunk of h
 * consecutive shard rows never skips rows that another worker holds ({@link WorkerShard#ends()} marks where it
 * crosses into the next episode). Columns are
 * read in bulk from Spark's internal rows ({@code ArrayData.toFloatArray}) and moved as a few large primitive
 * arrays per (input partition, worker); no value is boxed.
 */
public final class ShardLoader {

    private ShardLoader() {
    }

    /**
     * @param horizon the action-chunk length h ({@code FqlConfig.horizonLength()}): 1 splits per transition, more per
     *                episode
     */
    public static JavaRDD<WorkerShard> load(SparkSession spark, Path datasetDir, DatasetManifest manifest, int workers, int horizon,
            List<String> placement) {
        String[] files = manifest.shards().stream().map(s -> new Path(datasetDir, s.file()).toString()).toArray(String[]::new);
        Dataset<Row> df = spark.read().parquet(files);
        DatasetSchema.requireCompatible(df.schema(), datasetDir.toString());
        Dataset<Row> columns = df.select(DatasetSchema.OBSERVATIONS, DatasetSchema.ACTIONS, DatasetSchema.REWARDS,
                DatasetSchema.MASKS, DatasetSchema.NEXT_OBSERVATIONS, DatasetSchema.EPISODE_ID, DatasetSchema.STEP_INDEX,
                DatasetSchema.TERMINALS);
        int obsDim = manifest.obsDim();
        int actionDim = manifest.actionDim();
        String where = datasetDir.toString();
        JavaRDD<InternalRow> rows = columns.queryExecution().toRdd().toJavaRDD();
        JavaPairRDD<Integer, Chunk> chunks = rows.mapPartitionsToPair(
                it -> split(it, workers, horizon, obsDim, actionDim, where));
        JavaPairRDD<Integer, Chunk> byWorker = chunks.partitionBy(new WorkerPartitioner(workers));
        JavaRDD<WorkerShard> shards;
        if (placement.isEmpty()) {
            shards = byWorker.mapPartitionsWithIndex((index, it) -> List.of(assemble(index, it, obsDim, actionDim, where)).iterator(), true);
        } else {
            // Zip with a one-element-per-worker RDD that prefers worker w's executor: the zipped partition inherits that
            // preference, so each shard is built, and cached, where its worker should run.
            JavaRDD<Integer> ids = placed(spark, placement);
            shards = ids.zipPartitions(byWorker, (id, it) -> List.of(assemble(id.next(), it, obsDim, actionDim, where)).iterator());
        }
        return shards.setName("fql-train shards of " + where).persist(StorageLevel.MEMORY_AND_DISK());
    }

    private static JavaRDD<Integer> placed(SparkSession spark, List<String> placement) {
        // (worker, its preferred host) pairs. makeRDD's Seq is scala.collection.Seq on Scala 2.12 (Spark 3.5) and
        // scala.collection.immutable.Seq on 2.13 (Spark 4); toSeq() gives each line its own, and the one unchecked
        // cast below lets the same source compile on both.
        List<Tuple2<Integer, Object>> items = new ArrayList<>();
        for (int w = 0; w < placement.size(); w++) {
            items.add(new Tuple2<>(w, scala.collection.JavaConverters.asScalaBuffer(List.of(placement.get(w))).toSeq()));
        }
        return spark.sparkContext().<Integer>makeRDD(unchecked(scala.collection.JavaConverters.asScalaBuffer(items).toSeq()),
                scala.reflect.ClassTag$.MODULE$.apply(Integer.class)).toJavaRDD();
    }

    @SuppressWarnings("unchecked")
    private static <X> X unchecked(Object o) {
        return (X) o;
    }

    /** The columns {@link #load} selects, in order (the null check names them). */
    private static final List<String> SELECTED = List.of(DatasetSchema.OBSERVATIONS, DatasetSchema.ACTIONS, DatasetSchema.REWARDS,
            DatasetSchema.MASKS, DatasetSchema.NEXT_OBSERVATIONS, DatasetSchema.EPISODE_ID, DatasetSchema.STEP_INDEX,
            DatasetSchema.TERMINALS);

    /** Rows of one input partition, grouped by worker. */
    private static Iterator<Tuple2<Integer, Chunk>> split(Iterator<InternalRow> it, int workers, int horizon, int obsDim, int actionDim,
            String where) {
        Chunk.Builder[] builders = new Chunk.Builder[workers];
        while (it.hasNext()) {
            InternalRow row = it.next();
            for (int c = 0; c < SELECTED.size(); c++) {
                if (row.isNullAt(c)) {
                    throw new IllegalArgumentException(where + ": a row has a null '" + SELECTED.get(c) + "'");
                }
            }
            long episode = row.getLong(5);
            int step = row.getInt(6);
            float[] obs = row.getArray(0).toFloatArray();
            float[] act = row.getArray(1).toFloatArray();
            float[] next = row.getArray(4).toFloatArray();
            if (obs.length != obsDim || next.length != obsDim || act.length != actionDim) {
                throw new IllegalArgumentException(where + ": transition (episode " + episode + ", step " + step + ") has "
                        + obs.length + "/" + next.length + " observation and " + act.length + " action values; the manifest says "
                        + obsDim + " and " + actionDim);
            }
            int w = Seeds.workerOf(episode, step, workers, horizon);
            if (builders[w] == null) {
                builders[w] = new Chunk.Builder(obsDim, actionDim);
            }
            builders[w].add(episode, step, obs, act, row.getFloat(2), row.getFloat(3), next, row.getFloat(7));
        }
        List<Tuple2<Integer, Chunk>> out = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            if (builders[w] != null) {
                out.add(new Tuple2<>(w, builders[w].build()));
            }
        }
        return out.iterator();
    }

    /** Worker {@code worker}'s shard from its chunks, in (episode_id, step_index) order. */
    private static WorkerShard assemble(int worker, Iterator<Tuple2<Integer, Chunk>> it, int obsDim, int actionDim, String where) {
        List<Chunk> parts = new ArrayList<>();
        int n = 0;
        while (it.hasNext()) {
            Chunk c = it.next()._2();
            parts.add(c);
            n = Math.addExact(n, c.rows);
        }
        long[] episodes = new long[n];
        int[] steps = new int[n];
        int at = 0;
        for (Chunk c : parts) {
            System.arraycopy(c.episodeIds, 0, episodes, at, c.rows);
            System.arraycopy(c.stepIndices, 0, steps, at, c.rows);
            at += c.rows;
        }
        int[] order = sortedOrder(episodes, steps);
        for (int i = 1; i < n; i++) {
            int a = order[i - 1];
            int b = order[i];
            if (episodes[a] == episodes[b] && steps[a] == steps[b]) {
                throw new IllegalArgumentException(where + ": transition (episode " + episodes[a] + ", step " + steps[a]
                        + ") appears twice; (episode_id, step_index) must be unique");
            }
        }
        // Source position of every row of the concatenated chunks, then gather in sorted order.
        int[] chunkOf = new int[n];
        int[] rowOf = new int[n];
        at = 0;
        for (int p = 0; p < parts.size(); p++) {
            for (int r = 0; r < parts.get(p).rows; r++) {
                chunkOf[at] = p;
                rowOf[at++] = r;
            }
        }
        TransitionData sorted = TransitionData.zeros(n, obsDim, actionDim);
        for (int i = 0; i < n; i++) {
            Chunk c = parts.get(chunkOf[order[i]]);
            int r = rowOf[order[i]];
            sorted.set(i, c.observations, c.actions, c.nextObservations, r, c.rewards[r], c.masks[r], c.terminals[r],
                    episodes[order[i]], steps[order[i]]);
        }
        return WorkerShard.of(worker, sorted);
    }

    /** Indices 0..n-1 ordered by (episode, step): a stable bottom-up merge sort on primitives. */
    public static int[] sortedOrder(long[] episodes, int[] steps) {
        int n = episodes.length;
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        boolean sorted = true;
        for (int i = 1; i < n && sorted; i++) {
            sorted = compare(episodes, steps, i - 1, i) <= 0;
        }
        if (sorted) {
            return a;
        }
        int[] b = new int[n];
        for (int width = 1; width < n; width *= 2) {
            for (int lo = 0; lo < n; lo += 2 * width) {
                int mid = Math.min(lo + width, n);
                int hi = Math.min(lo + 2 * width, n);
                int i = lo;
                int j = mid;
                int k = lo;
                while (i < mid && j < hi) {
                    b[k++] = compare(episodes, steps, a[i], a[j]) <= 0 ? a[i++] : a[j++];
                }
                while (i < mid) {
                    b[k++] = a[i++];
                }
                while (j < hi) {
                    b[k++] = a[j++];
                }
            }
            int[] t = a;
            a = b;
            b = t;
        }
        return a;
    }

    private static int compare(long[] episodes, int[] steps, int x, int y) {
        int c = Long.compare(episodes[x], episodes[y]);
        return c != 0 ? c : Integer.compare(steps[x], steps[y]);
    }

    /** Partition w holds worker w's chunks. */
    public static final class WorkerPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int workers;

        public WorkerPartitioner(int workers) {
            this.workers = workers;
        }

        @Override
        public int numPartitions() {
            return workers;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof WorkerPartitioner p && p.workers == workers;
        }

        @Override
        public int hashCode() {
            return workers;
        }
    }

    /** The rows of one (input partition, worker) pair as primitive arrays: what crosses the shuffle. */
    public static final class Chunk implements Serializable {
        private static final long serialVersionUID = 2L;
        int rows;
        long[] episodeIds;
        int[] stepIndices;
        float[] observations;
        float[] actions;
        float[] rewards;
        float[] masks;
        float[] terminals;
        float[] nextObservations;

        public static final class Builder {
            private final int obsDim;
            private final int actionDim;
            private int rows;
            private long[] episodeIds = new long[1024];
            private int[] stepIndices = new int[1024];
            private float[] observations;
            private float[] actions;
            private float[] rewards = new float[1024];
            private float[] masks = new float[1024];
            private float[] terminals = new float[1024];
            private float[] nextObservations;

            Builder(int obsDim, int actionDim) {
                this.obsDim = obsDim;
                this.actionDim = actionDim;
                observations = new float[1024 * obsDim];
                nextObservations = new float[1024 * obsDim];
                actions = new float[1024 * actionDim];
            }

            void add(long episode, int step, float[] obs, float[] act, float reward, float mask, float[] next, float terminal) {
                if (rows == rewards.length) {
                    int cap = Math.multiplyExact(rows, 2);
                    episodeIds = Arrays.copyOf(episodeIds, cap);
                    stepIndices = Arrays.copyOf(stepIndices, cap);
                    rewards = Arrays.copyOf(rewards, cap);
                    masks = Arrays.copyOf(masks, cap);
                    terminals = Arrays.copyOf(terminals, cap);
                    observations = Arrays.copyOf(observations, Math.multiplyExact(cap, obsDim));
                    nextObservations = Arrays.copyOf(nextObservations, Math.multiplyExact(cap, obsDim));
                    actions = Arrays.copyOf(actions, Math.multiplyExact(cap, actionDim));
                }
                episodeIds[rows] = episode;
                stepIndices[rows] = step;
                rewards[rows] = reward;
                masks[rows] = mask;
                terminals[rows] = terminal;
                System.arraycopy(obs, 0, observations, rows * obsDim, obsDim);
                System.arraycopy(next, 0, nextObservations, rows * obsDim, obsDim);
                System.arraycopy(act, 0, actions, rows * actionDim, actionDim);
                rows++;
            }

            Chunk build() {
                Chunk c = new Chunk();
                c.rows = rows;
                c.episodeIds = Arrays.copyOf(episodeIds, rows);
                c.stepIndices = Arrays.copyOf(stepIndices, rows);
                c.rewards = Arrays.copyOf(rewards, rows);
                c.masks = Arrays.copyOf(masks, rows);
                c.terminals = Arrays.copyOf(terminals, rows);
                c.observations = Arrays.copyOf(observations, rows * obsDim);
                c.nextObservations = Arrays.copyOf(nextObservations, rows * obsDim);
                c.actions = Arrays.copyOf(actions, rows * actionDim);
                return c;
            }
        }
    }
}
