package org.fqlspark.train;

import java.util.SplittableRandom;

import org.fqlspark.agent.Batch;

/**
 * Uniform sampling with replacement (spec §3) from one worker's shard into a reused {@link Batch}: row indices are
 * drawn from a stream that is a pure function of (seed, worker, step), rows are copied with {@code arraycopy}.
 */
public final class BatchSampler {

    private final WorkerShard shard;
    private final long seed;
    private final Batch batch;

    public BatchSampler(WorkerShard shard, int batchSize, long seed) {
        this.shard = shard;
        this.seed = seed;
        this.batch = Batch.allocate(batchSize, shard.obsDim(), shard.actionDim());
    }

    /** The batch of global step {@code step} (0-based); the returned object is overwritten by the next call. */
    public Batch sample(long step) {
        SplittableRandom rng = new SplittableRandom(Seeds.samplerSeed(seed, shard.worker(), step));
        int n = shard.size();
        int d = shard.obsDim();
        int a = shard.actionDim();
        for (int i = 0; i < batch.size(); i++) {
            int row = rng.nextInt(n);
            System.arraycopy(shard.observations(), row * d, batch.observations(), i * d, d);
            System.arraycopy(shard.nextObservations(), row * d, batch.nextObservations(), i * d, d);
            System.arraycopy(shard.actions(), row * a, batch.actions(), i * a, a);
            batch.rewards()[i] = shard.rewards()[row];
            batch.masks()[i] = shard.masks()[row];
        }
        return batch;
    }

    public WorkerShard shard() {
        return shard;
    }
}
