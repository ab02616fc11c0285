package org.fqlspark.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ReferenceScoresTest {

    private static final EpisodeStatistics HALF = EpisodeStatistics.of(List.of(
            EpisodeResult.completed(0, 1, 1.0, 100, true),
            EpisodeResult.completed(1, 2, 0.0, 1000, false)));

    @Test
    void pointMazeAndOgbenchUseTheSuccessRateInPercent() {
        for (String id : List.of("pointmaze-medium", "pointmaze-giant-task4", "antmaze-large-navigate-singletask-v0",
                "antmaze-large-navigate-singletask-task3-v0", "cube-double-play-singletask-task2-v0", "puzzle-4x4-play-singletask-v0",
                "humanoidmaze-medium-navigate-singletask-v0", "antsoccer-arena-navigate-singletask-v0", "scene-play-singletask-v0",
                "visual-cube-single-play-singletask-task1-v0", "pointmaze-medium-navigate-v0")) {
            ReferenceScores.Normalization n = ReferenceScores.forEnvironment(id).orElseThrow(() -> new AssertionError(id));
            assertTrue(n.usesSuccessRate(), id);
            assertEquals(50.0, n.score(HALF), 1e-12, id);
        }
    }

    @Test
    void d4rlAntmazeAndAdroitUseTheReferenceReturns() {
        ReferenceScores.Normalization antmaze = ReferenceScores.forEnvironment("antmaze-large-play-v2").orElseThrow();
        assertEquals(0.0, antmaze.minReturn());
        assertEquals(1.0, antmaze.maxReturn());
        assertEquals(50.0, antmaze.score(HALF), 1e-12);   // mean return 0.5
        assertEquals(ReferenceScores.D4RL_SOURCE, antmaze.source());
        ReferenceScores.Normalization pen = ReferenceScores.forEnvironment("pen-human-v1").orElseThrow();
        assertEquals(96.262799, pen.minReturn());
        assertEquals(3076.8331017826877, pen.maxReturn());
        assertEquals(100 * (0.5 - 96.262799) / (3076.8331017826877 - 96.262799), pen.score(HALF), 1e-12);
        assertEquals(-56.512833, ReferenceScores.forEnvironment("door-cloned-v1").orElseThrow().minReturn());
        assertEquals(12794.134825156867, ReferenceScores.forEnvironment("hammer-expert-v0").orElseThrow().maxReturn());
        assertEquals(4233.877797728884, ReferenceScores.forEnvironment("relocate-human-v1").orElseThrow().maxReturn());
    }

    @Test
    void unknownIdsHaveNoNormalizedScore() {
        assertTrue(ReferenceScores.forEnvironment("hopper-medium-v2").isEmpty());
        assertTrue(ReferenceScores.forEnvironment("line-v0").isEmpty());
        assertTrue(ReferenceScores.forEnvironment(null).isEmpty());
        ReferenceScores.Normalization n = ReferenceScores.forEnvironment("pointmaze-medium").orElseThrow();
        assertNull(n.score(new EpisodeStatistics()));
    }
}
