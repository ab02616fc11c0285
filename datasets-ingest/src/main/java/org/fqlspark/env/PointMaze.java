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
 * <p>Contact follows MuJoCo's result for OGBench's model ({@link #move}): the step moves the disc the whole way, then
 * every wall box it overlaps pushes it back out along the contact normal, leaving the small overlap MuJoCo's soft
 * contact leaves. So the disc slides along walls, rounds their corners and leaves concave corners the way the
 * MuJoCo point does; {@code PointMazeMujocoDifferentialTest} holds it to one-step results recorded from MuJoCo on
 * all three mazes. Reward, termination and success are computed
 * from the position after the step, as the ogbench 1.1.0 environment does (docs/algorithm.md §5 caveat; the dataset
 * labels use the position before the step).
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
    /**
     * Fraction of a wall overlap that MuJoCo's soft contact leaves after one step of this model (5 RK4 sub-steps of
     * 0.02 s with the default solref/solimp, starting at rest). MuJoCo's response to a single contact is linear in
     * the overlap and along the normal; this factor was read off its results, where it is constant to 1e-11
     * (fixtures under {@code src/test/resources/mujoco}, tool in {@code tools/mujoco-pointmaze}).
     */
    public static final double CONTACT_RESIDUAL = 0.17721520476;
    /** Largest displacement per axis {@link #move} takes: enough for any step, small enough to stay out of walls. */
    public static final double MAX_MOVE = 0.5;
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
     * One step of MuJoCo's contact response, in place: OGBench sets {@code qpos += (dx, dy)} with the velocity
     * zeroed and lets MuJoCo run 5 sub-steps, in which the soft contact pushes an overlapping disc back out along the
     * contact normal. This does the same move and then, for each wall box the disc overlaps (deepest first, each
     * box once, the overlap re-measured after every push), moves the centre out along that box's contact normal by
     * {@code (1 − CONTACT_RESIDUAL)} of the overlap.
     *
     * <p>Against MuJoCo's own results (the recorded fixtures of {@code PointMazeMujocoDifferentialTest}): exact in
     * free space; within 1e-4 when the disc ends up overlapping one wall box (MuJoCo is linear there with the
     * factor below, except for overlaps under its 0.001 impedance width); within 0.07 when it overlaps two
     * (concave corners, and seams between boxes), where MuJoCo's wall friction couples the two pushes and this
     * does not model it. Like MuJoCo, a disc pressed against a wall keeps a few hundredths of overlap
     * (at most {@code 0.2 · r / (1 − r)} ≈ 0.043 for a steady push of one step into a single wall).
     *
     * @param dx displacement along x, at most {@link #MAX_MOVE} in size (a step of this environment is at most 0.2)
     * @param dy displacement along y, likewise
     */
    public static void move(MazeMap map, double[] xy, double dx, double dy) {
        if (!(Math.abs(dx) <= MAX_MOVE) || !(Math.abs(dy) <= MAX_MOVE)) {
            throw new IllegalArgumentException("a single move is at most " + MAX_MOVE + " per axis, got (" + dx + ", " + dy + ")");
        }
        xy[0] += dx;
        xy[1] += dy;
        pushOutOfWalls(map, xy);
    }

    /**
     * The contact half of {@link #move}. Only the 3×3 block of cells around the centre's cell can touch the disc
     * (radius 0.7 is less than half a cell), so at most 8 boxes take part, each at most once.
     */
    static void pushOutOfWalls(MazeMap map, double[] xy) {
        int row = MazeMap.rowOf(xy[1]);
        int col = MazeMap.colOf(xy[0]);
        if (map.isWall(row, col)) {
            throw new IllegalStateException("the disc centre (" + xy[0] + ", " + xy[1] + ") is inside wall cell (" + row + ", " + col
                    + ") of maze '" + map.name() + "'");
        }
        double halfCell = MazeMap.MAZE_UNIT / 2;
        // Fast path, most steps: a disc at least a radius inside its own (free) cell's edges touches no wall.
        double reach = halfCell - POINT_RADIUS;
        if (Math.abs(xy[0] - MazeMap.centerX(col)) <= reach && Math.abs(xy[1] - MazeMap.centerY(row)) <= reach) return;
        int done = 0; // bit k: box k of the 3×3 block has pushed
        while (true) {
            int deepest = -1;
            double deepestDistance = POINT_RADIUS;
            for (int k = 0; k < 9; k++) {
                int r = row - 1 + k / 3;
                int c = col - 1 + k % 3;
                if ((done & (1 << k)) != 0 || !map.isWall(r, c)) continue;
                double distance = distanceToBox(xy[0], xy[1], MazeMap.centerX(c), MazeMap.centerY(r), halfCell);
                if (distance < deepestDistance) {
                    deepestDistance = distance;
                    deepest = k;
                }
            }
            if (deepest < 0) return;
            if (deepestDistance == 0.0) {
                throw new IllegalStateException("the disc centre (" + xy[0] + ", " + xy[1] + ") lies on a wall of maze '" + map.name()
                        + "': moves must start (nearly) clear of the walls");
            }
            done |= 1 << deepest;
            int r = row - 1 + deepest / 3;
            int c = col - 1 + deepest % 3;
            double boxX = MazeMap.centerX(c);
            double boxY = MazeMap.centerY(r);
            // Contact normal: from the nearest point of the box to the centre (the centre is outside the box).
            double normalX = xy[0] - clamp(xy[0], boxX - halfCell, boxX + halfCell);
            double normalY = xy[1] - clamp(xy[1], boxY - halfCell, boxY + halfCell);
            double push = (1.0 - CONTACT_RESIDUAL) * (POINT_RADIUS - deepestDistance) / deepestDistance;
            xy[0] += push * normalX;
            xy[1] += push * normalY;
        }
    }

    /** Distance from (x, y) to the box centred at (boxX, boxY) with half-side h; 0 on or inside it. */
    private static double distanceToBox(double x, double y, double boxX, double boxY, double h) {
        double gapX = Math.max(0.0, Math.abs(x - boxX) - h);
        double gapY = Math.max(0.0, Math.abs(y - boxY) - h);
        return Math.hypot(gapX, gapY);
    }

    private static double clamp(double value, double low, double high) {
        return Math.max(low, Math.min(high, value));
    }

    /**
     * Whether the disc centred at (x, y) stays clear of every wall, allowing {@code tolerance} of overlap (a disc
     * pressed against a wall keeps a few hundredths of overlap after {@link #move}, as it does in MuJoCo).
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
