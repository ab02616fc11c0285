package org.fqlspark.train.worker;

import java.util.SplittableRandom;

import org.fqlspark.agent.Batch;

/**
 * Uniform sampling with replacement (docs/algorithm.md §3) from one worker's shard into a reused {@link Batch}: row indices are
 * drawn from a stream that is a pure function of (seed, worker, step), rows are copied with {@code arraycopy}.
 *
 * <p>In the online phase (docs/algorithm.md §5) the worker's online rows ({@link OnlineBuffer}) join the same buffer: slots
 * {@code 0..n−1} hold the shard, online row j goes to slot {@code (n + j) mod capacity}, and a batch is drawn uniformly
 * from the filled slots, so once the union outgrows the capacity the newest rows overwrite the oldest (offline first),
 * as the official ring buffer does. Without online rows the draws are exactly the offline ones.
 */
public final class BatchSampler {

    private final WorkerShard shard;
    private final long seed;
    private final Batch batch;
    private final OnlineBuffer online;
    private final long capacity;

    public BatchSampler(WorkerShard shard, int batchSize, long seed) {
        this(shard, batchSize, seed, null, Long.MAX_VALUE);
    }

    public BatchSampler(WorkerShard shard, int batchSize, long seed, OnlineBuffer online, long capacity) {
        if (online != null && capacity <= shard.size()) {
            throw new IllegalArgumentException("buffer capacity " + capacity + " must exceed the worker's " + shard.size()
                    + " offline rows");
        }
        this.shard = shard;
        this.seed = seed;
        this.batch = Batch.allocate(batchSize, shard.obsDim(), shard.actionDim());
        this.online = online;
        this.capacity = capacity;
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
}
