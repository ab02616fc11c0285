package org.fqlspark.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.fqlspark.data.TransitionData;
import org.fqlspark.env.MazeDatasetGenerator.Config;
import org.junit.jupiter.api.Test;

class MazeDatasetGeneratorTest {

    private static final float GOAL_X = 20f; // medium task1 goal cell (6, 6)
    private static final float GOAL_Y = 20f;

    @Test
    void sameSeedSameArraysOtherSeedOtherArrays() {
        Config config = new Config("pointmaze-medium", DatasetKind.STITCH, 40, 200, 0.5, 9);
        TransitionData a = MazeDatasetGenerator.generate(config);
        TransitionData b = MazeDatasetGenerator.generate(config);
        assertArrayEquals(a.observations(), b.observations());
        assertArrayEquals(a.actions(), b.actions());
        assertArrayEquals(a.rewards(), b.rewards());
        assertArrayEquals(a.masks(), b.masks());
        assertArrayEquals(a.terminals(), b.terminals());
        assertArrayEquals(a.nextObservations(), b.nextObservations());
        assertArrayEquals(a.episodeIds(), b.episodeIds());
        assertArrayEquals(a.stepIndices(), b.stepIndices());
        TransitionData other = MazeDatasetGenerator.generate(new Config("pointmaze-medium", DatasetKind.STITCH, 40, 200, 0.5, 10));
        assertFalse(Arrays.equals(a.observations(), other.observations()));
        // Episode e does not depend on how many episodes are generated (each has its own seeded stream).
        TransitionData prefix = MazeDatasetGenerator.generate(new Config("pointmaze-medium", DatasetKind.STITCH, 3, 200, 0.5, 9));
        assertArrayEquals(prefix.actions(), Arrays.copyOf(a.actions(), prefix.actions().length));
    }

    @Test
    void shapeEpisodeBookkeepingAndContinuity() {
        TransitionData data = MazeDatasetGenerator.generate(new Config("pointmaze-medium", DatasetKind.NAVIGATE, 7, 50, 0.5, 1));
        assertEquals(350, data.size());
        assertEquals(2, data.obsDim());
        assertEquals(2, data.actionDim());
        for (int i = 0; i < data.size(); i++) {
            assertEquals(i / 50, data.episodeIds()[i]);
            assertEquals(i % 50, data.stepIndices()[i]);
            assertEquals(i % 50 == 49 ? 1f : 0f, data.terminals()[i], "row " + i);
            if (i % 50 != 49) {
                assertEquals(data.observations()[2 * i + 2], data.nextObservations()[2 * i], "x continuity at row " + i);
                assertEquals(data.observations()[2 * i + 3], data.nextObservations()[2 * i + 1], "y continuity at row " + i);
            }
            float stepX = data.nextObservations()[2 * i] - data.observations()[2 * i];
            float stepY = data.nextObservations()[2 * i + 1] - data.observations()[2 * i + 1];
            assertTrue(Math.abs(stepX) <= 0.2f + 1e-5f && Math.abs(stepY) <= 0.2f + 1e-5f, "row " + i + " moved too far");
            assertTrue(Math.abs(data.actions()[2 * i]) <= MazeDatasetGenerator.ACTION_LIMIT);
            assertTrue(Math.abs(data.actions()[2 * i + 1]) <= MazeDatasetGenerator.ACTION_LIMIT);
        }
        // σ = 0.5 on top of a unit direction saturates often, so the clip to ±(1 − 1e-5) must show up.
        long atLimit = 0;
        for (float action : data.actions()) if (Math.abs(action) == MazeDatasetGenerator.ACTION_LIMIT) atLimit++;
        assertTrue(atLimit > 0);
    }

    @Test
    void freeSpaceRowsFollowTheStoredActions() {
        TransitionData data = MazeDatasetGenerator.generate(new Config("pointmaze-medium", DatasetKind.STITCH, 20, 200, 0.5, 4));
        int checked = 0;
        for (int i = 0; i < data.size(); i++) {
            float x = data.observations()[2 * i];
            float y = data.observations()[2 * i + 1];
            // Far from every wall (disc radius + step), the step is exactly 0.2 · action (up to float storage).
            if (!PointMaze.isClear(MazeMap.MEDIUM, x, y, -0.25)) continue;
            assertEquals(x + 0.2 * data.actions()[2 * i], data.nextObservations()[2 * i], 1e-5, "row " + i);
            assertEquals(y + 0.2 * data.actions()[2 * i + 1], data.nextObservations()[2 * i + 1], 1e-5, "row " + i);
            checked++;
        }
        assertTrue(checked > 100, "only " + checked + " rows away from walls");
    }

    @Test
    void labelsComeFromTheCurrentStateAndTheTaskGoal() {
        TransitionData data = MazeDatasetGenerator.generate(new Config("pointmaze-medium", DatasetKind.NAVIGATE, 30, 1000, 0.5, 2));
        int successes = 0;
        for (int i = 0; i < data.size(); i++) {
            double dx = data.observations()[2 * i] - GOAL_X;
            double dy = data.observations()[2 * i + 1] - GOAL_Y;
            boolean success = Math.sqrt(dx * dx + dy * dy) <= 1.0;
            assertEquals(success ? 0f : -1f, data.rewards()[i], "reward of row " + i);
            assertEquals(success ? 0f : 1f, data.masks()[i], "mask of row " + i);
            if (success) successes++;
        }
        assertTrue(successes > 0, "30 navigate episodes never passed the medium task1 goal");
        // Hand-checked rows: the first success row and the row before it.
        int first = 0;
        while (data.rewards()[first] != 0f) first++;
        float x = data.observations()[2 * first];
        float y = data.observations()[2 * first + 1];
        assertTrue((x - 20) * (x - 20) + (y - 20) * (y - 20) <= 1.0, x + ", " + y);
        assertEquals(0f, data.masks()[first]);
        if (data.stepIndices()[first] > 0) {
            float px = data.observations()[2 * first - 2];
            float py = data.observations()[2 * first - 1];
            assertTrue((px - 20) * (px - 20) + (py - 20) * (py - 20) > 1.0);
            assertEquals(-1f, data.rewards()[first - 1]);
            assertEquals(1f, data.masks()[first - 1]);
            // The next state of the row before is the success state, yet that row is still labelled a failure:
            // labels follow s_t, not s_{t+1} (docs/algorithm.md §6.1).
            assertEquals(x, data.nextObservations()[2 * first - 2]);
        }
    }

    @Test
    void taskSuffixRelabelsForThatGoal() {
        TransitionData data = MazeDatasetGenerator.generate(new Config("pointmaze-medium-task4", DatasetKind.NAVIGATE, 10, 1000, 0.5, 2));
        PointMaze task4 = EnvironmentRegistry.pointMaze("pointmaze-medium-task4");
        for (int i = 0; i < data.size(); i++) {
            boolean success = task4.isAtGoal(data.observations()[2 * i], data.observations()[2 * i + 1]);
            assertEquals(success ? 0f : -1f, data.rewards()[i]);
        }
    }

    @Test
    void stitchEpisodesStayLocalWhileNavigateEpisodesRoam() {
        MazeMap map = MazeMap.LARGE;
        TransitionData stitch = MazeDatasetGenerator.generate(new Config("pointmaze-large", DatasetKind.STITCH, 100, 200, 0.5, 3));
        int reachedFour = 0;
        for (int episode = 0; episode < 100; episode++) {
            int first = episode * 200;
            Cell start = map.cellAt(stitch.observations()[2 * first], stitch.observations()[2 * first + 1]);
            int farthest = 0;
            for (int t = 0; t < 200; t++) {
                Cell cell = map.cellAt(stitch.nextObservations()[2 * (first + t)], stitch.nextObservations()[2 * (first + t) + 1]);
                farthest = Math.max(farthest, map.distance(start, cell));
            }
            assertTrue(farthest <= 5, "stitch episode " + episode + " went " + farthest + " cells from its start");
            if (farthest >= 4) reachedFour++;
        }
        assertTrue(reachedFour >= 90, "only " + reachedFour + "/100 stitch episodes reached their 4-cell goal");

        TransitionData navigate = MazeDatasetGenerator.generate(new Config("pointmaze-large", DatasetKind.NAVIGATE, 5, 1000, 0.5, 3));
        for (int episode = 0; episode < 5; episode++) {
            Set<Cell> visited = new HashSet<>();
            for (int t = 0; t < 1000; t++) {
                int row = episode * 1000 + t;
                visited.add(map.cellAt(navigate.observations()[2 * row], navigate.observations()[2 * row + 1]));
            }
            assertTrue(visited.size() >= 15, "navigate episode " + episode + " visited only " + visited.size() + " cells");
        }
    }

    @Test
    void ogbenchRecipeGivesOneMillionTransitionsQuickly() {
        Config config = Config.ogbench("pointmaze-medium", DatasetKind.STITCH, 0);
        assertEquals(5000, config.episodes());
        assertEquals(200, config.episodeLength());
        assertEquals(0.5, config.actionNoise());
        assertEquals(1_000_000, config.transitions());
        assertEquals(2000, Config.ogbench("pointmaze-giant", DatasetKind.NAVIGATE, 0).episodeLength());
        assertEquals(500, Config.ogbench("pointmaze-giant", DatasetKind.NAVIGATE, 0).episodes());
        long start = System.nanoTime();
        TransitionData data = MazeDatasetGenerator.generate(config);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(1_000_000, data.size());
        // Generous bound for a loaded 2-core CI box; about 0.5 s is typical.
        assertTrue(seconds < 15, "1M transitions took " + seconds + " s");
    }

    @Test
    void badConfigsNameTheProblem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Config("antmaze-large", DatasetKind.STITCH, 1, 1, 0.5, 0))
                .getMessage().contains("valid ids"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Config("pointmaze-medium", DatasetKind.STITCH, 0, 1, 0.5, 0))
                .getMessage().contains("episodes"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Config("pointmaze-medium", DatasetKind.STITCH, 1, 0, 0.5, 0))
                .getMessage().contains("episode length"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Config("pointmaze-medium", DatasetKind.STITCH, 1, 1, Double.NaN, 0))
                .getMessage().contains("noise"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Config("pointmaze-medium", DatasetKind.STITCH, 1_000_000, 2000, 0.5, 0))
                .getMessage().contains("at most"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DatasetKind.parse("explore")).getMessage().contains("[navigate, stitch]"));
    }
}
