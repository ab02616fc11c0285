package org.fqlspark.env;

import java.util.Objects;

/**
 * OGBench's scripted point-maze expert ({@code data_gen_scripts/generate_locomaze.py} with
 * {@code get_oracle_subgoal}): find the cell the point is in, pick the neighbour one BFS step closer to the goal
 * cell, and push at full strength towards that neighbour's centre. Inside the goal cell it heads for the goal
 * cell's centre. The action before noise is the unit direction, {@code d / (‖d‖ + 1e-6)}.
 */
public final class MazeExpert {

    private final MazeMap map;

    public MazeExpert(MazeMap map) {
        this.map = Objects.requireNonNull(map, "map");
    }

    /** The noiseless action at (x, y) for a goal in {@code goalCell}. */
    public float[] act(double x, double y, Cell goalCell) {
        double[] direction = new double[2];
        direction(x, y, map.index(map.cellAt(x, y)), checkedGoal(goalCell), direction);
        return new float[] {(float) direction[0], (float) direction[1]};
    }

    /** Allocation-free core of {@link #act}: writes the unit direction into {@code out}. Indices are flat cell indices. */
    void direction(double x, double y, int fromIndex, int goalIndex, double[] out) {
        int hop = map.nextHopIndex(goalIndex, fromIndex);
        double dx = MazeMap.centerX(hop % map.cols()) - x;
        double dy = MazeMap.centerY(hop / map.cols()) - y;
        double norm = Math.sqrt(dx * dx + dy * dy) + 1e-6;
        out[0] = dx / norm;
        out[1] = dy / norm;
    }

    private int checkedGoal(Cell goalCell) {
        if (!map.isFree(goalCell)) throw new IllegalArgumentException("goal cell " + goalCell + " is not a free cell of maze '" + map.name() + "'");
        return map.index(goalCell);
    }
}
