package org.fqlspark.data;

import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Minari HDF5 ({@code main_data.hdf5}): one {@code episode_<id>} group per episode holding
 * {@code observations} (T+1 rows), {@code actions}, {@code rewards}, {@code terminations} and
 * {@code truncations} (T rows each). Transition t of an episode: s = obs[t], s' = obs[t+1],
 * mask = 1 − terminations[t]; the boundary flag is 1 on the episode's last transition. Episode ids are the
 * Minari ids. Dict observation (or action) spaces, stored as groups, are flattened by concatenating their
 * entries in sorted key order, recursively (as gymnasium's {@code flatten} does for a Dict space), at most
 * {@value #MAX_SPACE_DEPTH} levels deep.
 */
final class MinariDatasetReader {

    private static final Pattern EPISODE = Pattern.compile("episode_(\\d+)");
    /** Deepest nesting of Dict spaces accepted; real spaces nest two or three levels. */
    static final int MAX_SPACE_DEPTH = 16;

    private MinariDatasetReader() {}

    static SourceData read(Path path, ReadOptions options, SourceInfo source) {
        String file = source.path();
        try (HdfArchive h5 = HdfArchive.open(path)) {
            TreeMap<Long, Group> episodes = episodes(h5, file);
            float shift = options.rewardShift() == null ? 0f : options.rewardShift();

            List<Episode> read = new ArrayList<>(episodes.size());
            int od = -1;
            int ad = -1;
            long total = 0;
            for (Map.Entry<Long, Group> e : episodes.entrySet()) {
                Episode ep = episode(h5, e.getKey(), e.getValue());
                if (od < 0) {
                    od = ep.obs.width;
                    ad = ep.act.width;
                } else if (ep.obs.width != od || ep.act.width != ad) {
                    throw new DatasetException(file, ep.name + "/observations", "has obs/action dims " + ep.obs.width
                            + "/" + ep.act.width + "; expected " + od + "/" + ad + " like the earlier episodes");
                }
                read.add(ep);
                total += ep.steps;
            }
            if (total > Integer.MAX_VALUE / Math.max(1, Math.max(od, ad))) {
                throw new DatasetException(file, null, "holds " + total + " transitions; more than one in-memory "
                        + "TransitionData can hold");
            }
            int n = (int) total;
            od = Math.max(od, 1);
            ad = Math.max(ad, 1);
            TransitionData data = TransitionData.zeros(n, od, ad);
            int[] st = data.stepIndices();
            String[] epName = new String[n];
            int k = 0;
            for (Episode ep : read) {
                for (int s = 0; s < ep.steps; s++) {
                    System.arraycopy(ep.obs.values, s * od, data.observations(), k * od, od);
                    System.arraycopy(ep.obs.values, (s + 1) * od, data.nextObservations(), k * od, od);
                    System.arraycopy(ep.act.values, s * ad, data.actions(), k * ad, ad);
                    data.rewards()[k] = ep.rewards[s] + shift;
                    data.masks()[k] = ep.terminations[s] ? 0f : 1f;
                    data.terminals()[k] = s == ep.steps - 1 ? 1f : 0f;
                    data.episodeIds()[k] = ep.id;
                    st[k] = s;
                    epName[k] = ep.name;
                    k++;
                }
            }
            Map<String, String> details = new LinkedHashMap<>();
            details.put("episodes_in_file", String.valueOf(episodes.size()));
            details.put("reward_shift", String.valueOf(shift));
            details.put("observation_layout", read.isEmpty() ? "" : read.get(0).obs.layout);
            details.put("action_layout", read.isEmpty() ? "" : read.get(0).act.layout);
            SourceLocator locator = (column, tr) -> switch (column) {
                case DatasetSchema.NEXT_OBSERVATIONS ->
                        new SourceLocator.Location(epName[tr] + "/observations", st[tr] + 1L);
                case DatasetSchema.ACTIONS, DatasetSchema.REWARDS ->
                        new SourceLocator.Location(epName[tr] + "/" + column, st[tr]);
                case DatasetSchema.MASKS, DatasetSchema.TERMINALS ->
                        new SourceLocator.Location(epName[tr] + "/terminations", st[tr]);
                default -> new SourceLocator.Location(epName[tr] + "/observations", st[tr]);
            };
            return new SourceData(data, source.withDetails(details), locator);
        }
    }

    /** True when the file's root holds at least one {@code episode_*} group. */
    static boolean looksLikeMinari(HdfArchive h5) {
        for (Node child : h5.root().getChildren().values()) {
            if (child.isGroup() && EPISODE.matcher(child.getName()).matches()) return true;
        }
        return false;
    }

    private static TreeMap<Long, Group> episodes(HdfArchive h5, String file) {
        TreeMap<Long, Group> out = new TreeMap<>();
        Map<String, Node> children;
        try {
            children = h5.root().getChildren();
        } catch (RuntimeException e) {
            throw new DatasetException(file, null, "could not be listed; the file is truncated or corrupt ("
                    + e.getMessage() + ")", e);
        }
        for (Node child : children.values()) {
            Matcher mt = EPISODE.matcher(child.getName());
            if (!mt.matches()) continue;
            if (!(child instanceof Group g)) {
                throw new DatasetException(file, child.getName(), "is not a group; expected a Minari episode group");
            }
            out.put(Long.parseLong(mt.group(1)), g);
        }
        if (out.isEmpty()) {
            throw new DatasetException(file, "episode_*", "no episode groups found (the file holds "
                    + children.keySet() + "); expected Minari's episode_<id> groups (empty dataset?)");
        }
        return out;
    }

    private record Flat(float[] values, int rows, int width, String layout) {}

    private static final class Episode {
        long id;
        String name;
        int steps;
        Flat obs;
        Flat act;
        float[] rewards;
        boolean[] terminations;
    }

    private static Episode episode(HdfArchive h5, long id, Group g) {
        Episode ep = new Episode();
        ep.id = id;
        ep.name = g.getName();
        ep.act = flat(h5, g, "actions", 0);
        int steps = ep.act.rows;
        ep.steps = steps;
        ep.obs = flat(h5, g, "observations", 0);
        if (ep.obs.rows != steps + 1) {
            throw new DatasetException(h5.file(), ep.name + "/observations", "has " + ep.obs.rows + " rows but '"
                    + ep.name + "/actions' has " + steps + "; expected T+1 observations for T actions "
                    + "(mismatched lengths)");
        }
        ep.rewards = h5.get(g, "rewards").requireRank(1, "(T,)").requireRows(steps, "'" + ep.name + "/actions'").floats();
        ep.terminations = h5.get(g, "terminations").requireRank(1, "(T,)")
                .requireRows(steps, "'" + ep.name + "/actions'").flags();
        h5.get(g, "truncations").requireRank(1, "(T,)").requireRows(steps, "'" + ep.name + "/actions'").flags();
        return ep;
    }

    /** A Box space as (rows, dim), or a Dict space (a group) flattened in sorted key order. */
    private static Flat flat(HdfArchive h5, Group parent, String key, int depth) {
        String full = HdfArchive.pathOf(parent, key);
        boolean topLevel = depth == 0;
        if (depth > MAX_SPACE_DEPTH) {
            throw new DatasetException(h5.file(), full, "nests Dict spaces more than " + MAX_SPACE_DEPTH + " levels deep; "
                    + "expected a flatter observation or action space");
        }
        Node node = h5.node(parent, key);
        if (node == null) {
            throw new DatasetException(h5.file(), full, "is missing; expected the episode's " + key);
        }
        if (node instanceof Dataset ds) {
            SourceArray arr = h5.read(ds, full);
            if (topLevel) arr.requireRank(2, "(rows, dim)");
            else if (arr.rank() < 1) arr.requireRank(2, "(rows, dim)");
            return new Flat(arr.floats(), arr.rows(), arr.width(), key + arr.shapeString());
        }
        Group group = (Group) node;
        TreeMap<String, Node> sorted = new TreeMap<>(group.getChildren());
        if (sorted.isEmpty()) {
            throw new DatasetException(h5.file(), full, "is an empty group; expected a dataset or a Dict space's entries");
        }
        List<Flat> parts = new ArrayList<>();
        int rows = -1;
        int width = 0;
        StringBuilder layout = new StringBuilder(key).append("{");
        for (String sub : sorted.keySet()) {
            Flat f = flat(h5, group, sub, depth + 1);
            if (rows >= 0 && f.rows != rows) {
                throw new DatasetException(h5.file(), HdfArchive.pathOf(group, sub), "has " + f.rows + " rows but "
                        + "its sibling entries have " + rows + " (mismatched lengths)");
            }
            rows = f.rows;
            if ((long) width + f.width > Integer.MAX_VALUE || (long) rows * (width + f.width) > NpzArchive.MAX_ARRAY_VALUES) {
                throw new DatasetException(h5.file(), full, "flattens to more than " + NpzArchive.MAX_ARRAY_VALUES
                        + " values; expected a smaller space");
            }
            width += f.width;
            parts.add(f);
            layout.append(parts.size() > 1 ? ", " : "").append(f.layout);
        }
        float[] values = new float[rows * width];
        int offset = 0;
        for (Flat f : parts) {
            for (int r = 0; r < rows; r++) {
                System.arraycopy(f.values, r * f.width, values, r * width + offset, f.width);
            }
            offset += f.width;
        }
        return new Flat(values, rows, width, layout.append("}").toString());
    }
}
