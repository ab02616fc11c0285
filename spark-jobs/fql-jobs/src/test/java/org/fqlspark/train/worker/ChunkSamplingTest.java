package org.fqlspark.train.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.fqlspark.agent.Batch;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.data.TransitionData;
import org.junit.jupiter.api.Test;

/**
 * Chunked sampling (docs/algorithm.md §11.2, qc's {@code Dataset.sample_sequence}) against chunks worked out by hand:
 * episode ends inside a chunk, a termination's mask, a timeout's terminal, a missing terminal at an episode change,
 * the seam between offline and online rows, interleaved online episodes and the ring's seam.
 */
class ChunkSamplingTest {

    /** What a chunk starting at a given row must become in the batch. */
    private record Expected(float reward, float mask, float[] valid) {
    }

    /**
     * Eight rows, obs = row number, next obs = 100 + row, action = (row, −row), reward = row + 1:
     * episode 0 steps 0..2 (row 2 terminates: mask 0, terminal 1), episode 1 steps 0..2 (row 5 a timeout: mask 1,
     * terminal 1), episode 2 steps 0..1 whose last row carries no terminal (the shard's last row ends it anyway).
     */
    private static TransitionData eightRows() {
        int n = 8;
        float[] obs = new float[n];
        float[] next = new float[n];
        float[] act = new float[2 * n];
        float[] r = new float[n];
        float[] m = {1, 1, 0, 1, 1, 1, 1, 1};
        float[] d = {0, 0, 1, 0, 0, 1, 0, 0};
        long[] ep = {0, 0, 0, 1, 1, 1, 2, 2};
        int[] st = {0, 1, 2, 0, 1, 2, 0, 1};
        for (int i = 0; i < n; i++) {
            obs[i] = i;
            next[i] = 100 + i;
            act[2 * i] = i;
            act[2 * i + 1] = -i;
            r[i] = i + 1;
        }
        return new TransitionData(1, 2, obs, act, r, m, d, next, ep, st);
    }

    @Test
    void chunksOfThreeRowsMatchTheHandWorkedTable() {
        // h = 3, γ = 0.5: R = r0 + 0.5 r1 + 0.25 r2, M = min m, valid_j = 1 − max(d_0..d_{j−1})
        Map<Integer, Expected> table = new HashMap<>();
        table.put(0, new Expected(1 + 0.5f * 2 + 0.25f * 3, 0, new float[] {1, 1, 1}));   // ends at its last row
        table.put(1, new Expected(2 + 0.5f * 3 + 0.25f * 4, 0, new float[] {1, 1, 0}));   // episode end in the middle
        table.put(2, new Expected(3 + 0.5f * 4 + 0.25f * 5, 0, new float[] {1, 0, 0}));   // at its first step
        table.put(3, new Expected(4 + 0.5f * 5 + 0.25f * 6, 1, new float[] {1, 1, 1}));   // timeout at the last row
        table.put(4, new Expected(5 + 0.5f * 6 + 0.25f * 7, 1, new float[] {1, 1, 0}));
        table.put(5, new Expected(6 + 0.5f * 7 + 0.25f * 8, 1, new float[] {1, 0, 0}));
        FqlConfig config = FqlConfig.defaults().with(FqlConfig.HORIZON_LENGTH, 3).with(FqlConfig.DISCOUNT, 0.5)
                .with(FqlConfig.BATCH_SIZE, 64);
        BatchSampler sampler = new BatchSampler(WorkerShard.of(eightRows()), config, 11);
        int[] seen = new int[8];
        for (int step = 0; step < 4; step++) {
            Batch b = sampler.sample(step);
            assertEquals(3, b.horizon());
            for (int i = 0; i < b.size(); i++) {
                int start = (int) b.observations()[i];
                seen[start]++;
                Expected e = table.get(start);
                assertTrue(e != null, "a chunk starts at row " + start + ", past the last start with 3 rows to go");
                assertEquals(e.reward(), b.rewards()[i], 1e-6, "reward of the chunk at " + start);
                assertEquals(e.mask(), b.masks()[i], "mask of the chunk at " + start);
                assertArrayEquals(e.valid(), slice(b.valid(), i * 3, 3), "valid of the chunk at " + start);
                assertEquals(100 + start + 2, b.nextObservations()[i], "the next observation is the last row's");
                for (int j = 0; j < 3; j++) {
                    assertEquals(start + j, b.actions()[(i * 3 + j) * 2], "action step " + j + " of the chunk at " + start);
                    assertEquals(-(start + j), b.actions()[(i * 3 + j) * 2 + 1]);
                }
            }
        }
        for (int start = 0; start < 6; start++) {
            assertTrue(seen[start] > 10, "start " + start + " drawn " + seen[start] + " times of 256");
        }
    }

    @Test
    void rowEndsAreTerminalsPlusEpisodeChangesStepGapsAndTheLastRow() {
        float[] terminals = {0, 1, 0, 0, 0, 0, 0};
        long[] ep = {4, 4, 5, 5, 5, 6, 6};
        int[] st = {0, 1, 0, 1, 3, 0, 1};   // episode 5 misses step 2 (a dropped row); episode 5 → 6 without a terminal
        assertArrayEquals(new float[] {0, 1, 0, 1, 1, 0, 1}, WorkerShard.ends(terminals, ep, st));
        assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0, 1}, WorkerShard.ends(terminals, null, null));
    }

    /** Offline rows 0..2 (one episode, no terminal), obs = row; online rows obs = 100 + index. */
    private static WorkerShard threeOfflineRows() {
        float[] obs = {0, 1, 2};
        return new WorkerShard(0, 1, 1, obs, new float[3], new float[] {1, 2, 3}, new float[] {1, 1, 1}, obs.clone());
    }

    /** Two interleaved online episodes, as two actors' blocks arrive: ep 10 steps 0, 1; ep 11 steps 0, 1; ep 10 steps 2, 3 (end). */
    private static OnlineTransitions interleaved() {
        long[] ep = {10, 10, 11, 11, 10, 10};
        int[] st = {0, 1, 0, 1, 2, 3};
        OnlineTransitions.Builder b = new OnlineTransitions.Builder(1, 1, 0, 6);
        for (int j = 0; j < 6; j++) {
            b.add(new float[] {100 + j}, new float[] {0.5f}, 10 + j, 1, j == 5 ? 1 : 0, new float[] {200 + j}, ep[j], st[j]);
        }
        return b.build();
    }

    @Test
    void chunksOverTheUnionStopAtTheOfflineSeamAndAtInterleavedEpisodes() {
        OnlineBuffer buffer = OnlineBuffer.all(1, 1);
        buffer.append(interleaved());
        // union: off0 off1 off2 | on0(10/0) on1(10/1) on2(11/0) on3(11/1) on4(10/2) on5(10/3, end); h = 2, γ = 1
        Map<Float, float[]> validOfFirstObs = new HashMap<>();
        validOfFirstObs.put(0f, new float[] {1, 1});
        validOfFirstObs.put(1f, new float[] {1, 1});
        validOfFirstObs.put(2f, new float[] {1, 0});     // the shard's last row, then online rows: another sequence
        validOfFirstObs.put(100f, new float[] {1, 1});
        validOfFirstObs.put(101f, new float[] {1, 0});   // episode 10 is interrupted by episode 11's rows
        validOfFirstObs.put(102f, new float[] {1, 1});
        validOfFirstObs.put(103f, new float[] {1, 0});
        validOfFirstObs.put(104f, new float[] {1, 1});
        BatchSampler s = new BatchSampler(threeOfflineRows(), 64, 2, 1.0, 5, buffer, 1000);
        assertEquals(validOfFirstObs.keySet(), drawChecked(s, validOfFirstObs, 8));
    }

    @Test
    void aChunkAcrossTheRingsSeamIsCutThere() {
        OnlineBuffer buffer = OnlineBuffer.all(1, 1);
        buffer.append(interleaved());
        // 9 rows in 7 slots: slot 0 = on4, slot 1 = on5, slot 2 = off2, slots 3..6 = on0..on3
        Map<Float, float[]> validOfFirstObs = new HashMap<>();
        validOfFirstObs.put(104f, new float[] {1, 1});   // slots 0, 1: on4, on5 (consecutive)
        validOfFirstObs.put(105f, new float[] {1, 0});   // slots 1, 2: on5 (its episode's end, and the seam) then off2
        validOfFirstObs.put(2f, new float[] {1, 0});
        validOfFirstObs.put(100f, new float[] {1, 1});
        validOfFirstObs.put(101f, new float[] {1, 0});
        validOfFirstObs.put(102f, new float[] {1, 1});
        BatchSampler s = new BatchSampler(threeOfflineRows(), 64, 2, 1.0, 5, buffer, 7);
        assertEquals(validOfFirstObs.keySet(), drawChecked(s, validOfFirstObs, 8));
    }

    /** Draws batches and checks each chunk's valid flags and its reward (γ = 1: the sum of its two rows); returns the starts seen. */
    private static java.util.Set<Float> drawChecked(BatchSampler s, Map<Float, float[]> validOfFirstObs, int steps) {
        java.util.Set<Float> seen = new java.util.TreeSet<>();
        for (int step = 0; step < steps; step++) {
            Batch b = s.sample(step);
            for (int i = 0; i < b.size(); i++) {
                float first = b.observations()[i];
                float[] valid = validOfFirstObs.get(first);
                assertTrue(valid != null, "a chunk starts at the row of observation " + first);
                assertArrayEquals(valid, slice(b.valid(), i * 2, 2), "valid of the chunk at " + first);
                assertEquals(reward(first) + reward(nextRowObs(first, validOfFirstObs)), b.rewards()[i], 1e-6);
                seen.add(first);
            }
        }
        return seen;
    }

    private static float reward(float obs) {
        return obs >= 100 ? 10 + (obs - 100) : obs + 1;
    }

    /** The observation of the row in the slot after the one holding {@code first}, as the two tests lay them out. */
    private static float nextRowObs(float first, Map<Float, float[]> layout) {
        if (layout.containsKey(105f)) {   // the ring: 104 105 2 100 101 102 103
            float[] order = {104, 105, 2, 100, 101, 102, 103};
            for (int k = 0; k < order.length - 1; k++) if (order[k] == first) return order[k + 1];
        }
        float[] order = {0, 1, 2, 100, 101, 102, 103, 104, 105};
        for (int k = 0; k < order.length - 1; k++) if (order[k] == first) return order[k + 1];
        throw new AssertionError("no row after " + first);
    }

    @Test
    void oneStepChunksAreTheTransitionsDrawForDraw() {
        WorkerShard shard = WorkerShard.of(eightRows());
        FqlConfig config = FqlConfig.defaults().with(FqlConfig.BATCH_SIZE, 16);
        BatchSampler plain = new BatchSampler(shard, 16, 9);
        BatchSampler viaConfig = new BatchSampler(shard, config, 9);
        for (int step = 0; step < 5; step++) {
            Batch a = plain.sample(step);
            Batch b = viaConfig.sample(step);
            assertArrayEquals(a.observations(), b.observations());
            assertArrayEquals(a.actions(), b.actions());
            assertArrayEquals(a.rewards(), b.rewards());
            assertArrayEquals(a.masks(), b.masks());
            assertArrayEquals(a.nextObservations(), b.nextObservations());
            assertEquals(1, b.horizon());
        }
    }

    @Test
    void aShardShorterThanOneChunkIsRefused() {
        WorkerShard shard = threeOfflineRows();
        assertThrows(IllegalArgumentException.class, () -> new BatchSampler(shard, 4, 4, 0.99, 1, null, Long.MAX_VALUE));
    }

    @Test
    void withChunksOnlineRowsAndShardsSplitPerEpisode() {
        for (long ep = 0; ep < 50; ep++) {
            int w = Seeds.workerOf(ep, 0, 3, 5);
            for (int step = 1; step < 40; step++) {
                assertEquals(w, Seeds.workerOf(ep, step, 3, 5), "episode " + ep + " stays on one worker");
                assertEquals(Seeds.workerOf(ep, step, 3), Seeds.workerOf(ep, step, 3, 1), "h = 1 keeps the per-transition split");
            }
        }
        OnlineBuffer w0 = new OnlineBuffer(1, 1, 0, 2, 5);
        OnlineBuffer w1 = new OnlineBuffer(1, 1, 1, 2, 5);
        OnlineTransitions.Builder b = new OnlineTransitions.Builder(1, 1, 0, 60);
        for (int j = 0; j < 60; j++) {
            b.add(new float[] {j}, new float[] {0}, 0, 1, 0, new float[] {j}, j % 6, j / 6);   // 6 interleaved episodes
        }
        w0.append(b.build());
        w1.append(b.build());
        assertEquals(60, w0.size() + w1.size());
        for (OnlineBuffer w : new OnlineBuffer[] {w0, w1}) {
            OnlineTransitions kept = w.snapshot();
            for (int i = 0; i < kept.size(); i++) {
                assertEquals(Seeds.workerOfEpisode(kept.episodeIds()[i], 2), w == w0 ? 0 : 1);
            }
        }
    }

    private static float[] slice(float[] a, int from, int n) {
        return java.util.Arrays.copyOfRange(a, from, from + n);
    }
}
