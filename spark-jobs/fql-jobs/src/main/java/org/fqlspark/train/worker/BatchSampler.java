package org.fqlspark.train.worker;

import java.util.SplittableRandom;

import org.fqlspark.agent.Batch;
import org.fqlspark.agent.ChunkTargets;
import org.fqlspark.agent.FqlConfig;

/**
 * Uniform sampling with replacement (docs/algorithm.md §3) from one worker's shard into a reused {@link Batch}: row indices are
 * drawn from a stream that is a pure function of (seed, worker, step), rows are copied with {@code arraycopy}.
 *
 * <p>In the online phase (docs/algorithm.md §5) the worker's online rows ({@link OnlineBuffer}) join the same buffer: slots
 * {@code 0..n−1} hold the shard, online row j goes to slot {@code (n + j) mod capacity}, and a batch is drawn uniformly
 * from the filled slots, so once the union outgrows the capacity the newest rows overwrite the oldest (offline first),
 * as the official ring buffer does. Without online rows the draws are exactly the offline ones.
 *
 * <p><b>Action chunks</b> (h = {@link FqlConfig#horizonLength()} &gt; 1; docs/algorithm.md §11), as Q-chunking's
 * {@code Dataset.sample_sequence} samples them: a sample starts at a slot drawn uniformly from the
 * {@code filled − h + 1} slots that h slots follow, and takes the h rows of slots {@code start .. start+h−1}: the first
 * row's observation, the h actions step-major, the last row's next observation, and through {@link ChunkTargets} the
 * running discounted reward sum, the running minimum of the masks and {@code valid} from the rows' episode ends. A row
 * ends its sequence where {@link WorkerShard#ends()} says so (offline), where its terminal flag is set (online), or where
 * the next slot does not hold the next row of its episode (the shard's last row before the online rows, an online row
 * followed by another episode's, the ring's seam); the chunk's steps after the first end are then invalid, as qc's are
 * after an episode end. The draw of start slots is the same stream as without chunks: with h = 1 a batch is the same
 * rows, bit for bit.
 */
public final class BatchSampler {

    private final WorkerShard shard;
    private final long seed;
    private final Batch batch;
    private final OnlineBuffer online;
    private final long capacity;
    private final int horizon;
    private final double discount;
    // one chunk's raw rows, reused: rewards, masks, ends
    private final float[] chunkRewards;
    private final float[] chunkMasks;
    private final float[] chunkEnds;

    public BatchSampler(WorkerShard shard, int batchSize, long seed) {
        this(shard, batchSize, seed, null, Long.MAX_VALUE);
    }

    public BatchSampler(WorkerShard shard, int batchSize, long seed, OnlineBuffer online, long capacity) {
        this(shard, batchSize, 1, 1.0, seed, online, capacity);
    }

    /** The sampler of {@code config}: its batch size, and chunks of its {@code horizon_length} discounted by its γ. */
    public BatchSampler(WorkerShard shard, FqlConfig config, long seed) {
        this(shard, config, seed, null, Long.MAX_VALUE);
    }

    public BatchSampler(WorkerShard shard, FqlConfig config, long seed, OnlineBuffer online, long capacity) {
        this(shard, config.batchSize(), config.horizonLength(), config.discount(), seed, online, capacity);
    }

    /**
     * @param horizon  the chunk length h (1: transitions)
     * @param discount γ of the chunks' running reward sums (unused with h = 1)
     */
    public BatchSampler(WorkerShard shard, int batchSize, int horizon, double discount, long seed, OnlineBuffer online,
            long capacity) {
        if (online != null && capacity <= shard.size()) {
            throw new IllegalArgumentException("buffer capacity " + capacity + " must exceed the worker's " + shard.size()
                    + " offline rows");
        }
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be positive, was " + horizon);
        }
        if (shard.size() < horizon) {
            throw new IllegalArgumentException("worker " + shard.worker() + " holds " + shard.size() + " transitions, fewer than"
                    + " one chunk of horizon_length " + horizon + ": use fewer workers or a larger dataset");
        }
        this.shard = shard;
        this.seed = seed;
        this.horizon = horizon;
        this.discount = discount;
        this.batch = Batch.allocate(batchSize, shard.obsDim(), shard.actionDim(), horizon);
        this.online = online;
        this.capacity = capacity;
        this.chunkRewards = new float[horizon];
        this.chunkMasks = new float[horizon];
        this.chunkEnds = new float[horizon];
    }

    /** The batch of global step {@code step} (0-based); the returned object is overwritten by the next call. */
    public Batch sample(long step) {
        SplittableRandom rng = new SplittableRandom(Seeds.samplerSeed(seed, shard.worker(), step));
        int n = shard.size();
        int m = online == null ? 0 : online.size();
        int filled = (int) Math.min((long) n + m, capacity);
        int d = shard.obsDim();
        int a = shard.actionDim();
        OnlineTransitions.Builder o = m == 0 ? null : online.columns();
        if (horizon > 1) {
            for (int i = 0; i < batch.size(); i++) {
                chunk(i, rng.nextInt(filled - horizon + 1), n, m, o);
            }
            return batch;
        }
        for (int i = 0; i < batch.size(); i++) {
            long slot = rng.nextInt(filled);
            long index = newestIn(slot, (long) n + m);
            if (index < n) {
                int row = (int) index;
                System.arraycopy(shard.observations(), row * d, batch.observations(), i * d, d);
                System.arraycopy(shard.nextObservations(), row * d, batch.nextObservations(), i * d, d);
                System.arraycopy(shard.actions(), row * a, batch.actions(), i * a, a);
                batch.rewards()[i] = shard.rewards()[row];
                batch.masks()[i] = shard.masks()[row];
            } else {
                int row = (int) (index - n);
                System.arraycopy(o.rawObservations(), row * d, batch.observations(), i * d, d);
                System.arraycopy(o.rawNextObservations(), row * d, batch.nextObservations(), i * d, d);
                System.arraycopy(o.rawActions(), row * a, batch.actions(), i * a, a);
                batch.rewards()[i] = o.rawRewards()[row];
                batch.masks()[i] = o.rawMasks()[row];
            }
        }
        return batch;
    }

    /** Writes the chunk of slots {@code start .. start+h−1} as sample {@code i}. */
    private void chunk(int i, long start, int n, int m, OnlineTransitions.Builder o) {
        int d = shard.obsDim();
        int a = shard.actionDim();
        int h = horizon;
        long written = (long) n + m;
        long index = newestIn(start, written);
        for (int j = 0; j < h; j++) {
            long next = j + 1 < h ? newestIn(start + j + 1, written) : -1;
            float[] actions;
            int row;
            if (index < n) {
                row = (int) index;
                actions = shard.actions();
                chunkRewards[j] = shard.rewards()[row];
                chunkMasks[j] = shard.masks()[row];
                chunkEnds[j] = shard.ends()[row];   // 1 at the shard's last row: the online rows are another sequence
                if (j == 0) System.arraycopy(shard.observations(), row * d, batch.observations(), i * d, d);
                if (j == h - 1) System.arraycopy(shard.nextObservations(), row * d, batch.nextObservations(), i * d, d);
            } else {
                row = (int) (index - n);
                actions = o.rawActions();
                chunkRewards[j] = o.rawRewards()[row];
                chunkMasks[j] = o.rawMasks()[row];
                chunkEnds[j] = onlineContinues(o, row, m) ? o.rawTerminals()[row] : 1f;
                if (j == 0) System.arraycopy(o.rawObservations(), row * d, batch.observations(), i * d, d);
                if (j == h - 1) System.arraycopy(o.rawNextObservations(), row * d, batch.nextObservations(), i * d, d);
            }
            if (next >= 0 && next != index + 1) {
                chunkEnds[j] = 1f;   // the ring's seam: the next slot holds a row written long after or before this one
            }
            System.arraycopy(actions, row * a, batch.actions(), (i * h + j) * a, a);
            index = next;
        }
        ChunkTargets.fill(batch, i, chunkRewards, chunkMasks, chunkEnds, 0, discount);
    }

    /** Whether online row {@code row}'s successor in this buffer is the next step of its episode. */
    private static boolean onlineContinues(OnlineTransitions.Builder o, int row, int m) {
        return row + 1 < m && o.rawEpisodeIds()[row + 1] == o.rawEpisodeIds()[row]
                && o.rawStepIndices()[row + 1] == o.rawStepIndices()[row] + 1;
    }

    /** The index (offline rows first, then online) of the last row written to {@code slot} of the ring of {@code written} rows. */
    private long newestIn(long slot, long written) {
        if (written <= capacity) {
            return slot;
        }
        return slot + capacity * ((written - 1 - slot) / capacity);
    }

    public WorkerShard shard() {
        return shard;
    }

    /** The chunk length h of the batches (1: transitions). */
    public int horizon() {
        return horizon;
    }
}
