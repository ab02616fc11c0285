package org.fqlspark.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.eval.Policy;
import org.fqlspark.testing.TestSpark;

/** The spark.ml model acts like the agent, row by row, whatever the partitioning, and survives save/load. */
class FqlPolicyModelTest {

    static final int OBS = 3;
    static final int ACT = 2;

    @TempDir
    Path dir;

    private static SparkSession spark;

    @BeforeAll
    static void session() {
        spark = TestSpark.session();
    }

    static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("observations", DataTypes.createArrayType(DataTypes.FloatType, false), true)
            .add("seed", DataTypes.LongType, true);

    /** {@code rows} as a DataFrame of {@link #SCHEMA} on the shared session. */
    static Dataset<Row> frame(List<Row> rows) {
        return TestSpark.session().createDataFrame(rows, SCHEMA);
    }

    /** n rows: id, observation ~ N(0, 2²), seed = 1000 + id. */
    static List<Row> rows(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] obs = PolicyFixtures.gaussian(OBS, 2.0, rng);
            rows.add(RowFactory.create(i, obs, 1000L + i));
        }
        return rows;
    }

    static Map<Integer, float[]> actionsById(Dataset<Row> acted) {
        Map<Integer, float[]> out = new HashMap<>();
        for (Row r : acted.select("id", "action").collectAsList()) {
            List<Float> a = r.getList(1);
            float[] f = new float[a.size()];
            for (int i = 0; i < f.length; i++) f[i] = a.get(i);
            out.put(r.getInt(0), f);
        }
        return out;
    }

    @Test
    void actionsEqualTheAgentsWithEachRowsSeedAndDoNotDependOnPartitioning() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, OBS, ACT, 8);
        Path file = PolicyFixtures.save(c, dir, "agent.fqlckpt");
        List<Row> rows = rows(1100, 1);   // more than one batch of PolicyRows.BATCH_ROWS
        FqlAgent agent = c.restore(new org.fqlspark.tensor.JavaTensorOps());
        for (Policy policy : Policy.values()) {
            for (boolean exact : new boolean[] {true, false}) {
                FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(spark, file.toString()).setSeedCol("seed")
                        .setPolicy(policy.flag()).setExact(exact);
                Map<Integer, float[]> one = actionsById(model.transform(frame(rows).repartition(1)));
                Map<Integer, float[]> five = actionsById(model.transform(frame(rows).repartition(5)));
                assertEquals(rows.size(), one.size());
                int clipped = 0;
                String what = policy.flag() + (exact ? " exact" : " default ops");
                for (Row r : rows) {
                    int id = r.getInt(0);
                    float[] noise = PolicyRows.noiseForSeed(r.getLong(2), ACT);
                    float[] expected = PolicyWeights.act(agent, policy, (float[]) r.get(1), noise, 1);
                    if (exact) {
                        assertArrayEquals(expected, one.get(id), what + " row " + id + ": the agent alone on this row");
                        assertArrayEquals(one.get(id), five.get(id), what + " row " + id + ": 1 vs 5 partitions");
                    } else {
                        assertArrayEquals(expected, one.get(id), 1e-6f, what + " row " + id);
                        assertArrayEquals(one.get(id), five.get(id), 1e-6f, what + " row " + id + ": 1 vs 5 partitions");
                    }
                    for (float v : one.get(id)) {
                        assertTrue(v >= -1f && v <= 1f);
                        if (Math.abs(v) == 1f) clipped++;
                    }
                }
                assertTrue(clipped > 0, what + ": some actions should reach the clip");
            }
        }
    }

    /**
     * A QC-FQL checkpoint (chunks of 3): the action column holds the agent's whole chunk for the row's h·A noise draws,
     * first_action its first A values; the column can be renamed or left out, and survives save and load.
     */
    @Test
    void aChunkedPolicyWritesTheChunkAndItsFirstAction() throws Exception {
        int h = 3;
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY.with(org.fqlspark.agent.FqlConfig.HORIZON_LENGTH, h), OBS, ACT, 8);
        Path file = PolicyFixtures.save(c, dir, "chunked.fqlckpt");
        FqlAgent agent = c.restore(new org.fqlspark.tensor.JavaTensorOps());
        List<Row> rows = rows(30, 6);
        for (Policy policy : Policy.values()) {
            FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(spark, file.toString()).setSeedCol("seed").setPolicy(policy.flag())
                    .setExact(true);
            assertEquals(h, model.horizon());
            Dataset<Row> acted = model.transform(frame(rows).repartition(2));
            assertEquals(List.of("id", "observations", "seed", "action", "first_action"), List.of(acted.schema().fieldNames()));
            Map<Integer, float[]> chunks = actionsById(acted);
            Map<Integer, float[]> first = actionsById(acted.drop("action").withColumnRenamed("first_action", "action"));
            Map<Integer, float[]> sliced = actionsById(acted.selectExpr("id", "slice(action, 1, " + ACT + ") as action"));
            for (Row r : rows) {
                int id = r.getInt(0);
                float[] noise = PolicyRows.noiseForSeed(r.getLong(2), h * ACT);
                float[] expected = PolicyWeights.act(agent, policy, (float[]) r.get(1), noise, 1);
                assertEquals(h * ACT, expected.length);
                assertArrayEquals(expected, chunks.get(id), policy.flag() + " row " + id + ": the whole chunk");
                assertArrayEquals(java.util.Arrays.copyOf(expected, ACT), first.get(id), "row " + id + ": its first action");
                assertArrayEquals(first.get(id), sliced.get(id), "first_action is slice(action, 1, A)");
            }
        }
        FqlPolicyModel none = FqlPolicyModel.fromCheckpoint(spark, file.toString()).setFirstActionCol("");
        assertEquals(List.of("id", "observations", "seed", "action"),
                List.of(none.transform(frame(rows)).schema().fieldNames()));
        FqlPolicyModel renamed = FqlPolicyModel.fromCheckpoint(spark, file.toString()).setSeedCol("seed").setFirstActionCol("now");
        String saved = dir.resolve("chunked-model").toString();
        renamed.write().save(saved);
        FqlPolicyModel loaded = FqlPolicyModel.load(saved);
        assertEquals("now", loaded.getFirstActionCol());
        assertTrue(List.of(loaded.transform(frame(rows)).schema().fieldNames()).contains("now"));
        assertThrows(PolicyInputException.class, () -> renamed.setFirstActionCol("seed").transform(frame(rows)));
        // an FQL policy adds no first-action column
        Checkpoint plain = PolicyFixtures.checkpoint(PolicyFixtures.TINY, OBS, ACT, 8);
        FqlPolicyModel fql = FqlPolicyModel.fromCheckpoint(spark, PolicyFixtures.save(plain, dir, "plain.fqlckpt").toString());
        assertEquals(List.of("id", "observations", "seed", "action"),
                List.of(fql.transform(frame(rows)).schema().fieldNames()));
    }

    @Test
    void withoutASeedColumnTheModelSeedDecidesTheNoise() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, OBS, ACT, 8);
        Path file = PolicyFixtures.save(c, dir, "agent.fqlckpt");
        Dataset<Row> df = frame(rows(50, 2)).repartition(2).cache();
        FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(spark, file.toString());
        Map<Integer, float[]> a = actionsById(model.setSeed(1).transform(df));
        Map<Integer, float[]> again = actionsById(model.setSeed(1).transform(df));
        Map<Integer, float[]> other = actionsById(model.setSeed(2).transform(df));
        for (int id = 0; id < 50; id++) {
            assertArrayEquals(a.get(id), again.get(id), "same seed, same partitioning: same actions");
        }
        assertNotEquals(java.util.Arrays.toString(a.get(0)), java.util.Arrays.toString(other.get(0)));
        df.unpersist();
    }

    @Test
    void doubleObservationsAndIntSeedsAreAccepted() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, OBS, ACT, 8);
        Path file = PolicyFixtures.save(c, dir, "agent.fqlckpt");
        Dataset<Row> df = frame(rows(10, 3))
                .selectExpr("id", "cast(observations as array<double>) as observations", "cast(seed as int) as seed");
        FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(spark, file.toString()).setSeedCol("seed");
        Map<Integer, float[]> fromDouble = actionsById(model.transform(df));
        Map<Integer, float[]> fromFloat = actionsById(model.transform(frame(rows(10, 3))));
        for (int id = 0; id < 10; id++) assertArrayEquals(fromFloat.get(id), fromDouble.get(id));
    }

    @Test
    void saveAndLoadGiveTheSameModel() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, OBS, ACT, 8);
        Path file = PolicyFixtures.save(c, dir, "agent.fqlckpt");
        FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(spark, file.toString()).setSeedCol("seed").setPolicy("flow-bc")
                .setOutputCol("action").setExact(true);
        String saved = dir.resolve("model").toString();
        model.write().save(saved);
        FqlPolicyModel loaded = FqlPolicyModel.load(saved);
        assertEquals(model.uid(), loaded.uid());
        assertEquals("flow-bc", loaded.getPolicy());
        assertEquals("seed", loaded.getSeedCol());
        assertTrue(loaded.getExact());
        Dataset<Row> df = frame(rows(20, 4));
        Map<Integer, float[]> before = actionsById(model.transform(df));
        Map<Integer, float[]> after = actionsById(loaded.transform(df));
        for (int id = 0; id < 20; id++) assertArrayEquals(before.get(id), after.get(id));
        assertThrows(java.io.IOException.class, () -> model.write().save(saved), "an existing path needs overwrite()");
        model.write().overwrite().save(saved);
        FqlPolicyModel copy = model.copy(new org.apache.spark.ml.param.ParamMap());
        assertEquals("flow-bc", copy.getPolicy());

        org.apache.spark.ml.PipelineModel pipeline = new org.apache.spark.ml.Pipeline()
                .setStages(new org.apache.spark.ml.PipelineStage[] {model}).fit(df);
        String pipelinePath = dir.resolve("pipeline").toString();
        pipeline.write().save(pipelinePath);
        org.apache.spark.ml.PipelineModel reloaded = org.apache.spark.ml.PipelineModel.load(pipelinePath);
        Map<Integer, float[]> viaPipeline = actionsById(reloaded.transform(df));
        for (int id = 0; id < 20; id++) assertArrayEquals(before.get(id), viaPipeline.get(id), "through a saved Pipeline");
    }

    /**
     * The model reader checks a saved checkpoint as {@code Checkpoint.readBytes} does, and bounds the metadata, before
     * reading them whole (issue 21, item 7): a 64 MiB file that is not a checkpoint is refused after its first bytes.
     */
    @Test
    void theReaderBoundsWhatItReadsBeforeReadingIt() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, OBS, ACT, 8);
        FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(spark, PolicyFixtures.save(c, dir, "agent.fqlckpt").toString());
        String saved = dir.resolve("model").toString();
        model.write().save(saved);
        Path checkpoint = dir.resolve("model").resolve(FqlPolicyModel.CHECKPOINT);
        java.nio.file.Files.delete(checkpoint);
        java.nio.file.Files.deleteIfExists(dir.resolve("model").resolve("." + FqlPolicyModel.CHECKPOINT + ".crc"));
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(checkpoint.toFile(), "rw")) {
            f.setLength(64L << 20);
            f.write("NOTACKPT".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        long before = localBytesRead();
        RuntimeException notOne = assertThrows(RuntimeException.class, () -> FqlPolicyModel.load(saved));
        assertTrue(notOne instanceof PolicyInputException && notOne.getMessage().contains(FqlPolicyModel.CHECKPOINT)
                && notOne.getMessage().contains("magic"), notOne.toString());
        assertTrue(localBytesRead() - before < 1 << 20, "read " + (localBytesRead() - before) + " bytes of it");

        // a file with the magic but larger than any checkpoint this build reads (sparse: no disk) is refused by its size
        java.nio.file.Files.delete(checkpoint);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(checkpoint.toFile(), "rw")) {
            f.setLength(Checkpoint.MAX_BYTES + 1);
            f.write("FQLCKPT\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        long again = localBytesRead();
        RuntimeException tooLarge = assertThrows(RuntimeException.class, () -> FqlPolicyModel.load(saved));
        assertTrue(tooLarge instanceof PolicyInputException && tooLarge.getMessage().contains(String.valueOf(Checkpoint.MAX_BYTES + 1)),
                tooLarge.toString());
        assertTrue(localBytesRead() - again < 1 << 20, "read " + (localBytesRead() - again) + " bytes of it");

        Path metadata = dir.resolve("model").resolve(FqlPolicyModel.METADATA);
        java.nio.file.Files.delete(metadata);
        java.nio.file.Files.deleteIfExists(dir.resolve("model").resolve("." + FqlPolicyModel.METADATA + ".crc"));
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(metadata.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        RuntimeException big = assertThrows(RuntimeException.class, () -> FqlPolicyModel.load(saved));
        assertTrue(big instanceof PolicyInputException && big.getMessage().contains(FqlPolicyModel.METADATA)
                && big.getMessage().contains((64L << 20) + " bytes"), big.toString());
    }

    /** Bytes read so far through Hadoop's local file system, in this JVM. */
    static long localBytesRead() {
        return org.apache.hadoop.fs.FileSystem.getAllStatistics().stream().filter(s -> "file".equals(s.getScheme()))
                .mapToLong(org.apache.hadoop.fs.FileSystem.Statistics::getBytesRead).sum();
    }

    @Test
    void badInputIsRefusedNamingTheColumn() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, OBS, ACT, 8);
        Path file = PolicyFixtures.save(c, dir, "agent.fqlckpt");
        FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(spark, file.toString());
        Dataset<Row> df = frame(rows(5, 5));

        PolicyInputException missing = assertThrows(PolicyInputException.class, () -> model.transform(df.drop("observations")));
        assertTrue(missing.getMessage().contains("column 'observations' is missing"), missing.getMessage());
        PolicyInputException type = assertThrows(PolicyInputException.class,
                () -> model.transform(df.selectExpr("id", "cast(id as string) as observations")));
        assertTrue(type.getMessage().contains("expected array<float>"), type.getMessage());
        PolicyInputException seed = assertThrows(PolicyInputException.class, () -> model.setSeedCol("nope").transform(df));
        assertTrue(seed.getMessage().contains("seed column 'nope'"), seed.getMessage());
        model.setSeedCol("");
        assertThrows(PolicyInputException.class, () -> model.setOutputCol("id").transform(df));
        model.setOutputCol("action");
        assertThrows(IllegalArgumentException.class, () -> model.setPolicy("greedy"));

        Dataset<Row> wide = df.selectExpr("id", "concat(observations, array(cast(1 as float))) as observations");
        Exception e = assertThrows(Exception.class, () -> model.transform(wide).collectAsList());
        assertTrue(rootMessage(e).contains("a row has 4 values, the policy expects 3"), rootMessage(e));
        Dataset<Row> nan = df.selectExpr("id", "array(cast('NaN' as float), 0f, 0f) as observations");
        e = assertThrows(Exception.class, () -> model.transform(nan).collectAsList());
        assertTrue(rootMessage(e).contains("non-finite"), rootMessage(e));

        IllegalArgumentException checkpoint = assertThrows(IllegalArgumentException.class,
                () -> FqlPolicyModel.fromCheckpoint(spark, dir.resolve("none.fqlckpt").toString()));
        assertTrue(checkpoint.getMessage().contains("none.fqlckpt"), checkpoint.getMessage());
    }

    static String rootMessage(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof PolicyInputException) return c.getMessage();
        }
        return String.valueOf(t);
    }
}
