package org.fqlspark.train.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.fqlspark.agent.Batch;
import org.junit.jupiter.api.Test;

class SamplingTest {

    private static WorkerShard shard(int worker, int n) {
        float[] obs = new float[n * 2];
        float[] act = new float[n];
        float[] r = new float[n];
        for (int i = 0; i < n; i++) {
            obs[2 * i] = i;
            obs[2 * i + 1] = -i;
            act[i] = i / 1000f;
            r[i] = i;
        }
        return new WorkerShard(worker, 2, 1, obs, act, r, r.clone(), obs.clone());
    }

    @Test
    void batchesArePureFunctionsOfSeedWorkerAndStep() {
        BatchSampler a = new BatchSampler(shard(0, 100), 16, 5);
        BatchSampler b = new BatchSampler(shard(0, 100), 16, 5);
        float[] first = a.sample(3).rewards().clone();
        a.sample(4);
        assertArrayEquals(first, a.sample(3).rewards());
        assertArrayEquals(first, b.sample(3).rewards());
        assertFalse(Arrays.equals(first, b.sample(4).rewards()));
        assertFalse(Arrays.equals(first, new BatchSampler(shard(1, 100), 16, 5).sample(3).rewards()));
        assertFalse(Arrays.equals(first, new BatchSampler(shard(0, 100), 16, 6).sample(3).rewards()));
    }

    @Test
    void copiesWholeRowsTogether() {
        Batch batch = new BatchSampler(shard(0, 50), 64, 1).sample(0);
        for (int i = 0; i < 64; i++) {
            float row = batch.rewards()[i];
            assertEquals(row, batch.observations()[2 * i]);
            assertEquals(-row, batch.observations()[2 * i + 1]);
            assertEquals(row / 1000f, batch.actions()[i]);
            assertEquals(row, batch.masks()[i]);
            assertTrue(row >= 0 && row < 50);
        }
    }

    @Test
    void workerSplitIsBalancedAndWorkerZeroKeepsTheRunSeed() {
        int[] counts = new int[3];
        for (long ep = 0; ep < 100; ep++) {
            for (int s = 0; s < 100; s++) {
                counts[Seeds.workerOf(ep, s, 3)]++;
            }
        }
        for (int c : counts) {
            assertTrue(Math.abs(c - 10_000 / 3.0) < 300, Arrays.toString(counts));
        }
        assertEquals(0, Seeds.workerOf(5, 5, 1));
        assertEquals(42, Seeds.workerNoiseSeed(42, 0));
        assertTrue(Seeds.workerNoiseSeed(42, 1) != Seeds.workerNoiseSeed(42, 2));
    }

    @Test
    void sortsRowsByEpisodeThenStep() {
        long[] ep = {3, 1, 3, 1, 2};
        int[] st = {0, 5, -1, 2, 9};
        assertArrayEquals(new int[] {3, 1, 4, 2, 0}, ShardLoader.sortedOrder(ep, st));
        assertArrayEquals(new int[] {0, 1, 2}, ShardLoader.sortedOrder(new long[] {1, 1, 2}, new int[] {0, 1, 0}));
    }
}
