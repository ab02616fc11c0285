package org.fqlspark.env;

import java.util.Objects;

/**
 * One evaluation task of a maze: the episode starts near the centre of {@code start} and succeeds near the centre
 * of {@code goal}. {@code number} is OGBench's 1-based task id ({@code task1} … {@code task5}).
 */
public record MazeTask(int number, Cell start, Cell goal) {

    public MazeTask {
        if (number < 1) throw new IllegalArgumentException("task numbers start at 1, was " + number);
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(goal, "goal");
    }

    /** OGBench's name for the task, as in {@code pointmaze-medium-singletask-task1-v0}. */
    public String name() {
        return "task" + number;
    }
}
