package org.fqlspark.env;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EnvironmentRegistryTest {

    @Test
    void bareIdMeansTask1() {
        Environment env = EnvironmentRegistry.create("pointmaze-medium");
        assertEquals("pointmaze-medium-task1", env.id());
        assertEquals(2, env.observationDim());
        assertEquals(2, env.actionDim());
        assertEquals(1000, env.maxEpisodeSteps());
        assertEquals(MazeMap.MEDIUM.task(1), ((PointMaze) env).task());
    }

    @Test
    void taskSuffixSelectsTheTask() {
        PointMaze env = EnvironmentRegistry.pointMaze("pointmaze-giant-task5");
        assertEquals(MazeMap.GIANT, env.map());
        assertEquals(new Cell(5, 9), env.task().start());
        assertEquals(new Cell(3, 8), env.task().goal());
        for (String id : EnvironmentRegistry.ids()) EnvironmentRegistry.create(id);
        assertEquals(18, EnvironmentRegistry.ids().size());
    }

    @Test
    void unknownIdsListTheValidOnes() {
        for (String bad : new String[] {"antmaze-large-navigate", "pointmaze-tiny", "pointmaze-medium-task6", "pointmaze-medium-task", ""}) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> EnvironmentRegistry.create(bad));
            assertTrue(error.getMessage().contains("valid ids: pointmaze-medium, pointmaze-medium-task1"), error.getMessage());
            assertTrue(error.getMessage().contains("'" + bad + "'"), error.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EnvironmentRegistry.create("pointmaze-large-task9"))
                .getMessage().contains("tasks 1..5"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EnvironmentRegistry.create(null))
                .getMessage().contains("valid ids"));
    }
}
