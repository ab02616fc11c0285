package org.fqlspark.train.online;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.fqlspark.eval.EnvSpec;
import org.junit.jupiter.api.Test;
import org.fqlspark.train.worker.OnlineTransitions;

/** One online actor in the built-in maze: what it stores, the reward shift, and its rebuild by replay. */
class OnlineActorTest {

    private static final EnvSpec MAZE = EnvSpec.parse("pointmaze-medium");
    /** A fixed "policy": the noise itself, clipped (so the noise stream matters). */
    private static final OnlineActor.Actor POLICY = (obs, z) -> new float[] {Math.max(-1, Math.min(1, z[0])), Math.max(-1, Math.min(1, z[1]))};

    private static OnlineTransitions run(OnlineActor actor, int n, long first) {
        OnlineTransitions.Builder b = new OnlineTransitions.Builder(2, 2, first, n);
        actor.run(n, POLICY, b, first);
        return b.build();
    }

    @Test
    void storesTheTransitionsAndShiftsTheReward() {
        try (OnlineActor plain = OnlineActor.restore(MAZE, ActorState.fresh(0), 1, 5, 0f, 2, 2);
             OnlineActor shifted = OnlineActor.restore(MAZE, ActorState.fresh(0), 1, 5, -1f, 2, 2)) {
            OnlineTransitions a = run(plain, 30, 0);
            OnlineTransitions b = run(shifted, 30, 0);
            assertEquals(30, a.size());
            for (int i = 0; i < 30; i++) {
                assertEquals(a.rewards()[i] - 1f, b.rewards()[i], 0f, "the D4RL antmaze shift adds -1 to the online reward");
                assertTrue(a.rewards()[i] == -1f || a.rewards()[i] == 0f);
                if (i > 0 && a.terminals()[i - 1] == 0f) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(a.nextObservations(), 2 * (i - 1), 2 * i),
                            java.util.Arrays.copyOfRange(a.observations(), 2 * i, 2 * i + 2), "s' of one step is s of the next");
                }
            }
            assertArrayEquals(a.observations(), b.observations(), "the shift changes rewards only");
        }
    }

    /** An actor rebuilt from its state mid-episode (reset with the episode's seed, actions replayed) continues exactly. */
    @Test
    void anActorRebuiltFromItsStateContinuesExactly() {
        OnlineTransitions whole;
        try (OnlineActor a = OnlineActor.restore(MAZE, ActorState.fresh(0), 1, 9, 0f, 2, 2)) {
            whole = run(a, 40, 0);
        }
        OnlineTransitions second;
        ActorState mid;
        try (OnlineActor a = OnlineActor.restore(MAZE, ActorState.fresh(0), 1, 9, 0f, 2, 2)) {
            run(a, 17, 0);
            mid = a.state();
        }
        assertEquals(17, mid.t(), "mid-episode: the maze's episodes are longer than 17 steps");
        try (OnlineActor b = OnlineActor.restore(MAZE, mid, 1, 9, 0f, 2, 2)) {
            assertFalse(b.replayDiverged());
            second = run(b, 23, 17);
        }
        OnlineTransitions.Builder expected = new OnlineTransitions.Builder(2, 2, 17, 23);
        for (int i = 17; i < 40; i++) {
            expected.add(whole, i);
        }
        OnlineTransitions tail = expected.build();
        assertArrayEquals(tail.observations(), second.observations());
        assertArrayEquals(tail.actions(), second.actions());
        assertArrayEquals(tail.rewards(), second.rewards());
        assertArrayEquals(tail.stepIndices(), second.stepIndices());
    }

    /** A chunked "policy" (h = 3, A = 2): the noise itself, clipped, counting its calls and the online index of each. */
    private static final class ChunkPolicy implements OnlineActor.Actor {
        final java.util.List<Integer> calls = new java.util.ArrayList<>();
        OnlineTransitions.Builder out;

        @Override
        public float[] act(float[] obs, float[] z) {
            assertEquals(6, z.length, "h·A draws per call");
            calls.add(out.size());
            float[] a = new float[z.length];
            for (int i = 0; i < a.length; i++) a[i] = Math.max(-1, Math.min(1, z[i]));
            return a;
        }
    }

    private static OnlineTransitions runChunked(OnlineActor actor, ChunkPolicy policy, int n, long first) {
        OnlineTransitions.Builder b = new OnlineTransitions.Builder(2, 2, first, n);
        policy.out = b;
        actor.run(n, policy, b, first);
        return b.build();
    }

    /**
     * With chunks of 3 an actor calls the policy every third step and plays the chunk's actions in order; the maze's
     * 1000-step episode ends one action into its 334th chunk, whose other two actions are dropped: the next episode
     * begins with a fresh call (at step 1000, not 1002). One stored row per environment step throughout.
     */
    @Test
    void aChunkedActorPlaysChunksOpenLoopAndDropsTheRestAtAnEpisodeEnd() {
        ChunkPolicy policy = new ChunkPolicy();
        OnlineTransitions rows;
        try (OnlineActor a = OnlineActor.restore(MAZE, ActorState.fresh(0), 1, 5, 0f, 2, 2, 3)) {
            rows = runChunked(a, policy, 1004, 0);
            assertEquals(4, a.state().chunk().length, "the chunk drawn at step 1003 has two actions left");
        }
        java.util.List<Integer> expected = new java.util.ArrayList<>();
        for (int t = 0; t < 1000; t += 3) expected.add(t);
        expected.add(1000);
        expected.add(1003);
        assertEquals(expected, policy.calls);
        assertEquals(1f, rows.terminals()[999], "the maze truncates at 1000 steps");
        assertEquals(0, rows.stepIndices()[1000]);
        long onlineSeed = org.fqlspark.train.worker.Seeds.onlineSeed(5);
        for (int call : expected) {
            float[] z = org.fqlspark.agent.StepNoise.gaussian(6, new java.util.SplittableRandom(
                    org.fqlspark.train.worker.Seeds.actionNoiseSeed(onlineSeed, 0, call)));
            int played = call == 999 ? 1 : call == 1003 ? 1 : 3;
            for (int j = 0; j < played; j++) {
                for (int c = 0; c < 2; c++) {
                    assertEquals(Math.max(-1, Math.min(1, z[2 * j + c])), rows.actions()[2 * (call + j) + c], 0f,
                            "step " + (call + j) + " plays action " + j + " of the chunk drawn at step " + call);
                }
            }
        }
    }

    /** Rebuilt in the middle of a chunk (its state and JSON carry the unplayed actions), an actor continues exactly. */
    @Test
    void aChunkedActorRebuiltMidChunkContinuesExactly() throws Exception {
        OnlineTransitions whole;
        try (OnlineActor a = OnlineActor.restore(MAZE, ActorState.fresh(0), 1, 9, 0f, 2, 2, 3)) {
            whole = runChunked(a, new ChunkPolicy(), 40, 0);
        }
        ActorState mid;
        try (OnlineActor a = OnlineActor.restore(MAZE, ActorState.fresh(0), 1, 9, 0f, 2, 2, 3)) {
            runChunked(a, new ChunkPolicy(), 17, 0);
            mid = a.state();
        }
        assertEquals(2, mid.chunk().length, "17 = 5·3 + 2: one action of the sixth chunk is left");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        ActorState read = json.readValue(json.writeValueAsString(mid), ActorState.class);
        assertArrayEquals(mid.chunk(), read.chunk());
        ChunkPolicy after = new ChunkPolicy();
        OnlineTransitions second;
        try (OnlineActor b = OnlineActor.restore(MAZE, read, 1, 9, 0f, 2, 2, 3)) {
            second = runChunked(b, after, 23, 17);
        }
        assertEquals(18, 17 + after.calls.get(0), "the first call after the rebuild is at step 18, after the pending action");
        assertArrayEquals(java.util.Arrays.copyOfRange(whole.actions(), 34, 80), second.actions());
        assertArrayEquals(java.util.Arrays.copyOfRange(whole.observations(), 34, 80), second.observations());
        // an FQL actor's state has no chunk, and its JSON no such field
        try (OnlineActor a = OnlineActor.restore(MAZE, ActorState.fresh(0), 1, 9, 0f, 2, 2)) {
            run(a, 5, 0);
            assertEquals(null, a.state().chunk());
            assertFalse(json.writeValueAsString(a.state()).contains("chunk"));
        }
    }

    /** What each preset's data is shifted by (the online shift itself is the dataset's: OnlineRewardShiftTest). */
    @Test
    void theD4rlAntmazePresetsAreForDataShiftedByMinusOne() {
        assertEquals(-1f, org.fqlspark.agent.FqlPresets.dataRewardShift("antmaze-large-play-v2"));
        assertEquals(0f, org.fqlspark.agent.FqlPresets.dataRewardShift("antmaze-large-navigate"));
        assertEquals(0f, org.fqlspark.agent.FqlPresets.dataRewardShift("pen-human-v1"));
        assertEquals(null, org.fqlspark.agent.FqlPresets.dataRewardShift("default"));
    }
}
