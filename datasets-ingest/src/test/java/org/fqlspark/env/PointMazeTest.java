package org.fqlspark.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PointMazeTest {

    private static final double EPS = 1e-12;

    @Test
    void freeSpaceStepIsExactlyPositionPlusPointTwoTimesAction() {
        PointMaze env = new PointMaze(MazeMap.MEDIUM, 1);
        env.reset(7);
        double[] before = env.position();
        StepResult result = env.step(new float[] {0.5f, -0.25f});
        double[] after = env.position();
        assertEquals(before[0] + 0.2 * 0.5, after[0], 0.0);
        assertEquals(before[1] + 0.2 * -0.25, after[1], 0.0);
        assertArrayEquals(new float[] {(float) after[0], (float) after[1]}, result.observation());
        assertEquals(-1f, result.reward());
        assertFalse(result.terminated() || result.truncated() || result.success());
    }

    @Test
    void actionsAreClippedToTheUnitBox() {
        PointMaze clipped = new PointMaze(MazeMap.MEDIUM, 1);
        PointMaze plain = new PointMaze(MazeMap.MEDIUM, 1);
        clipped.reset(3);
        plain.reset(3);
        assertArrayEquals(plain.step(new float[] {1f, -1f}).observation(), clipped.step(new float[] {5f, -40f}).observation());
    }

    @Test
    void pushingIntoAWallSettlesWhereMujocoDoes() {
        // Medium cell (1, 1) is centred on the origin with walls to its left (1, 0) and above (0, 1): their faces are
        // at x = -2 and y = -2, so a touching disc's centre is at -2 + 0.7. Pushing on, each step adds 0.2 of overlap
        // and the contact leaves the fraction r of it, so the overlap settles at p = r (p + 0.2): p = 0.2 r / (1 − r),
        // a few hundredths, as MuJoCo's soft contact leaves it.
        double r = PointMaze.CONTACT_RESIDUAL;
        double settled = 0.2 * r / (1 - r);
        PointMaze env = new PointMaze(MazeMap.MEDIUM, 1);
        env.reset(11);
        double startY = env.position()[1];
        for (int i = 0; i < 30; i++) env.step(new float[] {-1f, 0f});
        assertEquals(-1.3 - settled, env.position()[0], EPS);
        assertEquals(startY, env.position()[1], 0.0);
        // Pushing down instead: the left wall, no longer pushed into, lets its overlap relax away (by r per step).
        for (int i = 0; i < 30; i++) env.step(new float[] {0f, -1f});
        assertEquals(-1.3 - settled, env.position()[1], EPS);
        assertEquals(-1.3, env.position()[0], EPS);
    }

    @Test
    void handPickedMovesAgainstWallsAndCorners() {
        MazeMap medium = MazeMap.MEDIUM;
        double r = PointMaze.CONTACT_RESIDUAL;
        // Wall (1, 3) spans x in [6, 10]: from (5.2, 0) a 0.2 push right overlaps it by 0.1, and the contact pushes
        // the disc back to 6 - 0.7 plus the fraction r of that overlap.
        double[] xy = {5.2, 0.0};
        PointMaze.move(medium, xy, 0.2, 0.0);
        assertArrayEquals(new double[] {5.3 + 0.1 * r, 0.0}, xy, EPS);
        // Pushing further adds 0.2 to the remaining overlap; moving away is free.
        PointMaze.move(medium, xy, 0.2, 0.0);
        assertArrayEquals(new double[] {5.3 + (0.1 * r + 0.2) * r, 0.0}, xy, EPS);
        double before = xy[0];
        PointMaze.move(medium, xy, -0.2, 0.0);
        assertArrayEquals(new double[] {before - 0.2, 0.0}, xy, EPS);

        // Rounded corner: wall (2, 3) spans x in [6, 10], y in [2, 6]. A disc at y = 6.5 moving right meets the
        // corner (6, 6); the contact normal there points up and left, so each push deflects the disc upward and it
        // slides round the corner instead of stopping (the old hard contact stopped it dead).
        xy = new double[] {5.0, 6.5};
        double previousX = xy[0];
        for (int i = 0; i < 30; i++) {
            PointMaze.move(medium, xy, 0.2, 0.0);
            assertTrue(xy[0] > previousX, "held at the corner at step " + i + ": " + xy[0] + ", " + xy[1]);
            previousX = xy[0];
        }
        assertTrue(xy[0] > 7.0, "did not get past the corner: " + xy[0]);
        // Past the corner it rides on the top face, any overlap relaxed away: y = 6 + 0.7.
        assertEquals(6.7, xy[1], 1e-9);

        // A diagonal push into the inside corner of cell (1, 1): the two walls push out independently.
        xy = new double[] {-1.2, -1.2};
        PointMaze.move(medium, xy, -0.2, -0.2);
        assertArrayEquals(new double[] {-1.3 - 0.1 * r, -1.3 - 0.1 * r}, xy, EPS);
        // ... and the disc leaves the corner with any move away from either wall.
        double[] corner = xy.clone();
        PointMaze.move(medium, xy, 0.2, -0.2);
        assertTrue(xy[0] > corner[0] + 0.19, "stuck in the corner: " + xy[0]);
    }

    @Test
    void movesThatCouldReachIntoAWallAreRefused() {
        double[] xy = {0.0, 0.0};
        IllegalArgumentException tooFar = assertThrows(IllegalArgumentException.class, () -> PointMaze.move(MazeMap.MEDIUM, xy, 0.6, 0.0));
        assertTrue(tooFar.getMessage().contains("at most 0.5"), tooFar.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PointMaze.move(MazeMap.MEDIUM, xy, 0.0, Double.NaN));
        assertArrayEquals(new double[] {0.0, 0.0}, xy, 0.0);
        // A centre inside a wall cell has no contact normal to push along.
        double[] inWall = {-2.5, 0.0};
        IllegalStateException inside = assertThrows(IllegalStateException.class, () -> PointMaze.move(MazeMap.MEDIUM, inWall, 0.0, 0.0));
        assertTrue(inside.getMessage().contains("inside wall cell (1, 0)"), inside.getMessage());
    }

    @Test
    void randomWalksNeverEnterOrCrossWalls() {
        SplittableRandom random = new SplittableRandom(5);
        for (String name : MazeMap.names()) {
            MazeMap map = MazeMap.named(name);
            for (int walk = 0; walk < 20; walk++) {
                Cell start = map.freeCells().get(random.nextInt(map.freeCells().size()));
                double[] xy = {MazeMap.centerX(start.col()), MazeMap.centerY(start.row())};
                Cell cell = start;
                for (int step = 0; step < 2000; step++) {
                    PointMaze.move(map, xy, 0.2 * random.nextDouble(-1, 1), 0.2 * random.nextDouble(-1, 1));
                    // Soft contact leaves a few hundredths of overlap (MuJoCo's too), never more than 0.06.
                    assertTrue(PointMaze.isClear(map, xy[0], xy[1], 0.06), name + " overlaps a wall at " + xy[0] + ", " + xy[1]);
                    Cell next = map.cellAt(xy[0], xy[1]);
                    // One step changes the cell by at most one row and one column; a diagonal change must pass
                    // through a free side cell (the open corner of four free cells), never through a wall.
                    int rowChange = Math.abs(next.row() - cell.row());
                    int colChange = Math.abs(next.col() - cell.col());
                    assertTrue(rowChange <= 1 && colChange <= 1, name + " jumped from " + cell + " to " + next);
                    if (rowChange == 1 && colChange == 1) {
                        assertTrue(!map.isWall(cell.row(), next.col()) || !map.isWall(next.row(), cell.col()),
                                name + " cut a wall corner from " + cell + " to " + next);
                    }
                    assertTrue(map.isFree(next));
                    cell = next;
                }
            }
        }
    }

    @Test
    void successMeansWithinOneUnitOfTheGoalCentre() {
        PointMaze env = new PointMaze(MazeMap.MEDIUM, 1);
        assertEquals(20.0, env.goalX());
        assertEquals(20.0, env.goalY());
        assertTrue(env.isAtGoal(20.0, 21.0));
        assertTrue(env.isAtGoal(19.3, 19.3));
        assertFalse(env.isAtGoal(21.0001, 20.0));
        assertFalse(env.isAtGoal(19.29, 19.29));
    }

    @Test
    void reachingTheGoalTerminatesWithRewardZero() {
        PointMaze env = new PointMaze(MazeMap.MEDIUM, 1);
        MazeExpert expert = new MazeExpert(MazeMap.MEDIUM);
        env.reset(0);
        StepResult result;
        do {
            double[] xy = env.position();
            result = env.step(expert.act(xy[0], xy[1], env.task().goal()));
            if (!result.success()) assertEquals(-1f, result.reward());
        } while (!result.done());
        assertTrue(result.success());
        assertTrue(result.terminated());
        assertFalse(result.truncated());
        assertEquals(0f, result.reward());
        assertTrue(env.isAtGoal(result.observation()[0], result.observation()[1]));
        IllegalStateException error = assertThrows(IllegalStateException.class, () -> env.step(new float[] {0f, 0f}));
        assertTrue(error.getMessage().contains("reset"), error.getMessage());
    }

    @Test
    void timeLimitTruncatesWithoutTerminating() {
        PointMaze shortEpisodes = new PointMaze(MazeMap.MEDIUM, MazeMap.MEDIUM.task(1), 5);
        shortEpisodes.reset(1);
        for (int i = 0; i < 4; i++) assertFalse(shortEpisodes.step(new float[] {0f, 0f}).done());
        StepResult last = shortEpisodes.step(new float[] {0f, 0f});
        assertTrue(last.truncated());
        assertFalse(last.terminated());
        assertEquals(-1f, last.reward());

        PointMaze standard = new PointMaze(MazeMap.GIANT, 1);
        assertEquals(1000, standard.maxEpisodeSteps());
        standard.reset(2);
        int steps = 0;
        StepResult result;
        do {
            result = standard.step(new float[] {0.3f, -0.1f});
            steps++;
        } while (!result.done());
        assertEquals(1000, steps);
        assertTrue(result.truncated());
    }

    @Test
    void resetIsDeterministicPerSeedAndNearTheStartCell() {
        PointMaze env = new PointMaze(MazeMap.LARGE, 3);
        float[] first = env.reset(42);
        env.step(new float[] {1f, 1f});
        assertArrayEquals(first, env.reset(42));
        assertArrayEquals(first, new PointMaze(MazeMap.LARGE, 3).reset(42));
        assertNotEquals(first[0], env.reset(43)[0]);
        // Task 3 of large starts in cell (7, 4): centre (12, 24), reset noise ±1 per axis.
        for (long seed = 0; seed < 200; seed++) {
            float[] obs = env.reset(seed);
            assertTrue(Math.abs(obs[0] - 12.0) <= 1.0 && Math.abs(obs[1] - 24.0) <= 1.0, seed + ": " + obs[0] + ", " + obs[1]);
        }
        assertEquals(0, env.stepsTaken());
    }

    @Test
    void badActionsAndCallOrderAreRefused() {
        PointMaze env = new PointMaze(MazeMap.MEDIUM, 1);
        assertTrue(assertThrows(IllegalStateException.class, () -> env.step(new float[] {0f, 0f})).getMessage().contains("reset"));
        env.reset(0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> env.step(new float[] {0f, 0f, 0f})).getMessage().contains("2-D"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> env.step(new float[] {Float.NaN, 0f})).getMessage().contains("finite"));
        assertThrows(IllegalArgumentException.class, () -> new PointMaze(MazeMap.MEDIUM, MazeMap.MEDIUM.task(1), 0));
    }
}
