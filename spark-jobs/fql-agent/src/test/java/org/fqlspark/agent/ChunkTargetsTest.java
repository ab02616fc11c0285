package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Chunk rewards, masks and valid flags computed by hand (γ = 0.9, h = 3), episode ends inside a chunk included. */
class ChunkTargetsTest {

    // four chunks of three rows: rewards r, masks m (0 = true terminal), terminals d (episode ends, timeouts too)
    private static final float[] R = {
        1f, 2f, 3f,        // 0: no episode end
        0.5f, -1f, 2f,     // 1: a terminal at step 0 (mask 0): the next two rows belong to the next episode
        -1f, -1f, 0f,      // 2: a terminal at the last step (mask 0 there)
        1f, 1f, 1f};       // 3: a timeout at step 1 (episode end, mask stays 1)
    private static final float[] M = {1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1};
    private static final float[] D = {0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0};

    @Test
    void runningSumsMinimaAndValidFlagsAsComputedByHand() {
        ChunkTargets t = ChunkTargets.of(R, M, D, 4, 3, 0.9);
        float[] rewards = {
            1f, 1f + 0.9f * 2f, 1f + 0.9f * 2f + 0.81f * 3f,       // 1, 2.8, 5.23
            0.5f, 0.5f - 0.9f, 0.5f - 0.9f + 0.81f * 2f,          // 0.5, -0.4, 1.22 (rows of the next episode summed, as qc does)
            -1f, -1.9f, -1.9f,
            1f, 1.9f, 2.71f};
        for (int k = 0; k < rewards.length; k++) {
            assertEquals(rewards[k], t.rewards()[k], 1e-6, "reward " + k);
        }
        assertArrayEquals(new float[] {1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1}, t.masks());
        // valid: 1 up to and including the step of the first episode end, 0 after it
        assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0}, t.valid());
        assertArrayEquals(new float[] {t.rewards()[2], t.rewards()[5], t.rewards()[8], t.rewards()[11]}, t.lastRewards());
        assertArrayEquals(new float[] {1, 0, 0, 1}, t.lastMasks());
    }

    @Test
    void fillWritesOneChunkOfTheDatasetColumnsIntoABatchRow() {
        Batch b = Batch.allocate(2, 1, 1, 3);
        // sample 1 is the chunk of rows 3..5 of the columns (chunk 1 above); sample 0 the chunk of rows 8..10
        ChunkTargets.fill(b, 1, R, M, D, 3, 0.9);
        ChunkTargets.fill(b, 0, R, M, D, 8, 0.9);
        assertEquals(1.22f, b.rewards()[1], 1e-6);
        assertEquals(0f, b.masks()[1]);
        // rows 8..10: r = (0, 1, 1), m = (0, 1, 1), d = (1, 0, 1): ends at its first row
        assertEquals(0f + 0.9f + 0.81f, b.rewards()[0], 1e-6);
        assertEquals(0f, b.masks()[0]);
        assertArrayEquals(new float[] {1, 0, 0, 1, 0, 0}, b.valid());
        assertEquals(3, b.horizon());
    }

    @Test
    void withoutChunkingItIsTheTransitionItself() {
        ChunkTargets t = ChunkTargets.of(new float[] {0.25f, -2f}, new float[] {1, 0}, new float[] {0, 1}, 2, 1, 0.99);
        assertArrayEquals(new float[] {0.25f, -2f}, t.lastRewards());
        assertArrayEquals(new float[] {1, 0}, t.lastMasks());
        assertArrayEquals(new float[] {1, 1}, t.valid());
    }

    @Test
    void wrongSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ChunkTargets.of(new float[5], new float[6], new float[6], 2, 3, 0.9));
        assertThrows(IllegalArgumentException.class, () -> ChunkTargets.of(new float[0], new float[0], new float[0], 0, 3, 0.9));
    }
}
