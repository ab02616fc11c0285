package org.fqlspark.env;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.fqlspark.data.TransitionData;

/**
 * Top-down PNG of a point-maze with trajectories drawn over it, for evaluation reports and dataset previews.
 *
 * <p>Layout: maze row 0 at the top, column 0 at the left, {@link #CELL_PIXELS} pixels per cell (so the picture reads
 * like the printed map; MuJoCo's y axis points down the image). Walls dark, floor light; the start region (start
 * cell centre ± the reset noise) is a blue square; the goal is a gold disc of the success radius. Each trajectory is
 * a polyline, green if it succeeded and red if not, with a dot where it ended. No text is drawn, so rendering needs
 * no fonts on a headless executor.
 */
public final class MazeRenderer {

    /** Pixels per maze cell; the image is {@code cols × CELL_PIXELS} by {@code rows × CELL_PIXELS}. */
    public static final int CELL_PIXELS = 48;

    private static final Color FLOOR = new Color(0xF3, 0xF1, 0xEA);
    private static final Color GRID = new Color(0xE2, 0xDE, 0xD2);
    private static final Color WALL = new Color(0x3A, 0x40, 0x4F);
    private static final Color START = new Color(0x2F, 0x6F, 0xD6);
    private static final Color GOAL = new Color(0xF2, 0xB7, 0x05);
    private static final Color SUCCESS = new Color(0x1E, 0x9E, 0x4A);
    private static final Color FAILURE = new Color(0xD6, 0x3A, 0x2F);

    static {
        // Executors and CI machines have no display; AWT must not try to open one.
        System.setProperty("java.awt.headless", "true");
    }

    private MazeRenderer() {
    }

    /**
     * Writes the PNG, counting a trajectory as successful if any of its points is within the goal radius (for
     * evaluation episodes, which stop at the goal, that is the final point).
     *
     * @param trajectories each a sequence of (x, y) points, {@code float[steps][2]}
     */
    public static void render(PointMaze maze, List<float[][]> trajectories, Path png) {
        boolean[] successes = new boolean[trajectories.size()];
        for (int i = 0; i < successes.length; i++) successes[i] = reachesGoal(maze, trajectories.get(i));
        render(maze, trajectories, successes, png);
    }

    /** Writes the PNG with the success of each trajectory given by the caller (e.g. the evaluator's flags). */
    public static void render(PointMaze maze, List<float[][]> trajectories, boolean[] successes, Path png) {
        writePng(renderImage(maze, trajectories, successes), png);
    }

    /** Writes an image as PNG to a local path, creating parent directories; readers never see a partial file. */
    public static void writePng(BufferedImage image, Path png) {
        Objects.requireNonNull(png, "png");
        try {
            Path parent = png.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            // Write beside the target and rename, so a reader never sees half a PNG.
            Path partial = Files.createTempFile(parent, "." + png.getFileName(), ".partial");
            try {
                Files.write(partial, org.fqlspark.io.PngFiles.encode(image));
                Files.move(partial, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the maze PNG to " + png + ": " + e.getMessage(), e);
        }
    }

    /** The picture in memory, for callers that store it elsewhere (e.g. through a Hadoop file system). */
    public static BufferedImage renderImage(PointMaze maze, List<float[][]> trajectories, boolean[] successes) {
        Objects.requireNonNull(maze, "maze");
        Objects.requireNonNull(trajectories, "trajectories");
        if (successes.length != trajectories.size()) {
            throw new IllegalArgumentException(trajectories.size() + " trajectories but " + successes.length + " success flags");
        }
        MazeMap map = maze.map();
        BufferedImage image = new BufferedImage(width(map), height(map), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            drawMaze(g, map);
            drawStartAndGoal(g, maze);
            for (int i = 0; i < trajectories.size(); i++) drawTrajectory(g, trajectories.get(i), successes[i], trajectories.size());
        } finally {
            g.dispose();
        }
        return image;
    }

    public static int width(MazeMap map) {
        return map.cols() * CELL_PIXELS;
    }

    public static int height(MazeMap map) {
        return map.rows() * CELL_PIXELS;
    }

    /**
     * The (x, y) paths of the first {@code maxEpisodes} episodes of a dataset: each episode's observations followed
     * by its last next-observation. Episodes are runs of rows with the same episode id.
     */
    public static List<float[][]> episodes(TransitionData data, int maxEpisodes) {
        if (data.obsDim() < 2) throw new IllegalArgumentException("need (x, y) observations, the dataset has " + data.obsDim() + " dims");
        List<float[][]> paths = new ArrayList<>();
        int n = data.size();
        int dim = data.obsDim();
        int first = 0;
        while (first < n && paths.size() < maxEpisodes) {
            int last = first;
            while (last + 1 < n && data.episodeIds()[last + 1] == data.episodeIds()[first]) last++;
            float[][] path = new float[last - first + 2][];
            for (int row = first; row <= last; row++) {
                path[row - first] = new float[] {data.observations()[row * dim], data.observations()[row * dim + 1]};
            }
            path[path.length - 1] = new float[] {data.nextObservations()[last * dim], data.nextObservations()[last * dim + 1]};
            paths.add(path);
            first = last + 1;
        }
        return paths;
    }

    static boolean reachesGoal(PointMaze maze, float[][] trajectory) {
        for (float[] point : trajectory) {
            if (maze.isAtGoal(point[0], point[1])) return true;
        }
        return false;
    }

    private static double pixelX(double x) {
        return (x + MazeMap.OFFSET + MazeMap.MAZE_UNIT / 2) * CELL_PIXELS / MazeMap.MAZE_UNIT;
    }

    private static double pixelY(double y) {
        return (y + MazeMap.OFFSET + MazeMap.MAZE_UNIT / 2) * CELL_PIXELS / MazeMap.MAZE_UNIT;
    }

    private static double pixels(double length) {
        return length * CELL_PIXELS / MazeMap.MAZE_UNIT;
    }

    private static void drawMaze(Graphics2D g, MazeMap map) {
        g.setColor(FLOOR);
        g.fillRect(0, 0, width(map), height(map));
        g.setColor(GRID);
        g.setStroke(new BasicStroke(1f));
        for (int c = 1; c < map.cols(); c++) g.drawLine(c * CELL_PIXELS, 0, c * CELL_PIXELS, height(map));
        for (int r = 1; r < map.rows(); r++) g.drawLine(0, r * CELL_PIXELS, width(map), r * CELL_PIXELS);
        g.setColor(WALL);
        for (int r = 0; r < map.rows(); r++) {
            for (int c = 0; c < map.cols(); c++) {
                if (map.isWall(r, c)) g.fillRect(c * CELL_PIXELS, r * CELL_PIXELS, CELL_PIXELS, CELL_PIXELS);
            }
        }
    }

    private static void drawStartAndGoal(Graphics2D g, PointMaze maze) {
        Cell start = maze.task().start();
        double noise = pixels(PointMaze.POSITION_NOISE);
        Rectangle2D startRegion = new Rectangle2D.Double(pixelX(MazeMap.centerX(start.col())) - noise,
                pixelY(MazeMap.centerY(start.row())) - noise, 2 * noise, 2 * noise);
        g.setColor(withAlpha(START, 70));
        g.fill(startRegion);
        g.setColor(START);
        g.setStroke(new BasicStroke(2f));
        g.draw(startRegion);

        double radius = pixels(PointMaze.GOAL_TOLERANCE);
        Ellipse2D goal = new Ellipse2D.Double(pixelX(maze.goalX()) - radius, pixelY(maze.goalY()) - radius, 2 * radius, 2 * radius);
        g.setColor(withAlpha(GOAL, 150));
        g.fill(goal);
        g.setColor(GOAL.darker());
        g.draw(goal);
    }

    private static void drawTrajectory(Graphics2D g, float[][] trajectory, boolean success, int count) {
        if (trajectory.length == 0) return;
        // Many overlapping paths turn into a solid smear unless each one is faint.
        int alpha = count <= 10 ? 220 : count <= 50 ? 140 : 80;
        Color colour = withAlpha(success ? SUCCESS : FAILURE, alpha);
        Path2D.Double path = new Path2D.Double();
        path.moveTo(pixelX(trajectory[0][0]), pixelY(trajectory[0][1]));
        for (int t = 1; t < trajectory.length; t++) path.lineTo(pixelX(trajectory[t][0]), pixelY(trajectory[t][1]));
        g.setColor(colour);
        g.setStroke(new BasicStroke(1.6f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        g.draw(path);
        float[] end = trajectory[trajectory.length - 1];
        double dot = 3.5;
        g.fill(new Ellipse2D.Double(pixelX(end[0]) - dot, pixelY(end[1]) - dot, 2 * dot, 2 * dot));
    }

    private static Color withAlpha(Color colour, int alpha) {
        return new Color(colour.getRed(), colour.getGreen(), colour.getBlue(), alpha);
    }
}
