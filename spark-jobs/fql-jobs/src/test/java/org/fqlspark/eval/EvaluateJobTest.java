package org.fqlspark.eval;

import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.env.MazeMap;
import org.fqlspark.env.MazeRenderer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluateJobTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void session() {
        spark = TestSpark.session();
    }

    private EvalResult run(EvalOptions options) {
        return EvaluateJob.run(spark, options, null);
    }

    @Test
    void rowsDoNotDependOnThePartitioning() throws IOException {
        Path checkpoint = EvalFixtures.pointMazeCheckpoint(dir);
        EvalOptions options = EvalOptions.of(checkpoint.toString(), "pointmaze-medium", 6, dir.resolve("p1").toString())
                .withSeed(123).withMaxEpisodeSteps(40).withPartitions(1);
        EvalResult one = run(options);
        EvalResult three = run(options.withPartitions(3).withOutput(dir.resolve("p3").toString()));
        assertEquals(6, one.episodes().size());
        assertEquals(one.episodes(), three.episodes());
        assertEquals(1, one.summary().partitions());
        assertEquals(3, three.summary().partitions());
        // What was written is what was returned, row for row.
        assertEquals(one.episodes(), readParquet(dir.resolve("p1")));
        assertEquals(readParquet(dir.resolve("p1")), readParquet(dir.resolve("p3")));
        // Another seed gives other episodes.
        EvalResult other = run(options.withSeed(124).withOutput(dir.resolve("other").toString()));
        assertFalse(other.episodes().equals(one.episodes()));
    }

    @Test
    void randomAgentOnThePointMazeGivesSaneRowsSummaryAndPicture() throws IOException {
        Path checkpoint = EvalFixtures.pointMazeCheckpoint(dir);
        Path out = dir.resolve("eval");
        EvalResult result = run(EvalOptions.of(checkpoint.toString(), "pointmaze-medium", 4, out.toString())
                .withSeed(5).withMaxEpisodeSteps(150).withPartitions(2));
        List<EpisodeResult> rows = result.episodes();
        assertEquals(4, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            EpisodeResult row = rows.get(i);
            assertEquals(i, row.episode());
            assertEquals(EpisodeSeeds.environmentSeed(5, i), row.seed());
            assertFalse(row.failed());
            assertNull(row.error());
            assertTrue(row.length() >= 1 && row.length() <= 150, "length " + row.length());
            // Reward −1 per step until the goal, 0 on the step that reaches it (which ends the episode).
            assertEquals(-(row.length() - (row.success() ? 1 : 0)), row.episodeReturn(), 0.0);
            if (!row.success()) assertEquals(150, row.length(), "without success only the step cap ends an episode");
        }

        EvalSummary s = result.summary();
        EpisodeStatistics expected = EpisodeStatistics.of(rows);
        assertEquals(4, s.episodesCompleted());
        assertEquals(0, s.episodesFailed());
        assertEquals(expected.successRate(), s.successRate());
        assertEquals(expected.meanReturn(), s.meanReturn(), 1e-12);
        assertEquals(100 * s.successRate(), s.normalizedScore(), 1e-12);

        JsonNode json = JSON.readTree(out.resolve(EvaluateJob.SUMMARY_JSON).toFile());
        for (String key : List.of("format", "format_version", "env", "env_id", "checkpoint", "checkpoint_step", "episodes",
                "episodes_completed", "episodes_failed", "success_rate", "success_rate_percent", "success_rate_ci95", "mean_return",
                "return_std", "return_ci95", "return_ci_method", "mean_length", "env_steps", "normalized_score",
                "normalized_score_definition", "reference_min_return", "reference_max_return", "reference_source", "seed",
                "partitions", "max_episode_steps", "policy", "elapsed_seconds", "failures", "versions")) {
            assertTrue(json.has(key), "summary.json has " + key);
        }
        assertEquals("pointmaze-medium", json.get("env").asText());
        assertEquals("pointmaze-medium-task1", json.get("env_id").asText());
        assertEquals(4, json.get("episodes").asInt());
        assertEquals(expected.meanReturn(), json.get("mean_return").asDouble(), 1e-12);
        assertEquals(expected.returnConfidenceInterval()[0], json.get("return_ci95").get(0).asDouble(), 1e-12);
        assertEquals(expected.totalLength(), json.get("env_steps").asLong());
        assertEquals(150, json.get("max_episode_steps").asInt());
        assertEquals(0, json.get("failures").size());
        assertEquals(checkpoint.toUri().normalize(), Path.of(java.net.URI.create(json.get("checkpoint").asText())).toUri().normalize());

        BufferedImage png = ImageIO.read(out.resolve(EvaluateJob.TRAJECTORIES_PNG).toFile());
        assertNotNull(png, "trajectories.png is a PNG");
        assertEquals(MazeRenderer.width(MazeMap.MEDIUM), png.getWidth());
        assertEquals(MazeRenderer.height(MazeMap.MEDIUM), png.getHeight());
        assertEquals(rows, readParquet(out));
        assertNoTemporaries();
    }

    @Test
    void bridgeFailuresMarkTheirEpisodeAndTheJobGoesOn() throws IOException {
        EvalFixtures.assumePython();
        Path checkpoint = EvalFixtures.pointMazeCheckpoint(dir);   // obs 2, action 2: fits the line server
        EvalOptions clean = EvalOptions.of(checkpoint.toString(), EvalFixtures.lineBridge("--max-steps 12"), 5,
                dir.resolve("clean").toString()).withSeed(9).withPartitions(2).withBridgeTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(20));
        EvalResult reference = run(clean);
        assertEquals(0, reference.failedEpisodes());
        assertEquals("line-v0", reference.summary().envId());
        assertNull(reference.normalizedScore(), "no reference scores for line-v0");
        reference.episodes().forEach(e -> assertTrue(e.length() >= 1 && e.length() <= 12));

        long crashSeed = EpisodeSeeds.environmentSeed(9, 1);
        long hangSeed = EpisodeSeeds.environmentSeed(9, 3);
        EvalResult crashed = run(clean.withOutput(dir.resolve("crash").toString())
                .withEnv(EvalFixtures.lineBridge("--max-steps 12 --fault crash --fault-step 2 --fault-seed " + crashSeed)));
        EvalResult hung = run(clean.withOutput(dir.resolve("hang").toString())
                .withEnv(EvalFixtures.lineBridge("--max-steps 12 --fault hang --fault-step 1 --fault-seed " + hangSeed))
                .withBridgeTimeouts(Duration.ofSeconds(30), Duration.ofMillis(1500)));

        EpisodeResult crash = crashed.episodes().get(1);
        assertTrue(crash.failed());
        assertTrue(crash.error().contains("exited with code 3 during 'step 2'"), crash.error());
        assertTrue(crash.error().contains("Segmentation fault (simulated)"), crash.error());
        assertEquals(1, crash.length(), "the step before the crash counts");
        EpisodeResult hang = hung.episodes().get(3);
        assertTrue(hang.failed());
        assertTrue(hang.error().contains("no answer to 'step 1' within 1.5 s"), hang.error());
        // Every other episode is exactly the clean run's: a new subprocess took over after each failure.
        for (int i = 0; i < 5; i++) {
            if (i != 1) assertEquals(reference.episodes().get(i), crashed.episodes().get(i), "episode " + i);
            if (i != 3) assertEquals(reference.episodes().get(i), hung.episodes().get(i), "episode " + i);
        }
        assertEquals(1, crashed.summary().episodesFailed());
        assertEquals(4, crashed.summary().episodesCompleted());
        assertEquals(EpisodeStatistics.of(crashed.episodes()).meanReturn(), crashed.meanReturn(), 1e-12);
        JsonNode json = JSON.readTree(dir.resolve("crash").resolve(EvaluateJob.SUMMARY_JSON).toFile());
        assertEquals(1, json.get("failures").size());
        assertEquals(1, json.get("failures").get(0).get("episode").asInt());
        List<EpisodeResult> written = readParquet(dir.resolve("crash"));
        assertTrue(written.get(1).failed());
        assertEquals(crash.error(), written.get(1).error());
        assertFalse(Files.exists(dir.resolve("crash").resolve(EvaluateJob.TRAJECTORIES_PNG)), "pictures only for the point-maze");
    }

    @Test
    void theShippedServerRunsAGymnasiumEnvironmentEndToEnd() throws IOException {
        List<String> command = EvalFixtures.shippedServerWithFakeGymnasium("--max-episode-steps", "15");
        StringBuilder spec = new StringBuilder("bridge:");
        for (String word : command) spec.append('\'').append(word).append("' ");
        Path checkpoint = EvalFixtures.pointMazeCheckpoint(dir);
        EvalResult result = run(EvalOptions.of(checkpoint.toString(), spec.toString(), 3, dir.resolve("reach").toString()).withSeed(2));
        assertEquals("FakeReach-v0", result.summary().envId());
        assertEquals(3, result.summary().episodesCompleted());
        for (EpisodeResult row : result.episodes()) {
            assertTrue(row.length() >= 1 && row.length() <= 15, "length " + row.length());
            assertEquals(-(row.length() - (row.success() ? 1 : 0)), row.episodeReturn(), 0.0);
        }
        assertEquals(15, result.summary().maxEpisodeSteps());
    }

    @Test
    void badInputsNameTheFlagOrFile() throws IOException {
        Path checkpoint = EvalFixtures.pointMazeCheckpoint(dir);
        String out = dir.resolve("out").toString();

        Path missing = dir.resolve("nope.ckpt");
        String m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(missing.toString(), "pointmaze-medium", 1, out))).getMessage();
        assertTrue(m.startsWith("--checkpoint") && m.contains("nope.ckpt") && m.contains("no such file"), m);

        Path garbage = Files.write(dir.resolve("garbage.ckpt"), "definitely not a checkpoint".getBytes());
        m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(garbage.toString(), "pointmaze-medium", 1, out))).getMessage();
        assertTrue(m.startsWith("--checkpoint") && m.contains("garbage.ckpt") && m.contains("not an FQL checkpoint"), m);

        byte[] bytes = Files.readAllBytes(checkpoint);
        Path truncated = Files.write(dir.resolve("truncated.ckpt"), java.util.Arrays.copyOf(bytes, bytes.length - 100));
        m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(truncated.toString(), "pointmaze-medium", 1, out))).getMessage();
        assertTrue(m.contains("truncated.ckpt") && m.contains("truncated or corrupt"), m);
        bytes[bytes.length / 2] ^= 1;
        Path flipped = Files.write(dir.resolve("flipped.ckpt"), bytes);
        m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(flipped.toString(), "pointmaze-medium", 1, out))).getMessage();
        assertTrue(m.contains("flipped.ckpt") && m.contains("checksum"), m);

        m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(checkpoint.toString(), "pointmaze-tiny", 1, out))).getMessage();
        assertTrue(m.startsWith("--env") && m.contains("unknown environment id 'pointmaze-tiny'") && m.contains("pointmaze-medium"), m);

        Path wide = EvalFixtures.checkpoint(dir, "wide.ckpt", 3, 2, 1);
        m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(wide.toString(), "pointmaze-medium", 1, out))).getMessage();
        assertTrue(m.contains("--checkpoint") && m.contains("wide.ckpt") && m.contains("observation dim 3") && m.contains("--env pointmaze-medium")
                && m.contains("observation dim 2"), m);

        Path empty = Files.createDirectory(dir.resolve("empty-run"));
        m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(empty.toString(), "pointmaze-medium", 1, out))).getMessage();
        assertTrue(m.startsWith("--checkpoint") && m.contains("without checkpoint files"), m);

        assertFalse(Files.exists(Path.of(out)), "nothing written for bad input");
        assertNoTemporaries();
    }

    @Test
    void externalEnvironmentsThatDoNotStartAreBadInput() throws IOException {
        EvalFixtures.assumePython();
        Path checkpoint = EvalFixtures.pointMazeCheckpoint(dir);
        String out = dir.resolve("out").toString();
        String m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(checkpoint.toString(),
                EvalFixtures.lineBridge("--fault start-error"), 2, out))).getMessage();
        assertTrue(m.startsWith("--env bridge:") && m.contains("did not start") && m.contains("MuJoCo licence not found"), m);
        Path wide = EvalFixtures.checkpoint(dir, "wide.ckpt", 3, 2, 1);
        m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(wide.toString(), EvalFixtures.lineBridge(""), 2, out))).getMessage();
        assertTrue(m.contains("observation dim 3") && m.contains("--env bridge:"), m);
    }

    @Test
    void outputIsRefusedUnlessOverwriteAndReplacedWhole() throws IOException {
        Path checkpoint = EvalFixtures.pointMazeCheckpoint(dir);
        Path out = dir.resolve("results");
        EvalOptions options = EvalOptions.of(checkpoint.toString(), "pointmaze-medium", 2, out.toString()).withMaxEpisodeSteps(10);
        run(options);
        String m = assertThrows(EvalInputException.class, () -> run(options)).getMessage();
        assertTrue(m.startsWith("--output") && m.contains("--overwrite"), m);
        // a file that is not an evaluation's makes the directory not ours: refused even with --overwrite, kept
        Files.writeString(out.resolve("stale.txt"), "a user's notes");
        m = assertThrows(EvalInputException.class, () -> run(options.withOverwrite(true))).getMessage();
        assertTrue(m.startsWith("--output") && m.contains("stale.txt") && m.contains("nothing was touched"), m);
        assertEquals("a user's notes", Files.readString(out.resolve("stale.txt")));
        Files.delete(out.resolve("stale.txt"));
        Files.writeString(out.resolve(".hidden-notes"), "kept");
        EvalResult again = run(options.withOverwrite(true).withSeed(1));
        assertEquals(again.episodes(), readParquet(out));
        assertEquals("kept", Files.readString(out.resolve(".hidden-notes")), "only what the evaluation wrote is replaced");
        assertNoTemporaries();
    }

    @Test
    void theRunDirectoryOrAnythingHoldingTheCheckpointIsNeverAnOutput() throws IOException {
        Path run = Files.createDirectories(dir.resolve("run/checkpoints"));
        Path checkpoint = Files.copy(EvalFixtures.pointMazeCheckpoint(dir), run.resolve("step-000000000010.fqlckpt"));
        byte[] before = Files.readAllBytes(checkpoint);
        for (Path output : List.of(dir.resolve("run"), run, checkpoint, dir)) {
            for (String source : List.of(dir.resolve("run").toString(), checkpoint.toString())) {
                String m = assertThrows(EvalInputException.class, () -> run(EvalOptions.of(source, "pointmaze-medium", 1,
                        output.toString()).withMaxEpisodeSteps(5).withOverwrite(true))).getMessage();
                assertTrue(m.startsWith("--output") && m.contains("nothing was touched"), m);
            }
        }
        assertArrayEquals(before, Files.readAllBytes(checkpoint));
        // inside the run directory is fine: it replaces nothing of the run
        run(EvalOptions.of(dir.resolve("run").toString(), "pointmaze-medium", 1, dir.resolve("run/eval").toString())
                .withMaxEpisodeSteps(5));
        assertArrayEquals(before, Files.readAllBytes(checkpoint));
    }

    @Test
    void aRunDirectoryMeansItsLatestIntactCheckpoint() throws IOException {
        // fql train's layout: <run>/checkpoints/step-<12 digits>.fqlckpt, written through a hidden temporary.
        Path checkpoints = Files.createDirectories(dir.resolve("run/checkpoints"));
        FqlAgent agent = new FqlAgent(EvalFixtures.TINY, 2, 2, 3);
        FqlAgent.AgentState state = agent.state();
        for (long step : new long[] {0, 500, 900}) {
            agent.setState(new FqlAgent.AgentState(state.parameters(), state.targetParameters(), state.adamM(), state.adamV(), step));
            Checkpoint.of(agent, Map.of()).save(checkpoints.resolve(String.format("step-%012d.fqlckpt", step)));
        }
        agent.setState(new FqlAgent.AgentState(state.parameters(), state.targetParameters(), state.adamM(), state.adamV(), 1200));
        Checkpoint.of(agent, Map.of()).save(checkpoints.resolve(".step-000000001200.fqlckpt.tmp"));   // an unfinished save
        Files.writeString(dir.resolve("run/metrics.csv"), "step,loss\n");
        EvalOptions options = EvalOptions.of(dir.resolve("run").toString(), "pointmaze-medium", 1, dir.resolve("out").toString())
                .withMaxEpisodeSteps(5);
        EvalResult result = run(options);
        assertEquals(900, result.summary().checkpointStep());
        assertTrue(result.summary().checkpoint().endsWith("step-000000000900.fqlckpt"), result.summary().checkpoint());

        // A newest checkpoint that fails its checksum is passed over, as fql train --resume does.
        Path newest = checkpoints.resolve("step-000000000900.fqlckpt");
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length - 40] ^= 1;
        Files.write(newest, bytes);
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        EvalResult fallback = EvaluateJob.run(spark, options.withOverwrite(true), new java.io.PrintStream(log, true));
        assertEquals(500, fallback.summary().checkpointStep());
        assertTrue(log.toString().contains("skipping unreadable checkpoint") && log.toString().contains("step-000000000900.fqlckpt"), log.toString());
    }

    private List<EpisodeResult> readParquet(Path output) {
        List<Row> rows = spark.read().parquet(output.resolve(EvaluateJob.EPISODES_PARQUET).toString()).orderBy("episode").collectAsList();
        assertArrayEquals(new String[] {"episode", "seed", "return", "length", "success", "failed", "error"},
                spark.read().parquet(output.resolve(EvaluateJob.EPISODES_PARQUET).toString()).columns());
        return rows.stream().map(r -> new EpisodeResult(r.getInt(0), r.getLong(1), r.getDouble(2), r.getInt(3), r.getBoolean(4),
                r.getBoolean(5), r.isNullAt(6) ? null : r.getString(6))).toList();
    }

    private void assertNoTemporaries() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<String> leftovers = files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-") || n.contains(".old-")).toList();
            assertEquals(List.of(), leftovers);
        }
    }
}
