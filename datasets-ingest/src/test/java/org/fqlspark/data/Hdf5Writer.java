package org.fqlspark.data;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.nio.file.Path;

/** HDF5 fixtures written with jhdf's writer (jhdf 0.10 writes contiguous datasets and groups). */
public final class Hdf5Writer {

    private Hdf5Writer() {}

    /** A row-major flat buffer as the float[rows][cols] jhdf needs to write a 2-D dataset. */
    public static float[][] rows(float[] flat, int cols) {
        float[][] out = new float[flat.length / cols][cols];
        for (int r = 0; r < out.length; r++) System.arraycopy(flat, r * cols, out[r], 0, cols);
        return out;
    }

    /** A D4RL-layout file: observations, actions, rewards, terminals, timeouts at the root. */
    public static Path d4rl(Path file, float[] obs, int od, float[] act, int ad, float[] rewards,
            boolean[] terminals, boolean[] timeouts) {
        try (WritableHdfFile h = HdfFile.write(file)) {
            h.putDataset("observations", rows(obs, od));
            h.putDataset("actions", rows(act, ad));
            h.putDataset("rewards", rewards);
            h.putDataset("terminals", terminals);
            h.putDataset("timeouts", timeouts);
        }
        return file;
    }

    /** One Minari episode group. */
    public static void minariEpisode(WritableGroup root, long id, float[] obs, int od, float[] act, int ad,
            float[] rewards, boolean[] terminations, boolean[] truncations) {
        WritableGroup g = root.putGroup("episode_" + id);
        g.putDataset("observations", rows(obs, od));
        g.putDataset("actions", rows(act, ad));
        g.putDataset("rewards", rewards);
        g.putDataset("terminations", terminations);
        g.putDataset("truncations", truncations);
    }
}
