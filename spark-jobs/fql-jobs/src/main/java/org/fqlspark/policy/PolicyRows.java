package org.fqlspark.policy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import org.fqlspark.agent.FqlAgent;
import org.fqlspark.eval.Policy;
import org.fqlspark.tensor.Backends;
import org.fqlspark.tensor.JavaTensorOps;
import org.fqlspark.train.worker.DeviceBinding;

/**
 * The task side of {@link FqlPolicyModel#transform}: restores the agent once per partition from the broadcast weights,
 * then acts on {@value #BATCH_ROWS} rows at a time and appends each row's action.
 *
 * <p>Arithmetic: by default the agent runs on the default ops (ND4J/OpenBLAS GEMMs), whose kernels round a row's dot
 * products slightly differently depending on where the row sits in the batch (measured: a few float32 ulps, under
 * 1e-6); with {@code exact} it runs on {@link org.fqlspark.tensor.JavaTensorOps}, which computes every row with the
 * same loop whatever its neighbours, so a row's action is the same bits in any partitioning (slower: see
 * BENCHMARKS.md).
 *
 * <p>Noise: with a seed column, row r's noise is {@code h·actionDim} draws of
 * {@code new java.util.SplittableRandom(seed_r).nextGaussian()}, so its action depends on its observation and seed
 * only, not on partitioning or order. Without one, a partition's rows draw in turn from
 * {@code new SplittableRandom(modelSeed).split()} advanced per partition index (reproducible for the same input and
 * partitioning only).
 *
 * <p>Action chunks (h &gt; 1, docs/algorithm.md §11.4): the action column holds the whole chunk, {@code h·actionDim}
 * values step-major, and, when a first-action column is named, that column holds its first {@code actionDim} values,
 * the action to play now. Without chunks (h = 1) the action column is the action and no other column is added.
 */
final class PolicyRows implements MapPartitionsFunction<Row, Row> {

    static final int BATCH_ROWS = 512;

    /**
     * The agent of the last weights this executor thread acted with. Restoring an agent and its per-batch-size buffers
     * (which {@code FqlAgent} sizes for a whole training step: ~250 MB at paper size and 512 rows) costs far more
     * than acting on a partition, so a thread keeps one agent across tasks, and every batch is padded to
     * {@value #BATCH_ROWS} rows so that only one set of buffers is ever made.
     */
    private static final ThreadLocal<CachedAgent> AGENT = new ThreadLocal<>();

    private record CachedAgent(String key, FqlAgent agent) {
    }

    private final Broadcast<PolicyWeights> weights;
    private final Policy policy;
    private final int observationIndex;
    private final String observationColumn;
    private final int seedIndex;
    private final String seedColumn;
    private final long modelSeed;
    private final boolean exact;
    private final String weightsKey;
    /**
     * The backend the rows are acted on ({@code --backend}, the model's {@code backend} param), carried to the
     * executors: {@code auto} is OpenCL on the task's GPU when Spark assigned one, else the CPU; {@code exact} always
     * runs on plain Java.
     */
    private final String backend;
    /** Append the chunk's first action as a second column (only with h > 1). */
    private final boolean firstAction;

    /** @param weightsKey unique to these broadcast weights (not just to the model: a broadcast id restarts with a context) */
    PolicyRows(Broadcast<PolicyWeights> weights, String weightsKey, Policy policy, int observationIndex, String observationColumn,
               int seedIndex, String seedColumn, long modelSeed, boolean exact, boolean firstAction, String backend) {
        this.exact = exact;
        this.backend = Backends.check(backend);
        this.firstAction = firstAction;
        this.weightsKey = weightsKey + (exact ? "/exact" : "/" + backend);
        this.weights = weights;
        this.policy = policy;
        this.observationIndex = observationIndex;
        this.observationColumn = observationColumn;
        this.seedIndex = seedIndex;
        this.seedColumn = seedColumn;
        this.modelSeed = modelSeed;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        TaskContext task = TaskContext.get();
        int partition = task == null ? 0 : task.partitionId();
        SplittableRandom partitionNoise = seedIndex < 0 ? partitionStream(modelSeed, partition) : null;
        return new Iterator<>() {
            private FqlAgent agent;
            private PolicyWeights w;
            private Iterator<Row> pending = java.util.Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!pending.hasNext()) {
                    if (!rows.hasNext()) return false;
                    pending = nextBatch();
                }
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return pending.next();
            }

            private Iterator<Row> nextBatch() {
                if (agent == null) {
                    w = weights.value();
                    agent = agent(w);
                }
                List<Row> batch = new ArrayList<>(BATCH_ROWS);
                while (batch.size() < BATCH_ROWS && rows.hasNext()) batch.add(rows.next());
                int n = batch.size();
                int d = w.obsDim();
                int a = agent.chunkActionDim();   // h·A: one chunk per row (A without chunking)
                int first = agent.actionDim();
                boolean second = firstAction && agent.horizon() > 1;
                float[] observations = new float[BATCH_ROWS * d];   // zero rows pad a short batch
                float[] noise = new float[BATCH_ROWS * a];
                for (int i = 0; i < n; i++) {
                    Row row = batch.get(i);
                    readObservation(row, observations, i * d, d);
                    SplittableRandom rng = partitionNoise != null ? partitionNoise : new SplittableRandom(seedOf(row));
                    for (int c = 0; c < a; c++) noise[i * a + c] = (float) rng.nextGaussian();
                }
                float[] actions = PolicyWeights.act(agent, policy, observations, noise, BATCH_ROWS);
                List<Row> out = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    Row row = batch.get(i);
                    Object[] values = new Object[row.length() + (second ? 2 : 1)];
                    for (int c = 0; c < row.length(); c++) values[c] = row.get(c);
                    values[row.length()] = java.util.Arrays.copyOfRange(actions, i * a, (i + 1) * a);
                    if (second) values[row.length() + 1] = java.util.Arrays.copyOfRange(actions, i * a, i * a + first);
                    out.add(RowFactory.create(values));
                }
                return out.iterator();
            }
        };
    }

    private FqlAgent agent(PolicyWeights w) {
        CachedAgent cached = AGENT.get();
        if (cached == null || !cached.key().equals(weightsKey)) {
            AGENT.remove();   // let the old agent go before the new one is built
            org.fqlspark.tensor.TensorOps ops = exact ? new JavaTensorOps() : Backends.forTask(backend, DeviceBinding.taskGpuAddress());
            System.err.println("fql act: acting on " + ops.deviceName() + " (backend " + (exact ? "exact" : backend) + ")");
            cached = new CachedAgent(weightsKey, w.agent(ops));
            AGENT.set(cached);
        }
        return cached.agent();
    }

    /** The per-row noise stream: {@code actionDim} (h·A with chunks) standard normal draws from {@code new SplittableRandom(seed)}. */
    static float[] noiseForSeed(long seed, int actionDim) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] z = new float[actionDim];
        for (int c = 0; c < actionDim; c++) z[c] = (float) rng.nextGaussian();
        return z;
    }

    static SplittableRandom partitionStream(long modelSeed, int partition) {
        SplittableRandom root = new SplittableRandom(modelSeed);
        SplittableRandom stream = root.split();
        for (int p = 0; p < partition; p++) stream = root.split();
        return stream;
    }

    private long seedOf(Row row) {
        if (row.isNullAt(seedIndex)) {
            throw new PolicyInputException("column '" + seedColumn + "': a row has a null seed; every row needs one");
        }
        return ((Number) row.get(seedIndex)).longValue();
    }

    private void readObservation(Row row, float[] into, int offset, int width) {
        if (row.isNullAt(observationIndex)) {
            throw new PolicyInputException("column '" + observationColumn + "': a row has a null observation; expected "
                    + width + " finite numbers");
        }
        List<Object> values = row.getList(observationIndex);
        if (values.size() != width) {
            throw new PolicyInputException("column '" + observationColumn + "': a row has " + values.size()
                    + " values, the policy expects " + width);
        }
        for (int c = 0; c < width; c++) {
            Object v = values.get(c);
            float f = v == null ? Float.NaN : ((Number) v).floatValue();
            if (!Float.isFinite(f)) {
                throw new PolicyInputException("column '" + observationColumn + "': a row has a non-finite or null value ("
                        + v + ") at index " + c + "; expected finite numbers");
            }
            into[offset + c] = f;
        }
    }
}
