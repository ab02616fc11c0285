package org.fqlspark.env;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MazeExpertTest {

    /** Steps the noiseless expert needs from reset(seed) to success, or −1 if it runs out of time. */
    static int stepsToGoal(PointMaze env, long seed) {
        MazeExpert expert = new MazeExpert(env.map());
        env.reset(seed);
        while (true) {
            double[] xy = env.position();
            StepResult result = env.step(expert.act(xy[0], xy[1], env.task().goal()));
            if (result.success()) return env.stepsTaken();
            if (result.done()) return -1;
        }
    }

    @Test
    void noiselessExpertSolvesMediumTask1WellWithinTheTimeLimit() {
        // The quick start trains on medium task1 data; an unsolvable task or a dithering expert would make the
        // FQL-vs-BC comparison meaningless. Ten cells of path at 0.2 per step is about 200 steps.
        for (long seed = 0; seed < 20; seed++) {
            int steps = stepsToGoal(new PointMaze(MazeMap.MEDIUM, 1), seed);
            assertTrue(steps > 0 && steps < 250, "seed " + seed + ": " + steps + " steps");
        }
    }

    @Test
    void noiselessExpertSolvesEveryTaskOfEveryMaze() {
        for (String name : MazeMap.names()) {
            MazeMap map = MazeMap.named(name);
            for (MazeTask task : map.tasks()) {
                int steps = stepsToGoal(new PointMaze(map, task, PointMaze.MAX_EPISODE_STEPS), 123);
                assertTrue(steps > 0, name + " " + task.name() + " not solved in 1000 steps");
            }
        }
    }

    @Test
    void actionIsAUnitVectorTowardsTheNextCellCentre() {
        MazeExpert expert = new MazeExpert(MazeMap.MEDIUM);
        // At (0.5, 0) in (1, 1) heading for (6, 6) the next cell is (2, 1), centred at (0, 4).
        float[] action = expert.act(0.5, 0.0, new Cell(6, 6));
        double norm = Math.hypot(-0.5, 4.0) + 1e-6;
        assertEquals(-0.5 / norm, action[0], 1e-7);
        assertEquals(4.0 / norm, action[1], 1e-7);
    }
}
