package org.fqlspark.env;

import java.util.Arrays;
import java.util.Locale;

/**
 * The two ways OGBench collects point-maze data ({@code data_gen_scripts/generate_locomaze.py} and the sizes in
 * {@code data_gen_scripts/commands.sh}).
 */
public enum DatasetKind {
    /** Long episodes from a random cell; a new random goal (a non-corridor cell) each time the current one is reached. */
    NAVIGATE,
    /**
     * Short episodes from a random cell to a cell exactly 4 BFS steps away, staying there once reached: no single
     * episode crosses the maze, so long-horizon tasks need the agent to stitch pieces together.
     */
    STITCH;

    /** OGBench's transitions per episode (its {@code max_episode_steps} minus the dropped final state). */
    public int defaultEpisodeLength(MazeMap map) {
        if (this == STITCH) return 200;
        return map == MazeMap.GIANT ? 2000 : 1000;
    }

    /** OGBench's training episode count, giving 1M transitions for every maze and kind. */
    public int defaultEpisodes(MazeMap map) {
        if (this == STITCH) return 5000;
        return map == MazeMap.GIANT ? 500 : 1000;
    }

    /** Lower-case name as on the command line and in OGBench dataset names. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DatasetKind parse(String text) {
        for (DatasetKind kind : values()) {
            if (kind.label().equalsIgnoreCase(text == null ? "" : text.trim())) return kind;
        }
        throw new IllegalArgumentException("unknown dataset kind '" + text + "'; expected one of "
                + Arrays.stream(values()).map(DatasetKind::label).toList());
    }
}
