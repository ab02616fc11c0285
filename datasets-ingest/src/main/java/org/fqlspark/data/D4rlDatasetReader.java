package org.fqlspark.data;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * D4RL {@code .hdf5} with {@code d4rl.qlearning_dataset} semantics and FQL's post-processing (docs/algorithm.md §6.2):
 * transitions i = 0..N−2 with next observation = row i+1, dropping those with {@code timeouts[i]} set;
 * mask = 1 − terminals; boundary flag where ‖obs[i+1] − next_obs[i]‖ > 1e-6 between consecutive kept
 * transitions (adroit: also where the D4RL terminal is set), and on the last; antmaze rewards shifted by −1.
 * Action clipping happens in {@link TransitionCleaner}, as for every format.
 */
final class D4rlDatasetReader {

    private D4rlDatasetReader() {}

    static SourceData read(Path path, ReadOptions options, SourceInfo source) {
        String file = source.path();
        try (HdfArchive h5 = HdfArchive.open(path)) {
            var root = h5.root();
            SourceArray obsArr = h5.get(root, "observations").requireRank(2, "(rows, obs_dim)");
            int rows = obsArr.rows();
            String against = "'observations'";
            SourceArray actArr = h5.get(root, "actions").requireRank(2, "(rows, action_dim)").requireRows(rows, against);
            SourceArray rewArr = h5.get(root, "rewards").requireRank(1, "(rows,)").requireRows(rows, against);
            SourceArray termArr = h5.get(root, "terminals").requireRank(1, "(rows,)").requireRows(rows, against);
            SourceArray toArr = h5.get(root, "timeouts").requireRank(1, "(rows,)").requireRows(rows, against);

            D4rlFamily family = options.d4rlFamily().resolve(path.getFileName().toString());
            float shift = options.rewardShift() != null ? options.rewardShift()
                    : family == D4rlFamily.ANTMAZE ? -1f : 0f;

            int od = obsArr.width();
            int ad = actArr.width();
            float[] obs = obsArr.floats();
            float[] act = actArr.floats();
            float[] rew = rewArr.floats();
            boolean[] term = termArr.flags();
            boolean[] timeouts = toArr.flags();

            int n = 0;
            for (int i = 0; i + 1 < rows; i++) if (!timeouts[i]) n++;
            float[] o = new float[n * od];
            float[] a = new float[n * ad];
            float[] r = new float[n];
            float[] m = new float[n];
            float[] next = new float[n * od];
            int[] srcRow = new int[n];
            int k = 0;
            for (int i = 0; i + 1 < rows; i++) {
                if (timeouts[i]) continue;
                System.arraycopy(obs, i * od, o, k * od, od);
                System.arraycopy(act, i * ad, a, k * ad, ad);
                System.arraycopy(obs, (i + 1) * od, next, k * od, od);
                r[k] = rew[i] + shift;
                m[k] = term[i] ? 0f : 1f;
                srcRow[k] = i;
                k++;
            }
            float[] t = Episodes.continuityBoundaries(o, next, n, od);
            if (family == D4rlFamily.ADROIT) {
                for (int j = 0; j < n; j++) if (term[srcRow[j]]) t[j] = 1f;
            }
            Episodes episodes = Episodes.fromBoundaries(t);

            Map<String, String> details = new LinkedHashMap<>();
            details.put("source_rows", String.valueOf(rows));
            details.put("dropped_timeouts", String.valueOf(Math.max(0, rows - 1) - n));
            details.put("d4rl_family", family.toString());
            details.put("reward_shift", String.valueOf(shift));
            details.put("boundaries", "||obs[i+1] - next_obs[i]|| > 1e-6"
                    + (family == D4rlFamily.ADROIT ? " or terminals[i] == 1" : "") + "; last = 1");
            TransitionData data = new TransitionData(od, ad, o, a, r, m, t, next, episodes.ids, episodes.steps);
            SourceLocator locator = (column, tr) -> switch (column) {
                case DatasetSchema.NEXT_OBSERVATIONS -> new SourceLocator.Location("observations", srcRow[tr] + 1L);
                case DatasetSchema.MASKS -> new SourceLocator.Location("terminals", srcRow[tr]);
                case DatasetSchema.ACTIONS, DatasetSchema.REWARDS -> new SourceLocator.Location(column, srcRow[tr]);
                default -> new SourceLocator.Location("observations", srcRow[tr]);
            };
            return new SourceData(data, source.withDetails(details), locator);
        }
    }
}
