package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;

import org.fqlspark.agent.Batch;
import org.junit.jupiter.api.Test;
import org.fqlspark.train.online.OnlineWork;
import org.fqlspark.train.worker.BatchSampler;
import org.fqlspark.train.worker.OnlineBuffer;
import org.fqlspark.train.worker.OnlineTransitions;
import org.fqlspark.train.worker.RoundSpec;
import org.fqlspark.train.worker.Seeds;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerRegistry;
import org.fqlspark.train.worker.WorkerShard;

/** Buffer semantics of the online phase (docs/algorithm.md §5): union sampling, ring overwrite, the split over learners. */
class OnlineBufferTest {

    /** n offline rows whose reward is the row number. */
    private static WorkerShard shard(int n) {
        float[] r = new float[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return new WorkerShard(0, 1, 1, new float[n], new float[n], r, new float[n], new float[n]);
    }

    /** Online rows first..first+n−1, reward 100 + index, one episode per 3 rows. */
    private static OnlineTransitions online(long first, int n) {
        OnlineTransitions.Builder b = new OnlineTransitions.Builder(1, 1, first, n);
        for (int i = 0; i < n; i++) {
            long index = first + i;
            b.add(new float[] {index}, new float[] {0.5f}, 100 + index, 1, 0, new float[] {index + 1}, index / 3, (int) (index % 3));
        }
        return b.build();
    }

    private static Set<Float> rewardsDrawn(BatchSampler s, int steps) {
        Set<Float> seen = new TreeSet<>();
        for (int step = 0; step < steps; step++) {
            Batch b = s.sample(step);
            for (float r : b.rewards()) seen.add(r);
        }
        return seen;
    }

    @Test
    void withoutOnlineRowsTheDrawsAreTheOfflineOnes() {
        BatchSampler offline = new BatchSampler(shard(10), 8, 5);
        BatchSampler union = new BatchSampler(shard(10), 8, 5, OnlineBuffer.all(1, 1), 1000);
        for (int step = 0; step < 20; step++) {
            assertArrayEquals(offline.sample(step).rewards().clone(), union.sample(step).rewards().clone());
        }
    }

    @Test
    void batchesComeUniformlyFromTheUnion() {
        OnlineBuffer buffer = OnlineBuffer.all(1, 1);
        buffer.append(online(0, 10));
        BatchSampler s = new BatchSampler(shard(10), 64, 5, buffer, 1000);
        int online = 0;
        int total = 0;
        for (int step = 0; step < 400; step++) {
            for (float r : s.sample(step).rewards()) {
                online += r >= 100 ? 1 : 0;
                total++;
            }
        }
        double share = online / (double) total;   // 10 of 20 rows: a half, not a 50/50 mix by construction
        assertEquals(0.5, share, 0.02);
        assertEquals(20, rewardsDrawn(s, 400).size());
    }

    @Test
    void pastTheCapacityTheNewestRowsOverwriteTheOldestOnes() {
        OnlineBuffer buffer = OnlineBuffer.all(1, 1);
        buffer.append(online(0, 5));   // 4 offline + 5 online = 9 written into 6 slots
        BatchSampler s = new BatchSampler(shard(4), 16, 5, buffer, 6);
        // slots: 0..3 offline; online 0, 1 -> slots 4, 5; online 2, 3, 4 -> slots 0, 1, 2 (offline rows 0..2 are gone)
        assertEquals(Set.of(3f, 100f, 101f, 102f, 103f, 104f), rewardsDrawn(s, 200));
    }

    @Test
    void learnersSplitTheOnlineRowsAsTheOfflineOnes() {
        OnlineBuffer w0 = new OnlineBuffer(1, 1, 0, 2);
        OnlineBuffer w1 = new OnlineBuffer(1, 1, 1, 2);
        OnlineTransitions rows = online(0, 60);
        w0.append(rows);
        w1.append(rows);
        assertEquals(60, w0.seen());
        assertEquals(60, w0.size() + w1.size());
        assertTrue(w0.size() > 10 && w1.size() > 10, w0.size() + " / " + w1.size());
        OnlineTransitions kept = w0.snapshot();
        for (int i = 0; i < kept.size(); i++) {
            assertEquals(0, Seeds.workerOf(kept.episodeIds()[i], kept.stepIndices()[i], 2));
        }
        // rows must continue where the buffer stands: a gap means a missed round, which the driver answers with a resend
        assertThrows(IllegalStateException.class, () -> w0.append(online(70, 3)));
    }

    /**
     * A learner that does not hold the rows a round assumes (a new executor: its registry is empty) does nothing and
     * asks for all of them; sent everything (rows from 0) it rebuilds its buffer and trains on the union.
     */
    @Test
    void aLearnerWithoutItsRowsAsksForAllOfThem() {
        org.fqlspark.agent.FqlConfig config = TrainFixtures.options(java.nio.file.Path.of("unused")).build().resolvedConfig();
        WorkerShard shard = TrainJobTest.shard(0, 1);
        String runId = java.util.UUID.randomUUID().toString();
        TrainingState start = TrainingState.of(new org.fqlspark.agent.FqlAgent(config, shard.obsDim(), shard.actionDim(), 3).state());
        RoundSpec spec = new RoundSpec(runId, RoundSpec.toJson(config), shard.obsDim(), shard.actionDim(), 3, 0, 4, 1, 1);
        OnlineWork.EnvSide env = new OnlineWork.EnvSide("pointmaze-medium", OnlineWork.EXACT, 1, TrainOptions.Online.DEFAULT_REFRESH_EVERY, 0f, 2_000_000, shard.size());
        try {
            OnlineTransitions later = OnlineTransitions.empty(shard.obsDim(), shard.actionDim(), 5);
            OnlineWork.LearnOutcome missing = OnlineWork.learnOne(shard, spec, new OnlineWork.LearnInput(start, later, null, env));
            assertTrue(missing.resync());
            OnlineTransitions.Builder b = new OnlineTransitions.Builder(shard.obsDim(), shard.actionDim(), 0, 5);
            for (int i = 0; i < 5; i++) {
                b.add(new float[] {0.1f * i, 0}, new float[] {0.5f, -0.5f}, -1, 1, 0, new float[] {0.1f * i + 0.1f, 0}, 0, i);
            }
            OnlineWork.LearnOutcome all = OnlineWork.learnOne(shard, spec, new OnlineWork.LearnInput(start, b.build(), null, env));
            assertTrue(!all.resync() && all.outcome().state().step() == 4, "trained 4 steps on the union");
            // the next round's rows continue where the learner now stands: no resend needed
            OnlineWork.LearnOutcome next = OnlineWork.learnOne(shard, new RoundSpec(runId, RoundSpec.toJson(config), shard.obsDim(),
                    shard.actionDim(), 3, 4, 4, 1, 1), new OnlineWork.LearnInput(all.outcome().state(), later, null, env));
            assertTrue(!next.resync());
        } finally {
            WorkerRegistry.release(runId);
        }
    }
}
