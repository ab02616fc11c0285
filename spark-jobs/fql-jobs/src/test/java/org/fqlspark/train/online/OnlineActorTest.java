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

    /** What each preset's data is shifted by (the online shift itself is the dataset's: OnlineRewardShiftTest). */
    @Test
    void theD4rlAntmazePresetsAreForDataShiftedByMinusOne() {
        assertEquals(-1f, org.fqlspark.agent.FqlPresets.dataRewardShift("antmaze-large-play-v2"));
        assertEquals(0f, org.fqlspark.agent.FqlPresets.dataRewardShift("antmaze-large-navigate"));
        assertEquals(0f, org.fqlspark.agent.FqlPresets.dataRewardShift("pen-human-v1"));
        assertEquals(null, org.fqlspark.agent.FqlPresets.dataRewardShift("default"));
    }
}
