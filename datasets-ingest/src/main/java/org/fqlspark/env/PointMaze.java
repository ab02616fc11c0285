package org.fqlspark.env;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * OGBench's {@code pointmaze-*-singletask-taskN-v0} re-implemented in plain Java: a disc that moves by
 * {@code 0.2 · clip(action, −1, 1)} per step on the plane of a {@link MazeMap}, stopped by the walls.
 *
 * <p>Numbers taken from OGBench v1.1.0: step {@code qpos += 0.2 · action} with velocity zeroed
 * ({@code locomaze/point.py}); body a sphere of radius 0.7 ({@code assets/point.xml}); success when the centre is
 * within 1.0 of the goal ({@code _goal_tol = 1.0} for the point, 0.5 is for ant and humanoid); start at the task's
 * start-cell centre plus uniform noise in ±1 per axis ({@code add_noise}: ±1 · maze_unit / 4); single-task goal at
 * the exact goal-cell centre ({@code add_noise_to_goal=False} for the singletask ids); episodes end at the goal
 * ({@code terminate_at_goal=True}) or after 1000 steps ({@code max_episode_steps=1000} for all three mazes).
 * Observation = (x, y).
 *
 * <p>Contact is hard, not MuJoCo's soft contact: each step moves along x, then along y, and each axis stops where
 * the disc first touches a wall box (rounded corners included, so the disc slides around them). MuJoCo instead
 * lets the disc penetrate a wall a little and pushes it back over the 5 sub-steps of a step; the free-space step
 * is identical, and trajectories differ only while touching walls. Reward, termination and success are computed
 * from the position after the step, as the ogbench 1.1.0 environment does (spec §5 caveat; the dataset labels use
 * the position before the step).
 */
public final class PointMaze implements Environment {

    /** Position change per unit action (OGBench {@code action = 0.2 * action}). */
    public static final double STEP_SCALE = 0.2;
    /** Radius of the point's collision sphere in OGBench's {@code point.xml}. */
    public static final double POINT_RADIUS = 0.7;
    /** Success distance for the point-maze ({@code _goal_tol} when {@code loco_env_type == 'point'}). */
    public static final double GOAL_TOLERANCE = 1.0;
    /** Half-width of the uniform start (and data-goal) noise per axis: {@code noise · maze_unit / 4} with noise 1. */
    public static final double POSITION_NOISE = 1.0;
    /** Evaluation time limit of every OGBench point-maze. */
    public static final int MAX_EPISODE_STEPS = 1000;

    private final MazeMap map;
    private final MazeTask task;
    private final int maxEpisodeSteps;
    private final double goalX;
    private final double goalY;
    private final double[] position = new double[2];
    private int stepsTaken;
    private boolean running;

    public PointMaze(MazeMap map, MazeTask task, int maxEpisodeSteps) {
        this.map = Objects.requireNonNull(map, "map");
        this.task = Objects.requireNonNull(task, "task");
        if (maxEpisodeSteps <= 0) throw new IllegalArgumentException("maxEpisodeSteps must be positive, was " + maxEpisodeSteps);
        if (!map.isFree(task.start()) || !map.isFree(task.goal())) {
            throw new IllegalArgumentException("task " + task + " does not lie on free cells of maze '" + map.name() + "'");
        }
        this.maxEpisodeSteps = maxEpisodeSteps;
        this.goalX = MazeMap.centerX(task.goal().col());
        this.goalY = MazeMap.centerY(task.goal().row());
    }

    /** OGBench's task {@code taskNumber} on {@code map} with the standard 1000-step limit. */
    public PointMaze(MazeMap map, int taskNumber) {
        this(map, map.task(taskNumber), MAX_EPISODE_STEPS);
    }

    @Override
    public String id() {
        return "pointmaze-" + map.name() + "-" + task.name();
    }

    @Override
    public int observationDim() {
        return 2;
    }

    @Override
    public int actionDim() {
        return 2;
    }

    @Override
    public int maxEpisodeSteps() {
        return maxEpisodeSteps;
    }

    public MazeMap map() {
        return map;
    }

    public MazeTask task() {
        return task;
    }

    public double goalX() {
        return goalX;
    }

    public double goalY() {
        return goalY;
    }

    /** Current (x, y), a copy. */
    public double[] position() {
        return position.clone();
    }

    public int stepsTaken() {
        return stepsTaken;
    }

    @Override
    public float[] reset(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        // Same draw order as OGBench's add_noise: x first, then y.
        position[0] = MazeMap.centerX(task.start().col()) + random.nextDouble(-POSITION_NOISE, POSITION_NOISE);
        position[1] = MazeMap.centerY(task.start().row()) + random.nextDouble(-POSITION_NOISE, POSITION_NOISE);
        stepsTaken = 0;
        running = true;
        return observation();
    }

    @Override
    public StepResult step(float[] action) {
        if (!running) {
            throw new IllegalStateException(stepsTaken == 0
                    ? "step() before reset(): call reset(seed) to start an episode of " + id()
                    : "step() after the episode ended (terminated or truncated after " + stepsTaken + " steps): call reset(seed)");
        }
        Objects.requireNonNull(action, "action");
        if (action.length != 2) {
            throw new IllegalArgumentException("the point-maze takes 2-D actions (dx, dy), got " + action.length + " values");
        }
        if (!Float.isFinite(action[0]) || !Float.isFinite(action[1])) {
            throw new IllegalArgumentException("action must be finite, got (" + action[0] + ", " + action[1] + ")");
        }
        move(map, position, STEP_SCALE * clip(action[0]), STEP_SCALE * clip(action[1]));
        stepsTaken++;
        boolean success = isAtGoal(position[0], position[1]);
        boolean truncated = stepsTaken >= maxEpisodeSteps;
        running = !(success || truncated);
        return new StepResult(observation(), success ? 0f : -1f, success, truncated, success);
    }

    /** Whether (x, y) is within {@link #GOAL_TOLERANCE} of this task's goal. */
    public boolean isAtGoal(double x, double y) {
        return Math.hypot(x - goalX, y - goalY) <= GOAL_TOLERANCE;
    }

    private float[] observation() {
        return new float[] {(float) position[0], (float) position[1]};
    }

    static double clip(double value) {
        return Math.max(-1.0, Math.min(1.0, value));
    }

    /**
     * Moves the disc at {@code xy} by (dx, dy) in place: first along x, then along y, each axis stopping at first
     * contact with a wall. The start must be clear of walls ({@link #isClear}); the result then is too.
     * Displacements must be shorter than a cell minus the radius (any step of this environment is).
     */
    public static void move(MazeMap map, double[] xy, double dx, double dy) {
        if (Math.abs(dx) > 1.0 || Math.abs(dy) > 1.0) {
            throw new IllegalArgumentException("a single move is at most 1 unit per axis, got (" + dx + ", " + dy + ")");
        }
        xy[0] = moveAlongAxis(map, xy[0], xy[1], dx, true);
        xy[1] = moveAlongAxis(map, xy[1], xy[0], dy, false);
    }

    /**
     * New coordinate along the moving axis. A wall box ahead forbids the open interval
     * (near face − h, far face + h) where h = sqrt(r² − d²) and d is the disc centre's distance to the box along the
     * other axis (0 when level with the box, which makes h = r; rounded corners otherwise).
     */
    private static double moveAlongAxis(MazeMap map, double along, double across, double delta, boolean alongX) {
        if (delta == 0.0) return along;
        double target = along + delta;
        int row = MazeMap.rowOf(alongX ? across : along);
        int col = MazeMap.colOf(alongX ? along : across);
        double halfCell = MazeMap.MAZE_UNIT / 2;
        double radiusSquared = POINT_RADIUS * POINT_RADIUS;
        // Radius + step < half a cell, so only the 3×3 block around the current cell can be touched.
        for (int r = row - 1; r <= row + 1; r++) {
            for (int c = col - 1; c <= col + 1; c++) {
                if (!map.isWall(r, c)) continue;
                double boxAlong = alongX ? MazeMap.centerX(c) : MazeMap.centerY(r);
                double boxAcross = alongX ? MazeMap.centerY(r) : MazeMap.centerX(c);
                double gapAcross = Math.max(0.0, Math.abs(across - boxAcross) - halfCell);
                if (gapAcross >= POINT_RADIUS) continue;
                double reach = Math.sqrt(radiusSquared - gapAcross * gapAcross);
                if (delta > 0 && boxAlong > along) {
                    double limit = boxAlong - halfCell - reach;
                    // max(along, …): a disc already touching (limit a rounding error behind it) must not be pulled back.
                    target = Math.min(target, Math.max(along, limit));
                } else if (delta < 0 && boxAlong < along) {
                    double limit = boxAlong + halfCell + reach;
                    target = Math.max(target, Math.min(along, limit));
                }
            }
        }
        return target;
    }

    /**
     * Whether the disc centred at (x, y) stays clear of every wall, allowing {@code tolerance} of overlap (for
     * rounding at contact).
     */
    public static boolean isClear(MazeMap map, double x, double y, double tolerance) {
        int row = MazeMap.rowOf(y);
        int col = MazeMap.colOf(x);
        if (map.isWall(row, col)) return false;
        double halfCell = MazeMap.MAZE_UNIT / 2;
        for (int r = row - 1; r <= row + 1; r++) {
            for (int c = col - 1; c <= col + 1; c++) {
                if (!map.isWall(r, c)) continue;
                double gapX = Math.max(0.0, Math.abs(x - MazeMap.centerX(c)) - halfCell);
                double gapY = Math.max(0.0, Math.abs(y - MazeMap.centerY(r)) - halfCell);
                if (Math.hypot(gapX, gapY) < POINT_RADIUS - tolerance) return false;
            }
        }
        return true;
    }
}
