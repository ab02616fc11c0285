package org.fqlspark.ingest;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.fqlspark.io.HadoopFiles;
import org.fqlspark.io.OutputGuard;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.data.DatasetException;
import org.fqlspark.data.DatasetManifest;
import org.fqlspark.data.DatasetSchema;
import org.fqlspark.data.DatasetStatistics;
import org.fqlspark.data.SourceData;
import org.fqlspark.data.SourceInfo;
import org.fqlspark.data.SourceLocator;
import org.fqlspark.data.SourceReaders;
import org.fqlspark.data.TransitionCleaner;
import org.fqlspark.data.TransitionData;

/**
 * Ingests a source file into a dataset directory: Parquet shards in the {@link DatasetSchema} contract plus
 * {@code manifest.json}.
 *
 * <p>The output appears atomically: everything is written into a hidden sibling directory
 * ({@code .<name>.tmp-<uuid>}), the manifest last, and that directory is renamed into place. A failed run
 * deletes its temporary directory and leaves the output path as it was. On object stores (s3a) a directory
 * rename is a copy, so there readers must (and {@link org.fqlspark.data.DatasetReader} does) treat a
 * dataset as complete only when its manifest is present and its shards match it.
 */
public final class IngestJob {

    private static final Pattern PART = Pattern.compile("part-(\\d{5})-.*\\.parquet");
    private static final Pattern SHARD_NAME = Pattern.compile("part-\\d{5}(-[0-9a-f]{8})?\\.parquet");

    /** A dataset directory as {@link OutputGuard} recognises it: our manifest and our shards. */
    public static final OutputGuard.Kind OUTPUT_KIND = new OutputGuard.Kind("dataset", DatasetSchema.MANIFEST_FILE,
            name -> SHARD_NAME.matcher(name).matches(), IngestJob::isOurManifest);

    private static boolean isOurManifest(byte[] bytes) {
        try {
            DatasetManifest.fromJson(new String(bytes, java.nio.charset.StandardCharsets.UTF_8), DatasetSchema.MANIFEST_FILE);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static final String WRITER = "fql-spark datasets-ingest, data contract v" + DatasetSchema.SCHEMA_VERSION;

    private IngestJob() {}

    /** {@link #run(SparkSession, IngestOptions, PrintStream)} printing progress to standard output. */
    public static IngestResult run(SparkSession spark, IngestOptions options) {
        return run(spark, options, System.out);
    }

    /**
     * Reads {@code options.input()}, cleans it (finite values, action clipping) and writes the dataset.
     *
     * @throws DatasetException for bad input or an existing output without {@code overwrite}; nothing is
     *     left at the output path then
     */
    public static IngestResult run(SparkSession spark, IngestOptions options, PrintStream log) {
        if (options.input() == null) throw new IllegalArgumentException("IngestJob.run needs an input path");
        long t0 = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Output out = Output.resolve(options.output(), conf);
        out.refuseExisting(options.overwrite(), options.input());

        try (LocalInput local = LocalInput.stage(options.input(), conf, log)) {
            log.printf("ingest: reading %s%n", options.input());
            SourceData src = SourceReaders.read(local.path, options.format(), options.read());
            SourceInfo source = local.remote
                    ? new SourceInfo(options.input(), src.source().format(), src.source().sha256(),
                            src.source().sizeBytes(), src.source().details())
                    : src.source();
            log.printf("ingest: read %s as %s: %d transitions, obs_dim %d, action_dim %d %s%n", source.path(),
                    source.format(), src.data().size(), src.data().obsDim(), src.data().actionDim(),
                    source.details());
            TransitionCleaner.Result cleaned =
                    TransitionCleaner.clean(src.data(), source.path(), src.locator(), options.dropInvalid());
            double readSeconds = (System.nanoTime() - t0) / 1e9;
            return writeCleaned(spark, cleaned, source, options, out, readSeconds, log);
        }
    }

    /** {@link #write(SparkSession, TransitionData, SourceInfo, IngestOptions, PrintStream)} to standard output. */
    public static IngestResult write(SparkSession spark, TransitionData data, SourceInfo source, IngestOptions options) {
        return write(spark, data, source, options, System.out);
    }

    /**
     * Writes in-memory data (the point-maze generator's) through the same checks and the same atomic path
     * as {@link #run}. {@code options.input()} and {@code options.format()} are ignored; rows must be ordered
     * by (episode_id, step_index).
     *
     * @throws DatasetException for non-finite values (unless {@code dropInvalid}), bad flags, unordered
     *     rows, empty data, or an existing output without {@code overwrite}
     */
    public static IngestResult write(SparkSession spark, TransitionData data, SourceInfo source,
            IngestOptions options, PrintStream log) {
        Output out = Output.resolve(options.output(), spark.sparkContext().hadoopConfiguration());
        out.refuseExisting(options.overwrite(), null);
        TransitionCleaner.Result cleaned =
                TransitionCleaner.clean(data, source.path(), SourceLocator.identity(), options.dropInvalid());
        return writeCleaned(spark, cleaned, source, options, out, 0, log);
    }

    private static IngestResult writeCleaned(SparkSession spark, TransitionCleaner.Result cleaned,
            SourceInfo source, IngestOptions options, Output out, double readSeconds, PrintStream log) {
        long t0 = System.nanoTime();
        TransitionData data = cleaned.data();
        int n = data.size();
        if (cleaned.droppedInvalid() > 0) {
            log.printf("ingest: dropped %d transitions holding NaN/Inf (--drop-invalid)%n", cleaned.droppedInvalid());
        }
        if (cleaned.clippedActionValues() > 0) {
            log.printf("ingest: clipped %d action values to +-%s%n", cleaned.clippedActionValues(),
                    DatasetSchema.ACTION_CLIP);
        }
        int shards = options.shardsFor(n);
        long episodes = DatasetStatistics.episodes(data);
        DatasetManifest.Statistics stats = DatasetStatistics.of(data);

        Path tmp = HadoopFiles.hiddenSibling(out.path, "tmp");
        boolean committed = false;
        try {
            log.printf("ingest: writing %d transitions (%d episodes) as %d Parquet shard(s) to %s%n", n, episodes,
                    shards, out.path);
            int[] bounds = shardBounds(n, shards);
            long tw = System.nanoTime();
            writeParquet(spark, data, bounds, tmp);
            log.printf(Locale.ROOT, "ingest: Parquet written in %.1f s (statistics took %.1f s)%n",
                    (System.nanoTime() - tw) / 1e9, (tw - t0) / 1e9);
            List<DatasetManifest.Shard> shardList = tidyShards(out.fs, tmp, bounds, generation());
            DatasetManifest manifest = new DatasetManifest(
                    DatasetSchema.SCHEMA_VERSION,
                    Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                    WRITER,
                    source,
                    source.format(),
                    new DatasetManifest.Counts(n, episodes, cleaned.droppedInvalid(), cleaned.clippedActionValues()),
                    data.obsDim(),
                    data.actionDim(),
                    stats,
                    DatasetManifest.ActionBounds.clip(data.actionDim()),
                    shardList,
                    options.toManifestMap());
            manifest.write(out.fs, tmp);
            out.commit(tmp, options.overwrite(), options.input());
            committed = true;
            double writeSeconds = (System.nanoTime() - t0) / 1e9;
            IngestResult result = new IngestResult(out.path.toString(), manifest, readSeconds, writeSeconds);
            log.printf(Locale.ROOT, "ingest: wrote %s (%d transitions, %d episodes, %d shards) in %.1f s "
                    + "(read %.1f s, write %.1f s; %.0f transitions/s)%n", out.path, n, episodes, shards,
                    result.totalSeconds(), readSeconds, writeSeconds, result.transitionsPerSecond());
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + out.path + " failed: " + e.getMessage(), e);
        } finally {
            if (!committed) out.deleteQuietly(tmp);
        }
    }

    /** Balanced contiguous row ranges: shard s holds rows [bounds[s], bounds[s+1]). */
    static int[] shardBounds(int n, int shards) {
        int[] b = new int[shards + 1];
        for (int s = 0; s <= shards; s++) b[s] = (int) ((long) n * s / shards);
        return b;
    }

    private static void writeParquet(SparkSession spark, TransitionData data, int[] bounds, Path dir) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<ColumnBuffers> columns = jsc.broadcast(new ColumnBuffers(data));
        try {
            int shards = bounds.length - 1;
            List<Integer> ids = new ArrayList<>(shards);
            for (int s = 0; s < shards; s++) ids.add(s);
            // One element per slice, so partition s is shard s and writes one file, part-<s>-....
            JavaRDD<Row> rows = jsc.parallelize(ids, shards).flatMap(new ShardRows(columns, bounds));
            var writer = spark.createDataFrame(rows, DatasetSchema.SCHEMA)
                    .write()
                    .mode(SaveMode.ErrorIfExists); // compression: spark.sql.parquet.compression.codec (snappy)
            // Continuous features almost never fit a dictionary; trying one first only costs time.
            for (String column : List.of(DatasetSchema.OBSERVATIONS, DatasetSchema.ACTIONS,
                    DatasetSchema.NEXT_OBSERVATIONS)) {
                writer = writer.option("parquet.enable.dictionary#" + column + ".list.element", "false");
            }
            writer.parquet(dir.toString());
        } finally {
            columns.destroy();
        }
    }

    /** Rows of one shard, built lazily from the broadcast buffers. */
    private static final class ShardRows implements FlatMapFunction<Integer, Row> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<ColumnBuffers> columns;
        private final int[] bounds;

        ShardRows(Broadcast<ColumnBuffers> columns, int[] bounds) {
            this.columns = columns;
            this.bounds = bounds;
        }

        @Override
        public Iterator<Row> call(Integer shard) {
            ColumnBuffers c = columns.value();
            int start = bounds[shard];
            int end = bounds[shard + 1];
            int od = c.obsDim;
            int ad = c.actionDim;
            return new Iterator<>() {
                int i = start;

                @Override
                public boolean hasNext() {
                    return i < end;
                }

                @Override
                public Row next() {
                    if (i >= end) throw new NoSuchElementException();
                    int r = i++;
                    return RowFactory.create(
                            java.util.Arrays.copyOfRange(c.observations, r * od, (r + 1) * od),
                            java.util.Arrays.copyOfRange(c.actions, r * ad, (r + 1) * ad),
                            c.rewards[r],
                            c.masks[r],
                            c.terminals[r],
                            java.util.Arrays.copyOfRange(c.nextObservations, r * od, (r + 1) * od),
                            c.episodeIds[r],
                            c.stepIndices[r]);
                }
            };
        }
    }

    /**
     * Renames Spark's {@code part-<s>-<uuid>-c000.snappy.parquet} to {@code part-<s>.parquet} and removes
     * the job's marker files, so the shard names are stable and the manifest lists exactly what is there.
     */
    /**
     * A token that makes this write's shard names differ from any earlier version's, so that replacing a dataset
     * never changes a file an older manifest lists: readers going by the manifest see the old or the new dataset.
     */
    private static String generation() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    private static List<DatasetManifest.Shard> tidyShards(FileSystem fs, Path dir, int[] bounds, String generation)
            throws IOException {
        int shards = bounds.length - 1;
        Map<Integer, FileStatus> byIndex = new TreeMap<>();
        for (FileStatus st : fs.listStatus(dir)) {
            String name = st.getPath().getName();
            Matcher m = PART.matcher(name);
            if (m.matches()) {
                int s = Integer.parseInt(m.group(1));
                if (byIndex.put(s, st) != null) {
                    throw new IOException("Spark wrote more than one file for shard " + s + " in " + dir);
                }
            } else if (name.equals("_SUCCESS")) {
                fs.delete(st.getPath(), false);
            }
        }
        if (byIndex.size() != shards) {
            throw new IOException("expected " + shards + " Parquet files in " + dir + ", found " + byIndex.keySet());
        }
        List<DatasetManifest.Shard> out = new ArrayList<>(shards);
        for (int s = 0; s < shards; s++) {
            FileStatus st = byIndex.get(s);
            if (st == null) throw new IOException("no Parquet file for shard " + s + " in " + dir);
            String name = String.format(Locale.ROOT, "part-%05d-%s.parquet", s, generation);
            if (!fs.rename(st.getPath(), new Path(dir, name))) {
                throw new IOException("could not rename " + st.getPath() + " to " + name);
            }
            out.add(new DatasetManifest.Shard(name, bounds[s + 1] - bounds[s]));
        }
        return out;
    }

    /** The output directory on its file system, and the atomic commit into it. */
    private static final class Output {
        final FileSystem fs;
        final Path path;

        private Output(FileSystem fs, Path path) {
            this.fs = fs;
            this.path = path;
        }

        static Output resolve(String output, Configuration conf) {
            try {
                Path p = new Path(output);
                FileSystem fs = p.getFileSystem(conf);
                Path q = fs.makeQualified(p);
                if (q.getParent() == null) {
                    throw new DatasetException(output, "--output", "is a file system root; expected a directory "
                            + "path to create");
                }
                return new Output(fs, q);
            } catch (IOException | IllegalArgumentException e) {
                throw new DatasetException(output, "--output", "is not a usable output location ("
                        + e.getMessage() + ")", e);
            }
        }

        void refuseExisting(boolean overwrite, String input) {
            OutputGuard.check(fs, path, "--output", OUTPUT_KIND, overwrite,
                    input == null ? List.of() : List.of(new OutputGuard.Keep("the input", input)));
        }


        /**
         * Publishes {@code tmp} as the output, the manifest last (see {@link HadoopFiles#publishDirectory}); the
         * output is checked again first, in case something appeared there while the ingest ran.
         */
        void commit(Path tmp, boolean overwrite, String input) throws IOException {
            refuseExisting(overwrite, input);
            HadoopFiles.publishDirectory(fs, tmp, path, DatasetSchema.MANIFEST_FILE, OUTPUT_KIND.ownEntry());
        }

        void deleteQuietly(Path p) {
            try {
                fs.delete(p, true);
            } catch (IOException | RuntimeException ignored) {
                // a leftover hidden directory is harmless; the failure that got us here matters more
            }
        }
    }

    /** The input as a local file; a copy in a temp directory when it lives on another file system. */
    private static final class LocalInput implements AutoCloseable {
        final java.nio.file.Path path;
        final boolean remote;
        private final java.nio.file.Path tempDir;

        private LocalInput(java.nio.file.Path path, boolean remote, java.nio.file.Path tempDir) {
            this.path = path;
            this.remote = remote;
            this.tempDir = tempDir;
        }

        static LocalInput stage(String input, Configuration conf, PrintStream log) {
            URI uri;
            try {
                uri = new Path(input).toUri();
            } catch (IllegalArgumentException e) {
                throw new DatasetException(input, "--input", "is not a valid path or URI (" + e.getMessage() + ")", e);
            }
            String scheme = uri.getScheme();
            if (scheme == null) return new LocalInput(Paths.get(input), false, null);
            if (scheme.equals("file")) return new LocalInput(Paths.get(uri), false, null);
            java.nio.file.Path tempDir = null;
            try {
                Path src = new Path(uri);
                FileSystem fs = src.getFileSystem(conf);
                if (!fs.exists(src)) {
                    throw new DatasetException(input, null, "does not exist; expected a readable .npz or .hdf5 "
                            + "file or a Minari dataset directory");
                }
                if (fs.getFileStatus(src).isDirectory()) {
                    src = new Path(src, "data/main_data.hdf5");
                    if (!fs.exists(src)) {
                        throw new DatasetException(input, null, "is a directory without data/main_data.hdf5; "
                                + "expected a file, or a Minari dataset directory");
                    }
                }
                tempDir = Files.createTempDirectory("fql-ingest-");
                java.nio.file.Path local = tempDir.resolve(src.getName());
                log.printf("ingest: copying %s to %s%n", src, local);
                fs.copyToLocalFile(false, src, new Path(local.toUri()), true);
                return new LocalInput(local, true, tempDir);
            } catch (IOException e) {
                deleteTree(tempDir);
                throw new DatasetException(input, null, "could not be read (" + e.getMessage() + ")", e);
            } catch (RuntimeException e) {
                deleteTree(tempDir);
                throw e;
            }
        }

        @Override
        public void close() {
            deleteTree(tempDir);
        }

        private static void deleteTree(java.nio.file.Path dir) {
            if (dir == null) return;
            try (var walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a leftover temp copy is harmless
            }
        }
    }
}
