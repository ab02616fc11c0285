package org.fqlspark.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.data.DatasetException;
import org.fqlspark.data.DatasetFormat;
import org.fqlspark.data.DatasetManifest;
import org.fqlspark.data.DatasetReader;
import org.fqlspark.data.DatasetSchema;
import org.fqlspark.data.DatasetStatistics;
import org.fqlspark.data.Fixtures;
import org.fqlspark.data.NpzWriter;
import org.fqlspark.data.ReadOptions;
import org.fqlspark.data.SourceInfo;
import org.fqlspark.data.SourceReaders;
import org.fqlspark.data.TestSpark;
import org.fqlspark.data.TransitionCleaner;
import org.fqlspark.data.TransitionData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ingest on Spark local[2]: round trips bit for bit, shards, manifest, atomic output. */
class IngestJobTest {

    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    Path dir;

    private final SparkSession spark = TestSpark.session();

    /** Float values a lossy path would change: signed zero, subnormals, extremes, NaN-adjacent bit patterns. */
    private static final float[] AWKWARD = {
        -0.0f, Float.MIN_VALUE, -Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 0.1f, 1e-30f,
        Math.nextUp(1f), 16777217f, (float) Math.PI, -123456.79f, 3.4e-38f
    };

    private static TransitionData awkwardData(int episodes, int steps, int od, int ad) {
        int n = episodes * steps;
        TransitionData d = TransitionData.zeros(n, od, ad);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < od; j++) {
                d.observations()[i * od + j] = AWKWARD[(i + j) % AWKWARD.length] * (j % 2 == 0 ? 1 : -1);
                d.nextObservations()[i * od + j] = AWKWARD[(i + 2 * j + 1) % AWKWARD.length];
            }
            for (int j = 0; j < ad; j++) d.actions()[i * ad + j] = (float) Math.sin(i * 7 + j) * 0.999f;
            d.rewards()[i] = AWKWARD[(3 * i) % AWKWARD.length];
            d.masks()[i] = i % 5 == 4 ? 0f : 1f;
            d.terminals()[i] = i % steps == steps - 1 ? 1f : 0f;
            d.episodeIds()[i] = 10L * (i / steps) + 3;
            d.stepIndices()[i] = i % steps;
        }
        return d;
    }

    private static Path exportedNpz(Path file, TransitionData d) throws IOException {
        return new NpzWriter()
                .f32("observations", d.observations(), d.size(), d.obsDim())
                .f32("actions", d.actions(), d.size(), d.actionDim())
                .f32("next_observations", d.nextObservations(), d.size(), d.obsDim())
                .f32("rewards", d.rewards())
                .f32("masks", d.masks())
                .f32("terminals", d.terminals())
                .write(file);
    }

    @Test
    void npzRoundTripsBitForBitThroughParquet() throws IOException {
        TransitionData d = awkwardData(7, 9, 5, 3);
        Path in = exportedNpz(dir.resolve("awkward.npz"), d);
        String out = dir.resolve("out").toUri().toString(); // a file:// URI
        IngestResult r = IngestJob.run(spark, IngestOptions.of(in.toString(), out).withShards(3), QUIET);

        DatasetReader.Loaded back = DatasetReader.read(spark, out);
        TransitionData expected = SourceReaders.readClean(in, null, ReadOptions.DEFAULTS, false).data();
        Fixtures.assertSameData(expected, back.data());
        // the exported form keeps values; episode ids are renumbered from the boundaries
        Fixtures.assertBitsEqual(d.observations(), back.data().observations(), "observations vs source");
        Fixtures.assertBitsEqual(d.nextObservations(), back.data().nextObservations(), "next vs source");
        Fixtures.assertBitsEqual(d.rewards(), back.data().rewards(), "rewards vs source");
        assertEquals(r.manifest().toJson(), back.manifest().toJson());

        // and the Parquet itself, read with plain Spark, holds the same floats
        List<Row> rows = spark.read().parquet(dir.resolve("out").resolve(r.manifest().shards().get(1).file()).toString())
                .orderBy(DatasetSchema.EPISODE_ID, DatasetSchema.STEP_INDEX).collectAsList();
        int first = IngestJob.shardBounds(d.size(), 3)[1];
        Row row = rows.get(0);
        List<Float> obs = row.getList(row.fieldIndex(DatasetSchema.OBSERVATIONS));
        for (int j = 0; j < 5; j++) {
            assertEquals(Float.floatToRawIntBits(d.observations()[first * 5 + j]), Float.floatToRawIntBits(obs.get(j)));
        }
    }

    @Test
    void shardsAndManifestDescribeExactlyWhatWasWritten() throws IOException {
        TransitionData d = awkwardData(4, 5, 3, 2);
        Path in = exportedNpz(dir.resolve("src.npz"), d);
        Path out = dir.resolve("ds");
        IngestResult r = IngestJob.run(spark, IngestOptions.of(in.toString(), out.toString()).withShards(3), QUIET);
        DatasetManifest m = r.manifest();

        try (Stream<Path> files = Files.list(out)) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc"))
                    .sorted().collect(Collectors.toList());
            assertEquals(4, names.size(), names.toString());
            assertEquals("manifest.json", names.get(0));
            // shard s of this write: part-<s>-<token of this write>.parquet, so a replacement never reuses a name
            String token = names.get(1).substring("part-00000-".length(), "part-00000-".length() + 8);
            assertEquals(List.of("manifest.json", "part-00000-" + token + ".parquet", "part-00001-" + token + ".parquet",
                    "part-00002-" + token + ".parquet"), names);
        }
        try (Stream<Path> siblings = Files.list(dir)) {
            assertEquals(List.of("ds", "src.npz"), siblings.map(p -> p.getFileName().toString()).sorted()
                    .collect(Collectors.toList()), "no temporary directories left");
        }
        assertEquals(List.of(6L, 7L, 7L), m.shards().stream().map(DatasetManifest.Shard::rows).collect(Collectors.toList()));
        for (int s = 0; s < 3; s++) assertTrue(m.shards().get(s).file().matches("part-0000" + s + "-[0-9a-f]{8}\\.parquet"));
        for (DatasetManifest.Shard s : m.shards()) {
            assertEquals(s.rows(), spark.read().parquet(out.resolve(s.file()).toString()).count());
        }
        assertEquals(DatasetSchema.SCHEMA_VERSION, m.schemaVersion());
        assertEquals(in.toString(), m.source().path());
        assertEquals(SourceReaders.sha256(in), m.source().sha256());
        assertEquals("npz", m.format());
        assertEquals(new DatasetManifest.Counts(20, 4, 0, 0), m.counts());
        assertEquals(3, m.obsDim());
        assertEquals(2, m.actionDim());
        DatasetManifest.Statistics expected = DatasetStatistics.of(d);
        assertArrayEquals(expected.observations().mean(), m.statistics().observations().mean());
        assertArrayEquals(expected.observations().std(), m.statistics().observations().std());
        assertArrayEquals(expected.actions().min(), m.statistics().actions().min());
        assertArrayEquals(expected.rewards().max(), m.statistics().rewards().max());
        assertEquals(3, m.ingestOptions().get("shards"));
        assertEquals(m.toJson(), DatasetManifest.fromJson(Files.readString(out.resolve("manifest.json")), "m").toJson());
        assertEquals(20, DatasetReader.readDataFrame(spark, out.toString()).count());
    }

    @Test
    void d4rlAndMinariIngestMatchTheirReadersBitForBit() {
        for (String name : List.of("antmaze-h5py-tiny.hdf5", "minari-h5py-tiny.hdf5")) {
            Path in = Fixtures.committed(name);
            String out = dir.resolve(name + ".out").toString();
            IngestResult r = IngestJob.run(spark, IngestOptions.of(in.toString(), out), QUIET);
            TransitionCleaner.Result expected = SourceReaders.readClean(in, null, ReadOptions.DEFAULTS, false);
            Fixtures.assertSameData(expected.data(), DatasetReader.read(spark, out).data());
            assertEquals(expected.clippedActionValues(), r.manifest().counts().clippedActionValues());
        }
        DatasetManifest d4rl = DatasetReader.readManifest(spark, dir.resolve("antmaze-h5py-tiny.hdf5.out").toString());
        assertEquals("d4rl", d4rl.format());
        // kept rows 0, 1, 3, 4: 1.5, -2.0, -1.0 and 1.0 lie outside ±(1 - 1e-5); row 2's 0.99999 was a timeout
        assertEquals(4, d4rl.counts().clippedActionValues());
        assertEquals("-1.0", d4rl.source().details().get("reward_shift"));
        assertEquals("minari",
                DatasetReader.readManifest(spark, dir.resolve("minari-h5py-tiny.hdf5.out").toString()).format());
    }

    @Test
    void inMemoryDataIsWrittenThroughTheSamePath() {
        TransitionData d = awkwardData(3, 4, 2, 2);
        String out = dir.resolve("generated").toString();
        SourceInfo src = SourceInfo.generated("pointmaze-medium-navigate", Map.of("seed", "1"));
        IngestResult r = IngestJob.write(spark, d, src, IngestOptions.forOutput(out), QUIET);
        assertEquals("generated", r.manifest().format());
        assertNull(r.manifest().source().sha256());
        assertEquals(1, r.manifest().shards().size());
        Fixtures.assertSameData(d, DatasetReader.read(spark, out).data());
    }

    @Test
    void overwriteReplacesAnExistingDataset() throws IOException {
        Path out = dir.resolve("ds");
        Path a = Fixtures.rawNpz(dir.resolve("a.npz"));
        IngestJob.run(spark, IngestOptions.of(a.toString(), out.toString()), QUIET);
        Path b = exportedNpz(dir.resolve("b.npz"), awkwardData(2, 3, 5, 3));
        assertThrows(DatasetException.class,
                () -> IngestJob.run(spark, IngestOptions.of(b.toString(), out.toString()), QUIET));
        assertEquals(5, DatasetReader.readManifest(spark, out.toString()).counts().transitions(), "untouched");
        List<String> oldShards = DatasetReader.readManifest(spark, out.toString()).shards().stream()
                .map(DatasetManifest.Shard::file).collect(Collectors.toList());
        IngestJob.run(spark, IngestOptions.of(b.toString(), out.toString()).withOverwrite(true), QUIET);
        assertEquals(6, DatasetReader.readManifest(spark, out.toString()).counts().transitions());
        for (String old : oldShards) assertFalse(Files.exists(out.resolve(old)), "the old version's shard " + old + " is gone");
        try (Stream<Path> siblings = Files.list(dir)) {
            assertTrue(siblings.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no hidden leftovers");
        }
    }

    @Test
    void aFailureWhileSparkWritesLeavesNothingBehind() throws IOException {
        Path in = Fixtures.rawNpz(dir.resolve("a.npz"));
        TransitionData d = SourceReaders.readClean(in, null, ReadOptions.DEFAULTS, false).data();
        Path out = dir.resolve("ds");
        String key = "spark.sql.parquet.compression.codec";
        // A codec whose classes are absent makes the Parquet tasks fail after the temporary directory exists.
        spark.conf().set(key, "lzo");
        try {
            Exception e = assertThrows(Exception.class, () -> IngestJob.write(spark, d,
                    SourceInfo.generated("x", Map.of()), IngestOptions.forOutput(out.toString()), QUIET));
            assertFalse(e instanceof DatasetException, "a write failure, not bad input: " + e);
        } finally {
            spark.conf().unset(key);
        }
        assertFalse(Files.exists(out));
        try (Stream<Path> siblings = Files.list(dir)) {
            assertEquals(List.of("a.npz"), siblings.map(p -> p.getFileName().toString()).collect(Collectors.toList()));
        }
    }

    @Test
    void inputAndOutputOnAnotherHadoopFileSystem() throws IOException {
        spark.sparkContext().hadoopConfiguration().set("fs.other.impl", OtherSchemeFileSystem.class.getName());
        spark.sparkContext().hadoopConfiguration().setBoolean("fs.other.impl.disable.cache", true);
        Path src = Files.copy(Fixtures.committed("minari-h5py-tiny.hdf5"), dir.resolve("main_data.hdf5"));
        String input = OtherSchemeFileSystem.SCHEME + "://" + src.toAbsolutePath();
        String output = OtherSchemeFileSystem.SCHEME + "://" + dir.resolve("remote-out").toAbsolutePath();
        IngestResult r = IngestJob.run(spark, IngestOptions.of(input, output).withShards(2), QUIET);
        assertTrue(r.output().startsWith("other:"), r.output());
        assertEquals(input, r.manifest().source().path(), "the manifest names the URI given, not the staged copy");
        assertEquals(SourceReaders.sha256(src), r.manifest().source().sha256());
        assertTrue(Files.exists(dir.resolve("remote-out").resolve("manifest.json")));
        Fixtures.assertSameData(SourceReaders.readClean(src, null, ReadOptions.DEFAULTS, false).data(),
                DatasetReader.read(spark, output).data());
    }

    @Test
    void aDirectoryWithoutManifestIsNotADataset() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("half-written"));
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetReader.read(spark, empty.toString()));
        assertEquals(DatasetSchema.MANIFEST_FILE, e.key());
        assertFalse(e.getMessage().isEmpty());
    }

    @Test
    void formatOptionOverridesDetection() throws IOException {
        Path weird = Files.copy(Fixtures.committed("antmaze-h5py-tiny.hdf5"), dir.resolve("antmaze.bin"));
        IngestResult r = IngestJob.run(spark, IngestOptions.of(weird.toString(), dir.resolve("o").toString())
                .withFormat(DatasetFormat.D4RL), QUIET);
        assertEquals(4, r.transitions());
    }
}
