package org.fqlspark.env;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.fqlspark.data.TransitionData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MazeRendererTest {

    @TempDir
    Path dir;

    private static List<float[][]> expertRollouts(PointMaze env, int count, int maxSteps) {
        MazeExpert expert = new MazeExpert(env.map());
        List<float[][]> paths = new ArrayList<>();
        for (int seed = 0; seed < count; seed++) {
            List<float[]> points = new ArrayList<>();
            points.add(env.reset(seed));
            for (int t = 0; t < maxSteps; t++) {
                double[] xy = env.position();
                StepResult result = env.step(expert.act(xy[0], xy[1], env.task().goal()));
                points.add(result.observation());
                if (result.done()) break;
            }
            paths.add(points.toArray(new float[0][]));
        }
        return paths;
    }

    @Test
    void writesAPngOfTheMazeSize() throws IOException {
        PointMaze env = new PointMaze(MazeMap.MEDIUM, 1);
        List<float[][]> paths = new ArrayList<>(expertRollouts(env, 3, 1000));
        paths.addAll(expertRollouts(env, 2, 40)); // cut short: failures
        Path png = dir.resolve("nested/medium.png");
        MazeRenderer.render(env, paths, png);

        byte[] bytes = Files.readAllBytes(png);
        assertEquals((byte) 0x89, bytes[0]);
        assertEquals('P', bytes[1]);
        assertEquals('N', bytes[2]);
        assertEquals('G', bytes[3]);
        BufferedImage image;
        try (InputStream in = Files.newInputStream(png)) {
            image = ImageIO.read(in);
        }
        assertEquals(8 * MazeRenderer.CELL_PIXELS, image.getWidth());
        assertEquals(8 * MazeRenderer.CELL_PIXELS, image.getHeight());
        int wall = image.getRGB(MazeRenderer.CELL_PIXELS / 2, MazeRenderer.CELL_PIXELS / 2) & 0xFFFFFF;
        int floor = image.getRGB(5 * MazeRenderer.CELL_PIXELS + 5, 1 * MazeRenderer.CELL_PIXELS + 5) & 0xFFFFFF;
        assertEquals(0x3A404F, wall);
        assertNotEquals(wall, floor);
        // The goal disc (radius 1 unit = 12 px) sits on cell (6, 6); expert paths enter it from above, so a pixel in
        // its lower half shows the disc itself: gold (red and green high, blue low).
        int goal = image.getRGB(6 * MazeRenderer.CELL_PIXELS + MazeRenderer.CELL_PIXELS / 2,
                6 * MazeRenderer.CELL_PIXELS + MazeRenderer.CELL_PIXELS / 2 + 8);
        assertTrue(((goal >> 16) & 0xFF) > 180 && ((goal >> 8) & 0xFF) > 130 && (goal & 0xFF) < 120, Integer.toHexString(goal));
        try (var leftovers = Files.list(png.getParent())) {
            assertEquals(1, leftovers.count(), "temporary files left beside the PNG");
        }
    }

    @Test
    void successFollowsTheGoalRegion() {
        PointMaze env = new PointMaze(MazeMap.MEDIUM, 1);
        assertTrue(MazeRenderer.reachesGoal(env, new float[][] {{0f, 0f}, {20f, 20.9f}}));
        assertTrue(!MazeRenderer.reachesGoal(env, new float[][] {{0f, 0f}, {20f, 21.1f}}));
    }

    @Test
    void datasetEpisodesBecomePathsAndGiantRendersAtItsSize() throws IOException {
        TransitionData data = MazeDatasetGenerator.generate(
                new MazeDatasetGenerator.Config("pointmaze-giant", DatasetKind.NAVIGATE, 4, 300, 0.5, 0));
        List<float[][]> paths = MazeRenderer.episodes(data, 3);
        assertEquals(3, paths.size());
        assertEquals(301, paths.get(0).length);
        assertEquals(data.observations()[600], paths.get(1)[0][0]);
        assertEquals(data.nextObservations()[2 * 599 + 1], paths.get(1)[300][1]);
        Path png = dir.resolve("giant.png");
        MazeRenderer.render(EnvironmentRegistry.pointMaze("pointmaze-giant"), paths, png);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(16 * MazeRenderer.CELL_PIXELS, image.getWidth());
        assertEquals(12 * MazeRenderer.CELL_PIXELS, image.getHeight());
    }
}
