package org.fqlspark.env;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MazeMapTest {

    @Test
    void mapsHaveOgbenchShapesAndTasks() {
        assertEquals(8, MazeMap.MEDIUM.rows());
        assertEquals(8, MazeMap.MEDIUM.cols());
        assertEquals(9, MazeMap.LARGE.rows());
        assertEquals(12, MazeMap.LARGE.cols());
        assertEquals(12, MazeMap.GIANT.rows());
        assertEquals(16, MazeMap.GIANT.cols());
        for (String name : MazeMap.names()) assertEquals(5, MazeMap.named(name).tasks().size(), name);
        assertEquals(new MazeTask(1, new Cell(1, 1), new Cell(6, 6)), MazeMap.MEDIUM.task(1));
        assertEquals(new MazeTask(1, new Cell(1, 1), new Cell(7, 10)), MazeMap.LARGE.task(1));
        assertEquals(new MazeTask(1, new Cell(1, 1), new Cell(10, 14)), MazeMap.GIANT.task(1));
        assertEquals(new MazeTask(5, new Cell(5, 9), new Cell(3, 8)), MazeMap.GIANT.task(5));
        // Spot checks against the printed OGBench medium map.
        assertTrue(MazeMap.MEDIUM.isWall(1, 3));
        assertTrue(MazeMap.MEDIUM.isWall(5, 2));
        assertFalse(MazeMap.MEDIUM.isWall(5, 3));
        assertEquals(26, MazeMap.MEDIUM.freeCells().size());
    }

    @Test
    void cellGeometryFollowsOgbench() {
        assertEquals(0.0, MazeMap.centerX(1));
        assertEquals(0.0, MazeMap.centerY(1));
        assertEquals(20.0, MazeMap.centerX(6));
        assertEquals(new Cell(1, 1), MazeMap.MEDIUM.cellAt(0, 0));
        assertEquals(new Cell(1, 1), MazeMap.MEDIUM.cellAt(1.99, -1.99));
        assertEquals(new Cell(1, 2), MazeMap.MEDIUM.cellAt(2.0, 0));
        assertEquals(new Cell(2, 1), MazeMap.MEDIUM.cellAt(0, 2.0));
        assertThrows(IllegalArgumentException.class, () -> MazeMap.MEDIUM.cellAt(-100, 0));
    }

    @Test
    void shortestPathOfMediumTask1IsTheHandTracedOne() {
        List<Cell> path = MazeMap.MEDIUM.shortestPath(new Cell(1, 1), new Cell(6, 6));
        // OGBench's neighbour order (up, left, down, right) prefers going down first from (1, 1).
        assertEquals(List.of(new Cell(1, 1), new Cell(2, 1), new Cell(2, 2), new Cell(3, 2), new Cell(3, 3), new Cell(3, 4),
                new Cell(4, 4), new Cell(4, 5), new Cell(4, 6), new Cell(5, 6), new Cell(6, 6)), path);
        assertEquals(10, MazeMap.MEDIUM.distance(new Cell(1, 1), new Cell(6, 6)));
    }

    @Test
    void everyShortestPathStepsBetweenAdjacentFreeCells() {
        SplittableRandom random = new SplittableRandom(3);
        for (String name : MazeMap.names()) {
            MazeMap map = MazeMap.named(name);
            List<Cell> free = map.freeCells();
            for (int trial = 0; trial < 300; trial++) {
                Cell from = free.get(random.nextInt(free.size()));
                Cell to = free.get(random.nextInt(free.size()));
                List<Cell> path = map.shortestPath(from, to);
                assertEquals(from, path.get(0));
                assertEquals(to, path.get(path.size() - 1));
                assertEquals(map.distance(from, to) + 1, path.size(), name + " " + from + "->" + to);
                assertEquals(map.distance(from, to), map.distance(to, from));
                for (int i = 0; i < path.size(); i++) {
                    assertTrue(map.isFree(path.get(i)), name + " path through wall " + path.get(i));
                    if (i > 0) assertTrue(path.get(i - 1).isAdjacentTo(path.get(i)), name + " jump " + path.get(i - 1) + "->" + path.get(i));
                }
            }
            // All free cells are connected in OGBench's mazes, so every task is solvable.
            for (Cell cell : free) assertTrue(map.distance(free.get(0), cell) >= 0, name + " " + cell);
        }
    }

    @Test
    void oracleBreaksTiesInOgbenchNeighbourOrder() {
        // From (2, 1) both (1, 1) (up) and (2, 2) (right) are one step from (1, 2); OGBench tries up before right.
        assertEquals(new Cell(1, 1), MazeMap.MEDIUM.nextCellToward(new Cell(2, 1), new Cell(1, 2)));
        assertEquals(new Cell(6, 6), MazeMap.MEDIUM.nextCellToward(new Cell(6, 6), new Cell(6, 6)));
    }

    @Test
    void vertexCellsLeaveOutStraightCorridors() {
        assertFalse(MazeMap.MEDIUM.vertexCells().contains(new Cell(3, 3)), "(3, 3) is a horizontal corridor");
        assertTrue(MazeMap.MEDIUM.vertexCells().contains(new Cell(1, 1)));
        assertTrue(MazeMap.MEDIUM.vertexCells().contains(new Cell(3, 4)), "(3, 4) is a junction");
        assertTrue(MazeMap.MEDIUM.freeCells().containsAll(MazeMap.MEDIUM.vertexCells()));
    }

    @Test
    void stitchGoalCandidatesAreExactlyFourStepsAway() {
        for (String name : MazeMap.names()) {
            MazeMap map = MazeMap.named(name);
            for (Cell origin : map.freeCells()) {
                for (Cell cell : map.cellsAtDistance(origin, 4)) assertEquals(4, map.distance(origin, cell));
            }
        }
        // BFS order from (1, 1): (4, 2) is discovered (going down from (3, 2)) before (3, 3) (going right).
        assertEquals(List.of(new Cell(4, 2), new Cell(3, 3)), MazeMap.MEDIUM.cellsAtDistance(new Cell(1, 1), 4));
    }

    @Test
    void unknownMazesAndTasksAreNamedInTheError() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> MazeMap.named("tiny"));
        assertTrue(error.getMessage().contains("[medium, large, giant]"), error.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MazeMap.MEDIUM.task(6)).getMessage().contains("1..5"));
        assertThrows(IllegalArgumentException.class, () -> MazeMap.MEDIUM.distance(new Cell(0, 0), new Cell(1, 1)));
    }
}
