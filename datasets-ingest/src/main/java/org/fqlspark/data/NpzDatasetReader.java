package org.fqlspark.data;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * OGBench {@code .npz} (docs/algorithm.md §6.1), in either of its two forms:
 *
 * <ul>
 *   <li><b>exported</b> (has {@code next_observations}): already transitions, as ogbench's
 *       {@code make_env_and_datasets} returns them; {@code rewards} and {@code masks} required,
 *       {@code terminals} optional (when absent, boundaries come from observation continuity as for D4RL);
 *   <li><b>raw</b> (no {@code next_observations}): trajectories s0..sT with {@code terminals} = 1 at each
 *       trajectory's last stored state. Valid rows are those with terminal 0; next observation = the next
 *       row; the boundary flag is 1 at the last valid row of each trajectory. The raw form carries no task
 *       reward: with a {@link GoalLabel} rewards/masks are labelled from xy, otherwise rewards are 0 and
 *       masks 1 (recorded in the manifest as {@code labelling}).
 * </ul>
 */
final class NpzDatasetReader {

    private NpzDatasetReader() {}

    static SourceData read(Path path, ReadOptions options, SourceInfo source) {
        try (NpzArchive npz = NpzArchive.open(path)) {
            return npz.has(DatasetSchema.NEXT_OBSERVATIONS)
                    ? exported(npz, options, source)
                    : raw(npz, options, source);
        }
    }

    private static SourceData raw(NpzArchive npz, ReadOptions options, SourceInfo source) {
        String file = source.path();
        SourceArray obsArr = npz.get("observations").requireRank(2, "(rows, obs_dim)");
        int rows = obsArr.rows();
        SourceArray actArr = npz.get("actions").requireRank(2, "(rows, action_dim)")
                .requireRows(rows, "'observations'");
        SourceArray termArr = npz.get("terminals").requireRank(1, "(rows,)").requireRows(rows, "'observations'");
        SourceArray qpos = null;
        for (String optional : new String[] {"qpos", "qvel"}) {
            if (npz.has(optional)) {
                SourceArray a = npz.get(optional).requireRank(2, "(rows, dim)").requireRows(rows, "'observations'");
                if (optional.equals("qpos")) qpos = a;
            }
        }
        int od = obsArr.width();
        int ad = actArr.width();
        float[] obs = obsArr.floats();
        float[] act = actArr.floats();
        boolean[] rawTerm = termArr.flags();
        if (rows > 0 && !rawTerm[rows - 1]) {
            throw new DatasetException(file, "terminals", "row " + (rows - 1) + " (the last) is 0; expected 1: "
                    + "the raw OGBench form ends every trajectory with a terminal state that has no action");
        }
        int n = 0;
        for (boolean t : rawTerm) if (!t) n++;

        float[] xy = null;
        int xyStride = 0;
        GoalLabel goal = options.goal();
        if (goal != null) {
            SourceArray src = qpos != null ? qpos : obsArr;
            if (src.width() < 2) {
                throw new DatasetException(file, src.key(), "has " + src.width() + " columns; goal labelling "
                        + "needs the agent's xy in columns 0 and 1");
            }
            xy = src == obsArr ? obs : src.floats();
            xyStride = src.width();
        }
        float shift = options.rewardShift() == null ? 0f : options.rewardShift();

        TransitionData data = TransitionData.zeros(n, od, ad);
        int[] srcRow = new int[n];
        long trajectory = 0;
        int step = 0;
        int k = 0;
        for (int i = 0; i < rows; i++) {
            if (rawTerm[i]) {
                trajectory++;
                step = 0;
                continue;
            }
            System.arraycopy(obs, i * od, data.observations(), k * od, od);
            System.arraycopy(act, i * ad, data.actions(), k * ad, ad);
            System.arraycopy(obs, (i + 1) * od, data.nextObservations(), k * od, od);
            data.terminals()[k] = rawTerm[i + 1] ? 1f : 0f;
            if (xy != null) {
                boolean success = goal.success(xy[i * xyStride], xy[i * xyStride + 1]);
                data.rewards()[k] = (success ? 0f : -1f) + shift;
                data.masks()[k] = success ? 0f : 1f;
            } else {
                data.rewards()[k] = shift;
                data.masks()[k] = 1f;
            }
            data.episodeIds()[k] = trajectory;
            data.stepIndices()[k] = step++;
            srcRow[k] = i;
            k++;
        }
        Map<String, String> details = new LinkedHashMap<>();
        details.put("form", "raw");
        details.put("source_rows", String.valueOf(rows));
        details.put("labelling", goal == null
                ? "none: the raw form has no task rewards; rewards = 0" + (shift != 0 ? " + shift" : "")
                        + ", masks = 1"
                : "goal xy (" + goal.x() + ", " + goal.y() + ") radius " + goal.radius() + " from "
                        + (qpos != null ? "qpos[:, 0:2]" : "observations[:, 0:2]")
                        + ": reward = success - 1, mask = 1 - success");
        details.put("reward_shift", String.valueOf(shift));
        details.put("ignored_keys", npz.unused(Set.of("observations", "actions", "terminals", "qpos", "qvel"))
                .toString());
        SourceLocator locator = (column, tr) -> switch (column) {
            case DatasetSchema.NEXT_OBSERVATIONS -> new SourceLocator.Location("observations", srcRow[tr] + 1L);
            case DatasetSchema.ACTIONS -> new SourceLocator.Location("actions", srcRow[tr]);
            case DatasetSchema.TERMINALS -> new SourceLocator.Location("terminals", srcRow[tr] + 1L);
            case DatasetSchema.REWARDS, DatasetSchema.MASKS ->
                    new SourceLocator.Location(column + " (labelled)", srcRow[tr]);
            default -> new SourceLocator.Location("observations", srcRow[tr]);
        };
        return new SourceData(data, source.withDetails(details), locator);
    }

    private static SourceData exported(NpzArchive npz, ReadOptions options, SourceInfo source) {
        String file = source.path();
        SourceArray obsArr = npz.get("observations").requireRank(2, "(rows, obs_dim)");
        int n = obsArr.rows();
        String against = "'observations'";
        SourceArray actArr = npz.get("actions").requireRank(2, "(rows, action_dim)").requireRows(n, against);
        SourceArray nextArr = npz.get("next_observations").requireRank(2, "(rows, obs_dim)").requireRows(n, against);
        if (nextArr.width() != obsArr.width()) {
            throw new DatasetException(file, "next_observations", "has " + nextArr.width() + " columns but "
                    + "'observations' has " + obsArr.width() + "; expected equal observation dims");
        }
        SourceArray rewArr = npz.get("rewards").requireRank(1, "(rows,)").requireRows(n, against);
        SourceArray maskArr = npz.get("masks").requireRank(1, "(rows,)").requireRows(n, against);
        int od = obsArr.width();
        float[] obs = obsArr.floats();
        float[] next = nextArr.floats();
        float[] r = rewArr.floats();
        if (options.rewardShift() != null && options.rewardShift() != 0f) {
            r = r.clone();
            for (int i = 0; i < n; i++) r[i] += options.rewardShift();
        }
        float[] m = maskArr.isFloating() ? maskArr.floats() : toFloats(maskArr.flags());
        Map<String, String> details = new LinkedHashMap<>();
        details.put("form", "exported");
        details.put("source_rows", String.valueOf(n));
        details.put("reward_shift", String.valueOf(options.rewardShift() == null ? 0f : options.rewardShift()));
        float[] t;
        if (npz.has("terminals")) {
            t = toFloats(npz.get("terminals").requireRank(1, "(rows,)").requireRows(n, against).flags());
            if (n > 0 && t[n - 1] == 0f) {
                t[n - 1] = 1f;
                details.put("terminals", "from the file; the last row set to 1 (it was 0)");
            } else {
                details.put("terminals", "from the file");
            }
        } else {
            t = Episodes.continuityBoundaries(obs, next, n, od);
            details.put("terminals", "absent from the file; derived from ||obs[i+1] - next_obs[i]|| > 1e-6");
        }
        details.put("ignored_keys", npz.unused(Set.of("observations", "actions", "next_observations", "rewards",
                "masks", "terminals")).toString());
        Episodes episodes = Episodes.fromBoundaries(t);
        TransitionData data = new TransitionData(od, actArr.width(), obs, actArr.floats(), r, m, t, next,
                episodes.ids, episodes.steps);
        return new SourceData(data, source.withDetails(details), SourceLocator.identity());
    }

    static float[] toFloats(boolean[] flags) {
        float[] out = new float[flags.length];
        for (int i = 0; i < flags.length; i++) out[i] = flags[i] ? 1f : 0f;
        return out;
    }
}
