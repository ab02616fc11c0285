package org.fqlspark.env;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Holds {@link PointMaze#move} to MuJoCo. The fixtures under {@code src/test/resources/mujoco} are one-step results of
 * OGBench's point model (its {@code point.xml} plus the maze's wall boxes, stepped as {@code locomaze/point.py}
 * does) recorded by {@code tools/mujoco-pointmaze/record.sh}: free-space steps, steps near walls, steps from
 * concave and convex corners, and every near-wall step of MuJoCo's own random walks. MuJoCo is not needed here.
 *
 * <p>Tolerances, by how many wall boxes the disc overlaps after the raw move (before any contact push): none →
 * exact; one → {@value #ONE_CONTACT_TOLERANCE}; two or more (concave corners, seams) →
 * {@value #MULTI_CONTACT_TOLERANCE}, since wall friction couples MuJoCo's pushes there and the Java env does not
 * model friction.
 */
class PointMazeMujocoDifferentialTest {

    static final double ONE_CONTACT_TOLERANCE = 1e-4;
    static final double MULTI_CONTACT_TOLERANCE = 0.07;

    record MujocoStep(String kind, double x, double y, double actionX, double actionY, double endX, double endY) {
    }

    record Fixture(String maze, List<String> grid, List<MujocoStep> steps) {
    }

    static Fixture load(String maze) throws IOException {
        String resource = "/mujoco/pointmaze-" + maze + "-steps.txt";
        InputStream in = PointMazeMujocoDifferentialTest.class.getResourceAsStream(resource);
        assertNotNull(in, "missing fixture " + resource + " (tools/mujoco-pointmaze/record.sh writes it)");
        String name = null;
        List<String> grid = new ArrayList<>();
        List<MujocoStep> steps = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] fields = line.trim().split("\\s+");
                switch (fields[0]) {
                    case "maze" -> name = fields[1];
                    case "grid" -> grid.add(fields[1]);
                    default -> steps.add(new MujocoStep(fields[0], Double.parseDouble(fields[1]), Double.parseDouble(fields[2]),
                            Double.parseDouble(fields[3]), Double.parseDouble(fields[4]), Double.parseDouble(fields[5]),
                            Double.parseDouble(fields[6])));
                }
            }
        }
        return new Fixture(name, grid, steps);
    }

    /** Wall boxes the disc at (x, y) overlaps. */
    static int overlappedBoxes(MazeMap map, double x, double y) {
        int count = 0;
        for (int r = 0; r < map.rows(); r++) {
            for (int c = 0; c < map.cols(); c++) {
                if (!map.isWall(r, c)) continue;
                double gapX = Math.max(0.0, Math.abs(x - MazeMap.centerX(c)) - MazeMap.MAZE_UNIT / 2);
                double gapY = Math.max(0.0, Math.abs(y - MazeMap.centerY(r)) - MazeMap.MAZE_UNIT / 2);
                if (Math.hypot(gapX, gapY) < PointMaze.POINT_RADIUS) count++;
            }
        }
        return count;
    }

    static double[] javaStep(MazeMap map, MujocoStep step) {
        double[] xy = {step.x(), step.y()};
        PointMaze.move(map, xy, PointMaze.STEP_SCALE * step.actionX(), PointMaze.STEP_SCALE * step.actionY());
        return xy;
    }

    @ParameterizedTest
    @ValueSource(strings = {"medium", "large", "giant"})
    void everyRecordedStepMatchesMujoco(String maze) throws IOException {
        MazeMap map = MazeMap.named(maze);
        Fixture fixture = load(maze);
        assertEquals(maze, fixture.maze());
        // The tool read its maze from a file of its own; it must be the grid the Java env uses.
        assertEquals(map.rows(), fixture.grid().size(), "rows of the recorded maze");
        for (int r = 0; r < map.rows(); r++) {
            for (int c = 0; c < map.cols(); c++) {
                assertEquals(map.isWall(r, c), fixture.grid().get(r).charAt(c) == '#', maze + " cell (" + r + ", " + c + ")");
            }
        }
        int[] countByContacts = new int[3];
        double[] worstByContacts = new double[3];
        double worstMoveRatio = Double.POSITIVE_INFINITY;
        for (MujocoStep step : fixture.steps()) {
            double rawX = step.x() + PointMaze.STEP_SCALE * step.actionX();
            double rawY = step.y() + PointMaze.STEP_SCALE * step.actionY();
            int contacts = Math.min(2, overlappedBoxes(map, rawX, rawY));
            double[] ours = javaStep(map, step);
            double error = Math.hypot(ours[0] - step.endX(), ours[1] - step.endY());
            countByContacts[contacts]++;
            worstByContacts[contacts] = Math.max(worstByContacts[contacts], error);
            String where = maze + " " + step + ": ours (" + ours[0] + ", " + ours[1] + "), error " + error;
            switch (contacts) {
                case 0 -> {
                    assertEquals(step.endX(), ours[0], 0.0, where);
                    assertEquals(step.endY(), ours[1], 0.0, where);
                }
                case 1 -> assertTrue(error <= ONE_CONTACT_TOLERANCE, where);
                default -> assertTrue(error <= MULTI_CONTACT_TOLERANCE, where);
            }
            // Never held back where MuJoCo moves: wherever MuJoCo moves the point by more than half a step (0.1),
            // ours moves it at least half as far (the old hard contact froze there, or moved half as far).
            double mujocoMoved = Math.hypot(step.endX() - step.x(), step.endY() - step.y());
            double oursMoved = Math.hypot(ours[0] - step.x(), ours[1] - step.y());
            if (mujocoMoved > 0.1) {
                worstMoveRatio = Math.min(worstMoveRatio, oursMoved / mujocoMoved);
                assertTrue(oursMoved >= 0.5 * mujocoMoved, "held back: " + where);
            }
        }
        System.out.printf("%s: %d free steps (exact), %d one-contact steps (worst %.2e), %d multi-contact steps (worst %.4f),"
                        + " smallest ours/MuJoCo displacement %.3f%n", maze, countByContacts[0], countByContacts[1], worstByContacts[1],
                countByContacts[2], worstByContacts[2], worstMoveRatio);
        // The fixture must exercise all three regimes, corners included.
        assertTrue(countByContacts[0] >= 30, "free steps " + countByContacts[0]);
        assertTrue(countByContacts[1] >= 300, "one-contact steps " + countByContacts[1]);
        assertTrue(countByContacts[2] >= 40, "multi-contact steps " + countByContacts[2]);
    }

    @Test
    void theCornerCasesOfTheIssueMoveAsInMujoco() {
        // Issue 10's table, medium maze: (21.3, 10.7) touches the walls to the right (x = 22) and below (y = 10).
        // MuJoCo (tools/mujoco-pointmaze, --step) ends at the values below; the old hard contact stayed put.
        double[] xy = {21.3, 10.7};
        PointMaze.move(MazeMap.MEDIUM, xy, -0.2, 0.2);
        assertEquals(21.1, xy[0], 1e-9);
        assertEquals(10.9, xy[1], 1e-9);
        xy = new double[] {21.3, 10.7};
        PointMaze.move(MazeMap.MEDIUM, xy, -0.2, 0.0);
        assertEquals(21.1, xy[0], 1e-9);
        assertEquals(10.7, xy[1], 1e-9);
        xy = new double[] {21.3, 12.0};
        PointMaze.move(MazeMap.MEDIUM, xy, -0.2, 0.0);
        assertEquals(21.1, xy[0], 1e-9);
        assertEquals(12.0, xy[1], 1e-9);
        // Pushing on into the right wall: MuJoCo leaves 0.2 · 0.1772 of overlap, 21.335443040951876.
        xy = new double[] {21.3, 12.0};
        PointMaze.move(MazeMap.MEDIUM, xy, 0.2, 0.0);
        assertEquals(21.335443040951876, xy[0], 1e-9);
        assertEquals(12.0, xy[1], 0.0);
    }
}
