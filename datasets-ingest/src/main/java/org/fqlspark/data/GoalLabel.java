package org.fqlspark.data;

/**
 * Single-task labelling of OGBench's raw locomotion form (docs/algorithm.md §6.1 step 3): success when the agent's xy
 * ({@code qpos[:, 0:2]}, or the first two observation features when the file has no {@code qpos}) lies
 * within {@code radius} of the goal; reward = success − 1, mask = 1 − success, from the current state.
 */
public record GoalLabel(double x, double y, double radius) {

    /** OGBench's locomotion success radius. */
    public static final double OGBENCH_RADIUS = 0.5;

    public GoalLabel {
        if (!Double.isFinite(x) || !Double.isFinite(y)) {
            throw new IllegalArgumentException("goal xy must be finite, was (" + x + ", " + y + ")");
        }
        if (!(radius > 0) || !Double.isFinite(radius)) {
            throw new IllegalArgumentException("goal radius must be positive and finite, was " + radius);
        }
    }

    boolean success(double px, double py) {
        return Math.hypot(px - x, py - y) <= radius;
    }
}
