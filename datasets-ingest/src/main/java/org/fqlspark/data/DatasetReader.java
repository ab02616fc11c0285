package org.fqlspark.data;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.functions;

/**
 * Reads a dataset directory written by the ingest back into memory, or as a DataFrame for distributed use.
 *
 * <p>Rows come back in (episode_id, step_index) order, which is the order they were written in. Spark's file
 * scan does not keep file order (it packs splits by size), so the read is two passes: the keys first (two
 * scalar columns), sorted into a position index, then the full rows, each copied to its position straight
 * from Spark's internal rows ({@code ArrayData.toFloatArray}, a bulk copy: no per-float boxing). Memory on the
 * driver is the result plus one chunk of {@value #CHUNK_ROWS} rows and 8 bytes per transition for the index.
 */
public final class DatasetReader {

    static final int CHUNK_ROWS = 65_536;

    /** A dataset in memory with its manifest. */
    public record Loaded(TransitionData data, DatasetManifest manifest) {}

    private DatasetReader() {}

    /** Reads {@code path/manifest.json}. */
    public static DatasetManifest readManifest(SparkSession spark, String path) {
        Path dir = new Path(path);
        return DatasetManifest.read(fileSystem(spark, dir), dir);
    }

    /**
     * The dataset's rows as a DataFrame with exactly the contract's columns (in {@link DatasetSchema#COLUMNS}
     * order, row order unspecified), after checking the manifest, that every shard exists and the schema.
     */
    public static Dataset<Row> readDataFrame(SparkSession spark, String path) {
        return frame(spark, path, readManifest(spark, path));
    }

    /**
     * Reads the whole dataset into a {@link TransitionData}, in (episode_id, step_index) order.
     *
     * @throws DatasetException when the manifest is missing or invalid, a shard is missing, the schema or
     *     dimensions differ from the manifest, a value is null, or the row count or keys do not match
     */
    public static Loaded read(SparkSession spark, String path) {
        DatasetManifest manifest = readManifest(spark, path);
        Dataset<Row> df = frame(spark, path, manifest);
        long expected = manifest.counts().transitions();
        if (expected > Integer.MAX_VALUE
                || expected * Math.max(manifest.obsDim(), manifest.actionDim()) > Integer.MAX_VALUE - 8) {
            throw new DatasetException(path, null, "holds " + expected + " transitions; too many for one in-memory "
                    + "TransitionData (its buffers are Java arrays); use readDataFrame");
        }
        int n = (int) expected;

        long[] keys = collectKeys(df, path);
        if (keys.length != n) {
            throw new DatasetException(path, DatasetSchema.EPISODE_ID, "the shards hold " + keys.length
                    + " rows but the manifest says " + n);
        }
        Arrays.sort(keys);
        for (int i = 1; i < n; i++) {
            if (keys[i] == keys[i - 1]) {
                throw new DatasetException(path, DatasetSchema.EPISODE_ID, "(episode " + (keys[i] >>> 31) + ", step "
                        + (keys[i] & Integer.MAX_VALUE) + ") occurs twice; expected unique keys");
            }
        }

        int od = manifest.obsDim();
        int ad = manifest.actionDim();
        TransitionData data = TransitionData.zeros(n, od, ad);
        Iterator<Chunk> chunks = df.queryExecution().toRdd().toJavaRDD()
                .mapPartitions(new ToChunks(od, ad)).toLocalIterator();
        while (chunks.hasNext()) {
            Chunk c = chunks.next();
            if (c.problem != null) throw new DatasetException(path, c.problemKey, c.problem);
            for (int r = 0; r < c.rows; r++) {
                int pos = Arrays.binarySearch(keys, c.keys[r]);
                if (pos < 0) {
                    throw new DatasetException(path, DatasetSchema.EPISODE_ID, "rows changed between the two read "
                            + "passes; is something writing to the dataset?");
                }
                data.set(pos, c.obs, c.act, c.next, r, c.rew[r], c.mask[r], c.term[r], c.keys[r] >>> 31,
                        (int) (c.keys[r] & Integer.MAX_VALUE));
            }
        }
        long episodes = DatasetStatistics.episodes(data);
        if (episodes != manifest.counts().episodes()) {
            throw new DatasetException(path, DatasetSchema.EPISODE_ID, "the shards hold " + episodes
                    + " episodes but the manifest says " + manifest.counts().episodes());
        }
        return new Loaded(data, manifest);
    }

    private static Dataset<Row> frame(SparkSession spark, String path, DatasetManifest manifest) {
        Path dir = new Path(path);
        FileSystem fs = fileSystem(spark, dir);
        List<String> files = new ArrayList<>();
        for (DatasetManifest.Shard s : manifest.shards()) {
            Path p = new Path(dir, s.file());
            try {
                if (!fs.exists(p)) {
                    throw new DatasetException(path, s.file(), "shard listed in the manifest is missing");
                }
            } catch (IOException e) {
                throw new DatasetException(path, s.file(), "shard could not be checked (" + e.getMessage() + ")", e);
            }
            files.add(p.toString());
        }
        Dataset<Row> df = spark.read().parquet(files.toArray(new String[0]));
        DatasetSchema.requireCompatible(df.schema(), path);
        Column[] cols = DatasetSchema.COLUMNS.stream().map(functions::col).toArray(Column[]::new);
        return df.select(cols);
    }

    private static FileSystem fileSystem(SparkSession spark, Path dir) {
        try {
            return dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
        } catch (IOException e) {
            throw new DatasetException(dir.toString(), null, "has no usable file system (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Packs (episode_id, step_index) into one sortable long: episode in the top 33 bits, step in the low 31.
     * Valid for episode ids below 2^32, which any dataset that fits in memory satisfies.
     */
    static long packKey(long episode, int step) {
        return episode << 31 | step;
    }

    private static long[] collectKeys(Dataset<Row> df, String path) {
        List<KeyBlock> blocks = df.select(DatasetSchema.EPISODE_ID, DatasetSchema.STEP_INDEX)
                .queryExecution().toRdd().toJavaRDD().mapPartitions(new ToKeys()).collect();
        long total = 0;
        for (KeyBlock b : blocks) {
            if (b.problem != null) throw new DatasetException(path, DatasetSchema.EPISODE_ID, b.problem);
            total += b.keys.length;
        }
        if (total > Integer.MAX_VALUE) {
            throw new DatasetException(path, null, "holds " + total + " rows; too many for one TransitionData");
        }
        long[] keys = new long[(int) total];
        int at = 0;
        for (KeyBlock b : blocks) {
            System.arraycopy(b.keys, 0, keys, at, b.keys.length);
            at += b.keys.length;
        }
        return keys;
    }

    /** A partition's keys. Problems travel as data, since exceptions thrown in tasks lose their type. */
    private static final class KeyBlock implements Serializable {
        private static final long serialVersionUID = 1L;
        long[] keys = new long[0];
        String problem;
    }

    private static final class ToKeys implements FlatMapFunction<Iterator<InternalRow>, KeyBlock> {
        private static final long serialVersionUID = 1L;

        @Override
        public Iterator<KeyBlock> call(Iterator<InternalRow> rows) {
            KeyBlock b = new KeyBlock();
            long[] keys = new long[1024];
            int n = 0;
            while (rows.hasNext()) {
                InternalRow row = rows.next();
                if (row.isNullAt(0) || row.isNullAt(1)) {
                    b.problem = "a row has a null episode_id or step_index; expected both set";
                    return Collections.singletonList(b).iterator();
                }
                long e = row.getLong(0);
                int s = row.getInt(1);
                if (e < 0 || e >= 1L << 32 || s < 0) {
                    b.problem = "a row has episode " + e + ", step " + s + "; expected 0 <= episode < 2^32 and "
                            + "step >= 0";
                    return Collections.singletonList(b).iterator();
                }
                if (n == keys.length) keys = Arrays.copyOf(keys, n * 2);
                keys[n++] = packKey(e, s);
            }
            b.keys = Arrays.copyOf(keys, n);
            return Collections.singletonList(b).iterator();
        }
    }

    /** Up to {@value #CHUNK_ROWS} rows in flat buffers, keyed by packed (episode_id, step_index). */
    private static final class Chunk implements Serializable {
        private static final long serialVersionUID = 1L;
        int rows;
        long[] keys;
        float[] obs;
        float[] act;
        float[] rew;
        float[] mask;
        float[] term;
        float[] next;
        String problem;
        String problemKey;
    }

    private static final class ToChunks implements FlatMapFunction<Iterator<InternalRow>, Chunk> {
        private static final long serialVersionUID = 1L;
        private final int od;
        private final int ad;

        ToChunks(int od, int ad) {
            this.od = od;
            this.ad = ad;
        }

        @Override
        public Iterator<Chunk> call(Iterator<InternalRow> rows) {
            return new Iterator<>() {
                boolean failed;

                @Override
                public boolean hasNext() {
                    return !failed && rows.hasNext();
                }

                @Override
                public Chunk next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    Chunk c = new Chunk();
                    int cap = CHUNK_ROWS;
                    c.keys = new long[cap];
                    c.obs = new float[cap * od];
                    c.act = new float[cap * ad];
                    c.rew = new float[cap];
                    c.mask = new float[cap];
                    c.term = new float[cap];
                    c.next = new float[cap * od];
                    int r = 0;
                    while (r < cap && rows.hasNext()) {
                        InternalRow row = rows.next();
                        for (int col = 0; col < DatasetSchema.COLUMNS.size(); col++) {
                            if (row.isNullAt(col)) {
                                return fail(c, DatasetSchema.COLUMNS.get(col), "a row holds null; expected a value");
                            }
                        }
                        if (!copyArray(row.getArray(0), od, c.obs, r, c, DatasetSchema.OBSERVATIONS)
                                || !copyArray(row.getArray(1), ad, c.act, r, c, DatasetSchema.ACTIONS)
                                || !copyArray(row.getArray(5), od, c.next, r, c, DatasetSchema.NEXT_OBSERVATIONS)) {
                            failed = true;
                            return c;
                        }
                        c.rew[r] = row.getFloat(2);
                        c.mask[r] = row.getFloat(3);
                        c.term[r] = row.getFloat(4);
                        c.keys[r] = packKey(row.getLong(6), row.getInt(7));
                        r++;
                    }
                    c.rows = r;
                    if (r < cap) {
                        c.keys = Arrays.copyOf(c.keys, r);
                        c.obs = Arrays.copyOf(c.obs, r * od);
                        c.act = Arrays.copyOf(c.act, r * ad);
                        c.rew = Arrays.copyOf(c.rew, r);
                        c.mask = Arrays.copyOf(c.mask, r);
                        c.term = Arrays.copyOf(c.term, r);
                        c.next = Arrays.copyOf(c.next, r * od);
                    }
                    return c;
                }

                private Chunk fail(Chunk c, String key, String problem) {
                    failed = true;
                    c.problemKey = key;
                    c.problem = problem;
                    c.rows = 0;
                    return c;
                }
            };
        }

        private static boolean copyArray(ArrayData a, int dim, float[] dst, int row, Chunk c, String key) {
            if (a.numElements() != dim) {
                c.problemKey = key;
                c.problem = "a row holds " + a.numElements() + " values; expected " + dim + " as the manifest says";
                c.rows = 0;
                return false;
            }
            System.arraycopy(a.toFloatArray(), 0, dst, row * dim, dim);
            return true;
        }
    }
}
