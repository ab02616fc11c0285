package org.fqlspark.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.testing.CliRun;
import org.fqlspark.testing.TestSpark;

/** {@code fql act} through the real command line: output, atomicity, refusals, bad input with exit code 2. */
class ActCommandTest {

    @TempDir
    Path dir;

    private static SparkSession spark;

    @BeforeAll
    static void session() {
        spark = TestSpark.session();
    }

    private Path checkpoint() throws IOException {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, FqlPolicyModelTest.OBS, FqlPolicyModelTest.ACT, 8);
        return PolicyFixtures.save(c, dir, "agent.fqlckpt");
    }

    private Path input(String name, Dataset<Row> rows) {
        Path path = dir.resolve(name);
        rows.write().parquet(path.toString());
        return path;
    }

    private Dataset<Row> rows(int n) {
        return FqlPolicyModelTest.frame(FqlPolicyModelTest.rows(n, 7));
    }

    private static CliRun act(String... args) {
        return CliRun.command("act", args);
    }

    @Test
    @Tag("spark4")   // in the Spark 4 line's subset (parent pom, profile spark4)
    void writesEveryInputRowWithItsActionAtomically() throws Exception {
        Path ckpt = checkpoint();
        Path in = input("states", rows(40));
        Files.writeString(in.resolve("manifest.json"), "{}");   // a dataset directory's manifest is skipped
        Path out = dir.resolve("acted");
        CliRun run = act("--checkpoint", ckpt.toString(), "--input", in.toString(), "--output", out.toString(), "--seed-column", "seed",
                "--policy", "flow-bc", "--exact");
        assertEquals(0, run.code(), run.err());
        assertTrue(Files.isRegularFile(out.resolve(ActJob.MARKER)));
        Dataset<Row> acted = spark.read().parquet(out.toString());
        assertEquals(List.of("id", "observations", "seed", "action"), List.of(acted.schema().fieldNames()));
        Map<Integer, float[]> actions = FqlPolicyModelTest.actionsById(acted);
        assertEquals(40, actions.size());
        FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(spark, ckpt.toString()).setSeedCol("seed").setPolicy("flow-bc").setExact(true);
        Map<Integer, float[]> expected = FqlPolicyModelTest.actionsById(model.transform(rows(40)));
        for (int id = 0; id < 40; id++) assertArrayEquals(expected.get(id), actions.get(id), "row " + id);
        assertNoTemporaries();

        // its own output: refused without --overwrite, replaced with it
        CliRun again = act("--checkpoint", ckpt.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(2, again.code(), again.err());
        assertTrue(again.err().contains("pass --overwrite"), again.err());
        CliRun overwrite = act("--checkpoint", ckpt.toString(), "--input", in.toString(), "--output", out.toString(), "--overwrite");
        assertEquals(0, overwrite.code(), overwrite.err());
        assertEquals(40, spark.read().parquet(out.toString()).count());
        assertNoTemporaries();
    }

    /** A QC-FQL checkpoint: the action column holds the chunk (h·A values), first_action the action to play now. */
    @Test
    void aChunkedCheckpointWritesChunksAndFirstActions() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY.with(org.fqlspark.agent.FqlConfig.HORIZON_LENGTH, 4),
                FqlPolicyModelTest.OBS, FqlPolicyModelTest.ACT, 8);
        Path ckpt = PolicyFixtures.save(c, dir, "chunked.fqlckpt");
        Path in = input("states", rows(12));
        Path out = dir.resolve("acted");
        CliRun run = act("--checkpoint", ckpt.toString(), "--input", in.toString(), "--output", out.toString(), "--seed-column", "seed",
                "--exact");
        assertEquals(0, run.code(), run.err());
        Dataset<Row> acted = spark.read().parquet(out.toString());
        assertEquals(List.of("id", "observations", "seed", "action", "first_action"), List.of(acted.schema().fieldNames()));
        Map<Integer, float[]> chunks = FqlPolicyModelTest.actionsById(acted);
        Map<Integer, float[]> first = FqlPolicyModelTest.actionsById(acted.drop("action").withColumnRenamed("first_action", "action"));
        for (int id = 0; id < 12; id++) {
            assertEquals(4 * FqlPolicyModelTest.ACT, chunks.get(id).length);
            assertArrayEquals(java.util.Arrays.copyOf(chunks.get(id), FqlPolicyModelTest.ACT), first.get(id));
        }
        String marker = Files.readString(out.resolve(ActJob.MARKER));
        assertTrue(marker.contains("\"horizon_length\" : 4") && marker.contains("\"first_action_column\" : \"first_action\""), marker);
        Path bare = dir.resolve("bare");
        assertEquals(0, act("--checkpoint", ckpt.toString(), "--input", in.toString(), "--output", bare.toString(),
                "--first-action-column", "").code());
        assertEquals(List.of("id", "observations", "seed", "action"), List.of(spark.read().parquet(bare.toString()).schema().fieldNames()));
    }

    @Test
    void refusesToReplaceWhatItDidNotWrite() throws Exception {
        Path ckpt = checkpoint();
        Path in = input("states", rows(5));
        Path foreign = Files.createDirectories(dir.resolve("foreign"));
        Files.writeString(foreign.resolve("notes.txt"), "keep me");
        CliRun run = act("--checkpoint", ckpt.toString(), "--input", in.toString(), "--output", foreign.toString(), "--overwrite");
        assertEquals(2, run.code(), run.err());
        assertTrue(run.err().contains("not recognisably a fql act output") && run.err().contains("nothing was touched"), run.err());
        assertEquals("keep me", Files.readString(foreign.resolve("notes.txt")));
        try (Stream<Path> s = Files.list(foreign)) {
            assertEquals(1, s.count());
        }

        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertEquals(2, act("--checkpoint", ckpt.toString(), "--input", in.toString(), "--output", file.toString()).code());
        assertEquals("x", Files.readString(file));

        Path empty = Files.createDirectories(dir.resolve("empty"));
        CliRun intoEmpty = act("--checkpoint", ckpt.toString(), "--input", in.toString(), "--output", empty.toString());
        assertEquals(0, intoEmpty.code(), intoEmpty.err());
        assertEquals(5, spark.read().parquet(empty.toString()).count());

        CliRun inside = act("--checkpoint", ckpt.toString(), "--input", in.toString(), "--output", in.resolve("out").toString());
        assertEquals(2, inside.code(), inside.err());
        assertNoTemporaries();
    }

    @Test
    void badInputExitsWithCodeTwoAndWritesNothing() throws Exception {
        Path ckpt = checkpoint();
        Path out = dir.resolve("never");
        Path wide = input("wide", rows(6).selectExpr("id", "concat(observations, array(cast(1 as float))) as observations", "seed"));
        CliRun run = act("--checkpoint", ckpt.toString(), "--input", wide.toString(), "--output", out.toString());
        assertEquals(2, run.code(), run.err());
        assertTrue(run.err().contains("6 of 6 rows have the wrong width (one has 4 values); the checkpoint's policy expects 3"), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());

        Path nan = input("nan", rows(6).selectExpr("id",
                "case when id = 2 then array(cast('NaN' as float), 0f, 0f) else observations end as observations", "seed"));
        run = act("--checkpoint", ckpt.toString(), "--input", nan.toString(), "--output", out.toString());
        assertEquals(2, run.code(), run.err());
        assertTrue(run.err().contains("1 of 6 rows hold NaN, infinite or null values"), run.err());

        Path missing = input("missing", rows(3).selectExpr("id", "observations as obs"));
        run = act("--checkpoint", ckpt.toString(), "--input", missing.toString(), "--output", out.toString());
        assertEquals(2, run.code(), run.err());
        assertTrue(run.err().contains("column 'observations' is missing"), run.err());

        Path ok = input("ok", rows(3));
        run = act("--checkpoint", ckpt.toString(), "--input", ok.toString(), "--output", out.toString(), "--seed-column", "nope");
        assertEquals(2, run.code(), run.err());
        run = act("--checkpoint", dir.resolve("no.fqlckpt").toString(), "--input", ok.toString(), "--output", out.toString());
        assertEquals(2, run.code(), run.err());
        assertTrue(run.err().contains("no.fqlckpt"), run.err());
        run = act("--checkpoint", ckpt.toString(), "--input", dir.resolve("nothing-here").toString(), "--output", out.toString());
        assertEquals(2, run.code(), run.err());
        assertTrue(run.err().contains("--input"), run.err());
        run = act("--checkpoint", ckpt.toString(), "--input", ok.toString(), "--output", out.toString(), "--policy", "greedy");
        assertEquals(2, run.code(), run.err());

        assertFalse(Files.exists(out));
        assertNoTemporaries();
    }

    private void assertNoTemporaries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-") || n.contains(".old-")).toList();
            assertEquals(List.of(), left, "temporaries left behind");
        }
    }
}
