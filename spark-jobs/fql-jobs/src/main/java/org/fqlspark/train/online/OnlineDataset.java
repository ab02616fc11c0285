package org.fqlspark.train.online;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.fqlspark.data.DatasetManifest;
import org.fqlspark.data.DatasetSchema;
import org.fqlspark.data.DatasetStatistics;
import org.fqlspark.data.SourceInfo;
import org.fqlspark.data.TransitionData;
import org.fqlspark.io.HadoopFiles;
import org.fqlspark.run.RunDirectory;
import org.fqlspark.train.worker.OnlineBuffer;
import org.fqlspark.train.worker.OnlineTransitions;

/**
 * The online phase's transitions in the run directory, {@code online/}: a dataset directory of the data contract
 * ({@link DatasetSchema}, plus a column {@code online_index}, the row's position in the online buffer) with its
 * {@code manifest.json}, so notebooks, {@code fql train --data RUN/online} and other ingest-based tools read it.
 *
 * <p>At every checkpoint the rows collected since the previous one are added as one new shard,
 * {@code part-<from>-<to>.parquet}, and the manifest is replaced (atomically) by one listing every shard: a reader going
 * by the manifest sees the rows of some checkpoint, never a half-written shard. Rows are in collection order;
 * {@code episode_id} is {@code episode · E + actor}. Actions are stored as the policy took them, in [−1, 1].
 */
public final class OnlineDataset {

    static final String DIR = "online";
    public static final String ONLINE_INDEX = "online_index";
    static final StructType SCHEMA = DatasetSchema.SCHEMA.add(DataTypes.createStructField(ONLINE_INDEX, DataTypes.LongType, false));
    private static final Pattern PART = Pattern.compile("part-(\\d{12})-(\\d{12})\\.parquet");

    private OnlineDataset() {
    }

    public static Path dir(RunDirectory run) {
        return run.file(DIR);
    }

    /**
     * Adds rows {@code [from, to)} of {@code all} as a shard and rewrites the manifest over rows {@code [0, to)}.
     * Nothing is written when {@code from == to}.
     */
    static void commit(SparkSession spark, RunDirectory run, OnlineBuffer all, long from, long to, Map<String, String> details)
            throws IOException {
        if (from == to) {
            return;
        }
        FileSystem fs = run.fs();
        Path dir = dir(run);
        fs.mkdirs(dir);
        OnlineTransitions rows = all.range(from, to);
        Path staging = HadoopFiles.hiddenSibling(new Path(dir, shardName(from, to)), "tmp");
        try {
            spark.createDataFrame(toRows(rows), SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists)
                    .parquet(staging.toString());
            FileStatus part = null;
            for (FileStatus st : fs.listStatus(staging)) {
                if (st.getPath().getName().endsWith(".parquet")) {
                    if (part != null) throw new IOException("Spark wrote more than one Parquet file in " + staging);
                    part = st;
                }
            }
            if (part == null) throw new IOException("Spark wrote no Parquet file in " + staging);
            HadoopFiles.moveReplacing(fs, part.getPath(), new Path(dir, shardName(from, to)));
        } finally {
            fs.delete(staging, true);
        }
        writeManifest(fs, dir, all.range(0, to), shards(fs, dir, to), details);
    }

    private static void writeManifest(FileSystem fs, Path dir, OnlineTransitions all, List<DatasetManifest.Shard> shards,
            Map<String, String> details) throws IOException {
        TransitionData data = all.toTransitionData();
        long episodes = java.util.Arrays.stream(all.episodeIds()).distinct().count();
        DatasetManifest manifest = new DatasetManifest(DatasetSchema.SCHEMA_VERSION,
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), "fql-spark train (online phase)",
                SourceInfo.generated("online transitions", details), "online",
                new DatasetManifest.Counts(all.size(), Math.max(1, episodes), 0, 0), all.obsDim(), all.actionDim(),
                DatasetStatistics.of(data), bounds(all.actionDim()), shards, Map.of("online_index_column", ONLINE_INDEX));
        HadoopFiles.replaceAtomically(fs, new Path(dir, DatasetSchema.MANIFEST_FILE),
                manifest.toJson().getBytes(StandardCharsets.UTF_8));
    }

    private static DatasetManifest.ActionBounds bounds(int dim) {
        double[] lo = new double[dim];
        double[] hi = new double[dim];
        java.util.Arrays.fill(lo, -1);
        java.util.Arrays.fill(hi, 1);
        return new DatasetManifest.ActionBounds(lo, hi);
    }

    public static String shardName(long from, long to) {
        return String.format(Locale.ROOT, "part-%012d-%012d.parquet", from, to);
    }

    /** The shards in {@code dir} that together hold rows {@code [0, to)}, in order; fails on a gap. */
    private static List<DatasetManifest.Shard> shards(FileSystem fs, Path dir, long to) throws IOException {
        List<long[]> ranges = new ArrayList<>();
        for (FileStatus st : fs.listStatus(dir)) {
            Matcher m = PART.matcher(st.getPath().getName());
            if (m.matches()) {
                ranges.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
            }
        }
        ranges.sort(Comparator.comparingLong((long[] r) -> r[0]).thenComparingLong(r -> r[1]));
        List<DatasetManifest.Shard> out = new ArrayList<>();
        long next = 0;
        for (long[] r : ranges) {
            if (r[0] == next && r[1] <= to) {
                out.add(new DatasetManifest.Shard(shardName(r[0], r[1]), r[1] - r[0]));
                next = r[1];
            }
        }
        if (next != to) {
            throw new IOException(dir + ": the online shards cover rows 0.." + next + ", expected 0.." + to);
        }
        return out;
    }

    private static List<Row> toRows(OnlineTransitions t) {
        int d = t.obsDim();
        int a = t.actionDim();
        List<Row> rows = new ArrayList<>(t.size());
        for (int i = 0; i < t.size(); i++) {
            rows.add(RowFactory.create(java.util.Arrays.copyOfRange(t.observations(), i * d, (i + 1) * d),
                    java.util.Arrays.copyOfRange(t.actions(), i * a, (i + 1) * a), t.rewards()[i], t.masks()[i],
                    t.terminals()[i], java.util.Arrays.copyOfRange(t.nextObservations(), i * d, (i + 1) * d),
                    t.episodeIds()[i], t.stepIndices()[i], t.first() + i));
        }
        return rows;
    }

    /**
     * Rows {@code [0, count)} as saved by earlier checkpoints (a resume). Shards past {@code count}, written after the
     * checkpoint that is resumed, are removed and the manifest is rewritten to match.
     *
     * @throws IllegalArgumentException naming the directory when rows are missing or do not belong together
     */
    public static OnlineTransitions read(SparkSession spark, RunDirectory run, long count, int obsDim, int actionDim,
            Map<String, String> details) throws IOException {
        if (count == 0) {
            return OnlineTransitions.empty(obsDim, actionDim, 0);
        }
        FileSystem fs = run.fs();
        Path dir = dir(run);
        List<DatasetManifest.Shard> shards;
        try {
            shards = shards(fs, dir, count);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot resume the online phase: " + e.getMessage(), e);
        }
        for (FileStatus st : fs.listStatus(dir)) {   // written after the resumed checkpoint: ours, superseded
            Matcher m = PART.matcher(st.getPath().getName());
            if (m.matches() && Long.parseLong(m.group(2)) > count) {
                fs.delete(st.getPath(), false);
            }
        }
        String[] files = shards.stream().map(s -> new Path(dir, s.file()).toString()).toArray(String[]::new);
        Dataset<Row> df = spark.read().parquet(files);
        DatasetSchema.requireCompatible(df.schema(), dir.toString());
        List<Row> rows = new ArrayList<>(df.collectAsList());
        rows.sort(Comparator.comparingLong(r -> r.getLong(r.fieldIndex(ONLINE_INDEX))));
        if (rows.size() != count) {
            throw new IllegalArgumentException(dir + ": holds " + rows.size() + " online rows, the checkpoint expects " + count);
        }
        OnlineTransitions.Builder b = new OnlineTransitions.Builder(obsDim, actionDim, 0, (int) count);
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (r.getLong(r.fieldIndex(ONLINE_INDEX)) != i) {
                throw new IllegalArgumentException(dir + ": online row " + i + " is missing");
            }
            b.add(floats(r, DatasetSchema.OBSERVATIONS), floats(r, DatasetSchema.ACTIONS),
                    r.getFloat(r.fieldIndex(DatasetSchema.REWARDS)), r.getFloat(r.fieldIndex(DatasetSchema.MASKS)),
                    r.getFloat(r.fieldIndex(DatasetSchema.TERMINALS)), floats(r, DatasetSchema.NEXT_OBSERVATIONS),
                    r.getLong(r.fieldIndex(DatasetSchema.EPISODE_ID)), r.getInt(r.fieldIndex(DatasetSchema.STEP_INDEX)));
        }
        OnlineTransitions all = b.build();
        writeManifest(fs, dir, all, shards, details);
        return all;
    }

    private static float[] floats(Row r, String column) {
        List<Float> l = r.getList(r.fieldIndex(column));
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = l.get(i);
        return out;
    }
}
