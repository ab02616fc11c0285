package org.fqlspark.env;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the built-in environments from their id strings, so that Spark closures and command lines carry a string,
 * not an object.
 *
 * <p>Ids: {@code pointmaze-<maze>} (OGBench's default task, task1) or {@code pointmaze-<maze>-task<N>}, with
 * {@code <maze>} one of {@code medium}, {@code large}, {@code giant} and N in 1..5.
 */
public final class EnvironmentRegistry {

    private static final Pattern POINT_MAZE_ID = Pattern.compile("pointmaze-([a-z]+)(?:-task(\\d{1,3}))?");
    /** OGBench's singletask ids without a task suffix use task1 for the point-maze. */
    public static final int DEFAULT_TASK = 1;

    private EnvironmentRegistry() {
    }

    /** A fresh environment for {@code id}; see {@link #ids()} for the accepted ids. */
    public static Environment create(String id) {
        return pointMaze(id);
    }

    /** Like {@link #create} but typed, for callers that need the maze (the generator and the renderer). */
    public static PointMaze pointMaze(String id) {
        if (id == null) throw new IllegalArgumentException("environment id is missing; valid ids: " + String.join(", ", ids()));
        Matcher matcher = POINT_MAZE_ID.matcher(id.trim());
        if (matcher.matches() && MazeMap.names().contains(matcher.group(1))) {
            MazeMap map = MazeMap.named(matcher.group(1));
            int task = DEFAULT_TASK;
            if (matcher.group(2) != null) {
                task = Integer.parseInt(matcher.group(2));
                if (task < 1 || task > map.tasks().size()) {
                    throw unknown(id, "maze '" + map.name() + "' has tasks 1.." + map.tasks().size());
                }
            }
            return new PointMaze(map, task);
        }
        throw unknown(id, null);
    }

    /** Every accepted id: for each maze the bare id (default task) and then the five task ids. */
    public static List<String> ids() {
        List<String> ids = new ArrayList<>();
        for (String maze : MazeMap.names()) {
            ids.add("pointmaze-" + maze);
            for (MazeTask task : MazeMap.named(maze).tasks()) ids.add("pointmaze-" + maze + "-" + task.name());
        }
        return List.copyOf(ids);
    }

    private static IllegalArgumentException unknown(String id, String reason) {
        return new IllegalArgumentException("unknown environment id '" + id + "'" + (reason == null ? "" : " (" + reason + ")")
                + "; valid ids: " + String.join(", ", ids()));
    }
}
