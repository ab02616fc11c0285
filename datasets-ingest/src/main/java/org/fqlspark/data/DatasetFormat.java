package org.fqlspark.data;

import java.util.Locale;

/** Source file formats the ingest reads. */
public enum DatasetFormat {
    /** OGBench {@code .npz}, raw (trajectories) or exported (transitions) form (docs/algorithm.md §6.1). */
    NPZ("npz"),
    /** D4RL {@code .hdf5} with {@code d4rl.qlearning_dataset} semantics (docs/algorithm.md §6.2). */
    D4RL("d4rl"),
    /** Minari HDF5: {@code episode_*} groups (a {@code main_data.hdf5} or its dataset directory). */
    MINARI("minari");

    private final String cliName;

    DatasetFormat(String cliName) {
        this.cliName = cliName;
    }

    /** The lower-case name used on the command line and in manifests. */
    public String cliName() {
        return cliName;
    }

    /** Parses a command-line name, case-insensitively. */
    public static DatasetFormat parse(String name) {
        for (DatasetFormat f : values()) {
            if (f.cliName.equalsIgnoreCase(name.trim())) return f;
        }
        throw new IllegalArgumentException("unknown format '" + name + "'; expected one of npz, d4rl, minari");
    }

    @Override
    public String toString() {
        return cliName.toLowerCase(Locale.ROOT);
    }
}
