package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.fqlspark.data.DatasetManifest;
import org.fqlspark.eval.EvalFixtures;
import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.Test;
import org.fqlspark.train.online.OnlineDataset;

/**
 * The online phase (docs/algorithm.md §5) end to end on the tiny maze dataset: N offline steps, then M online steps in
 * the built-in point-maze (or a bridge environment), exact and distributed; what lands in the run directory; exact
 * resume.
 */
class OnlineTrainingTest {

    private static final String ENV = "pointmaze-medium";

    private static TrainOptions.Builder exact(Path run, long offline, long online) {
        return TrainFixtures.options(run).averagingFrequency(25).steps(offline).checkpointEvery(1).keepCheckpoints(0)
                .online(new TrainOptions.Online(online, ENV, "exact", 1, 100, 0));
    }

    @Test
    void exactModeAddsOneTransitionPerGradientStepAndWritesThemAsADataset() throws IOException {
        Path run = TrainFixtures.tempDir("fql-online").resolve("run");
        TrainResult r = TrainJob.run(TestSpark.session(), exact(run, 50, 120).learningCurves(true).build());
        assertEquals(170, r.finalStep());
        assertTrue(Files.size(run.resolve("learning_curves.png")) > 1000, "the curves, with the phases marked");

        // online/ is a dataset of the contract: 120 rows (one per online gradient step), manifest last
        FileSystem fs = FileSystem.getLocal(new org.apache.hadoop.conf.Configuration());
        DatasetManifest m = DatasetManifest.read(fs, new org.apache.hadoop.fs.Path(run.resolve("online").toString()));
        assertEquals(120, m.counts().transitions());
        Dataset<Row> rows = TestSpark.session().read().parquet(run.resolve("online").resolve("*.parquet").toString());
        assertEquals(120, rows.count());
        List<Row> sorted = rows.orderBy(OnlineDataset.ONLINE_INDEX).collectAsList();
        for (int i = 0; i < sorted.size(); i++) {
            Row row = sorted.get(i);
            assertEquals(i, row.getLong(row.fieldIndex(OnlineDataset.ONLINE_INDEX)));
            float mask = row.getFloat(row.fieldIndex("masks"));
            float terminal = row.getFloat(row.fieldIndex("terminals"));
            float reward = row.getFloat(row.fieldIndex("rewards"));
            assertTrue(mask == 1f || (mask == 0f && terminal == 1f), "mask 0 only on a terminated (so terminal) row");
            assertTrue(reward == -1f || reward == 0f, "point-maze rewards are success - 1, unshifted: " + reward);
            List<Float> a = row.getList(row.fieldIndex("actions"));
            assertTrue(a.stream().allMatch(v -> v >= -1f && v <= 1f), "actions are clip(mu(s, z))");
            if (i > 0) {   // consecutive rows of one episode chain s' -> s
                Row prev = sorted.get(i - 1);
                if (prev.getFloat(prev.fieldIndex("terminals")) == 0f) {
                    assertEquals(prev.getList(prev.fieldIndex("next_observations")), row.getList(row.fieldIndex("observations")));
                    assertEquals(prev.getInt(prev.fieldIndex("step_index")) + 1, row.getInt(row.fieldIndex("step_index")));
                }
            }
        }
        // metrics: offline rows report no environment steps, online rows count them with the gradient steps
        List<String> lines = Files.readAllLines(run.resolve("metrics.csv"));
        List<String> header = List.of(lines.get(0).split(","));
        int envSteps = header.indexOf("online/env_steps");
        int step = header.indexOf("step");
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            double s = Double.parseDouble(f[step]);
            assertEquals(Math.max(0, s - 50), Double.parseDouble(f[envSteps]), 0.0, line);
        }
        String result = Files.readString(run.resolve("result.json"));
        assertTrue(result.contains("\"env_steps\" : 120"), result);
    }

    /**
     * The run crashes after its step-125 checkpoint (mid-episode: the maze's episodes are longer than 75 online steps);
     * resuming from it gives the uninterrupted run's state bit for bit, its online rows and its losses: the buffer, the
     * environment (reset and replayed), the action noise and the batches all continue exactly.
     */
    @Test
    void resumedOnlineRunEqualsAnUninterruptedOne() throws IOException {
        Path root = TrainFixtures.tempDir("fql-online-resume");
        TrainResult full = TrainJob.run(TestSpark.session(), exact(root.resolve("full"), 50, 125).build());

        Path run = root.resolve("crashed");
        TrainJob.run(TestSpark.session(), exact(run, 50, 125).runDir(run.toString()).build());
        Path checkpoints = run.resolve("checkpoints");
        Files.delete(checkpoints.resolve("step-000000000175.fqlckpt"));   // crashed after writing step 150's checkpoint...
        Files.delete(checkpoints.resolve("step-000000000150.fqlckpt"));   // ...or after 125's: online/ holds more rows
        TrainResult resumed = TrainJob.run(TestSpark.session(), exact(run, 50, 125).runDir(run.toString()).resume(true).build());
        assertEquals(125, resumed.startStep());
        TrainFixtures.assertSameState(full.finalState().toAgentState(), resumed.finalState());
        assertEquals(onlineRows(root.resolve("full")), onlineRows(run));
        assertEquals(TrainFixtures.lossColumns(root.resolve("full")), TrainFixtures.lossColumns(run));
    }

    /**
     * QC-FQL (h = 3) in the exact mode: one stored row per environment step, chunks sampled from the union of the
     * dataset and the online rows; the run resumed from its step-100 checkpoint (online step 50 = 16 chunks and two
     * actions of the 17th: one action of that chunk is still to play) equals the uninterrupted run bit for bit.
     */
    @Test
    void chunkedResumedOnlineRunEqualsAnUninterruptedOne() throws IOException {
        Path root = TrainFixtures.tempDir("fql-online-chunked");
        java.util.function.Function<Path, TrainOptions> options = run -> exact(run, 50, 100)
                .overrides(TrainFixtures.tiny().with(org.fqlspark.agent.FqlConfig.HORIZON_LENGTH, 3)).build();
        TrainResult full = TrainJob.run(TestSpark.session(), options.apply(root.resolve("full")));
        assertEquals(150, full.finalStep());
        assertEquals(100, onlineRows(root.resolve("full")).size(), "one row per environment step, not per chunk");

        Path run = copy(root.resolve("full"), root.resolve("crashed"));   // the same run, crashed after its step-100 checkpoint
        Path checkpoints = run.resolve("checkpoints");
        Files.delete(checkpoints.resolve("step-000000000150.fqlckpt"));
        Files.delete(checkpoints.resolve("step-000000000125.fqlckpt"));
        TrainResult resumed = TrainJob.run(TestSpark.session(), options.apply(run).toBuilder().resume(true).build());
        assertEquals(100, resumed.startStep());
        TrainFixtures.assertSameState(full.finalState().toAgentState(), resumed.finalState());
        assertEquals(onlineRows(root.resolve("full")), onlineRows(run));
        assertEquals(TrainFixtures.lossColumns(root.resolve("full")), TrainFixtures.lossColumns(run));
    }

    /**
     * QC-FQL (h = 3) in the distributed mode: 2 learners (the shards and the online rows split per episode), 2 actors
     * of 10 steps per refresh (not a multiple of h: chunks run on across collections); resumed from a mid-phase
     * checkpoint it equals the uninterrupted run.
     */
    @Test
    void chunkedDistributedRunResumesExactly() throws IOException {
        Path root = TrainFixtures.tempDir("fql-online-chunked-dist");
        java.util.function.Function<Path, TrainOptions> options = run -> TrainFixtures.options(run).workers(2).averagingFrequency(20)
                .steps(40).checkpointEvery(1).keepCheckpoints(0)
                .overrides(TrainFixtures.tiny().with(org.fqlspark.agent.FqlConfig.HORIZON_LENGTH, 3))
                .online(new TrainOptions.Online(60, ENV, "distributed", 2, 10, 0)).build();
        TrainResult full = TrainJob.run(TestSpark.session(), options.apply(root.resolve("full")));
        assertEquals(100, full.finalStep());
        assertEquals(60, onlineRows(root.resolve("full")).size());

        Path run = copy(root.resolve("full"), root.resolve("crashed"));
        Path checkpoints = run.resolve("checkpoints");
        Files.delete(checkpoints.resolve("step-000000000100.fqlckpt"));
        Files.delete(checkpoints.resolve("step-000000000080.fqlckpt"));
        TrainResult resumed = TrainJob.run(TestSpark.session(), options.apply(run).toBuilder().resume(true).build());
        assertEquals(60, resumed.startStep());
        TrainFixtures.assertSameState(full.finalState().toAgentState(), resumed.finalState());
        assertEquals(onlineRows(root.resolve("full")), onlineRows(run));
    }

    /** A finished offline run extended with an online phase equals one run that had it from the start. */
    @Test
    void finishedOfflineRunCanBeExtendedOnline() throws IOException {
        Path root = TrainFixtures.tempDir("fql-online-extend");
        TrainResult oneGo = TrainJob.run(TestSpark.session(), exact(root.resolve("one"), 50, 60).build());
        Path run = root.resolve("two");
        TrainJob.run(TestSpark.session(), exact(run, 50, 0).online(TrainOptions.Online.NONE).build());
        TrainResult extended = TrainJob.run(TestSpark.session(), exact(run, 50, 60).resume(true).build());
        assertEquals(50, extended.startStep());
        TrainFixtures.assertSameState(oneGo.finalState().toAgentState(), extended.finalState());
        assertTrue(Files.readString(run.resolve("config.json")).contains("\"online_steps\" : 60"));
        // and the online settings of a run in its online phase cannot change on resume
        TrainOptions other = exact(run, 50, 100).resume(true).online(new TrainOptions.Online(100, ENV, "distributed", 2, 10, 0)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(TestSpark.session(), other));
        assertTrue(e.getMessage().contains("different settings"), e.getMessage());
    }

    /** Distributed mode: E = 2 actors, R = 15: every collected step is learned from once (ratio 1), rows in actor order. */
    @Test
    void distributedModeKeepsTheUpdateToDataRatio() throws IOException {
        Path run = TrainFixtures.tempDir("fql-online-dist").resolve("run");
        TrainOptions o = TrainFixtures.options(run).workers(2).averagingFrequency(20).steps(40).checkpointEvery(2)
                .online(new TrainOptions.Online(90, ENV, "distributed", 2, 15, 0)).build();
        TrainResult r = TrainJob.run(TestSpark.session(), o);
        assertEquals(130, r.finalStep());
        List<Row> rows = onlineRows(run);
        assertEquals(90, rows.size(), "90 gradient steps, 90 environment steps");
        // collection 1: actor 0's 15 rows (episode ids = episode * 2 + 0, even), then actor 1's (odd)
        for (int i = 0; i < 30; i++) {
            long episode = rows.get(i).getLong(rows.get(i).fieldIndex("episode_id"));
            assertEquals(i < 15 ? 0 : 1, Math.floorMod(episode, 2), "row " + i);
        }
    }

    /** A bridge environment (the test line server, a subprocess speaking the bridge protocol) in the exact mode. */
    @Test
    void exactModeWorksWithABridgeEnvironment() throws IOException {
        EvalFixtures.assumePython();
        Path run = TrainFixtures.tempDir("fql-online-bridge").resolve("run");
        TrainOptions o = TrainFixtures.options(run).averagingFrequency(25).steps(25)
                .online(new TrainOptions.Online(60, EvalFixtures.lineBridge("--max-steps 20"), "exact", 1, 100, 0)).build();
        TrainResult r = TrainJob.run(TestSpark.session(), o);
        assertEquals(85, r.finalStep());
        List<Row> rows = onlineRows(run);
        assertEquals(60, rows.size());
        // the line server truncates at 20 steps: episodes end at step_index 19 at the latest
        assertTrue(rows.stream().allMatch(x -> x.getInt(x.fieldIndex("step_index")) < 20));
        assertTrue(rows.stream().map(x -> x.getLong(x.fieldIndex("episode_id"))).distinct().count() >= 3);
        String result = Files.readString(run.resolve("result.json"));
        assertTrue(result.contains("\"failed_episodes\" : 0"), result);
    }

    @Test
    void badOnlineFlagsAreRefusedBeforeAnythingIsWritten() {
        Path run = TrainFixtures.tempDir("fql-online-bad").resolve("run");
        IllegalArgumentException env = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(TestSpark.session(),
                TrainFixtures.options(run).steps(10).online(new TrainOptions.Online(10, "no-such-env", "exact", 1, 100, 0)).build()));
        assertTrue(env.getMessage().contains("--env"), env.getMessage());
        assertFalse(Files.exists(run));
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class, () -> TrainFixtures.options(run).workers(2)
                .online(new TrainOptions.Online(10, ENV, "exact", 1, 100, 0)).build());
        assertTrue(w.getMessage().contains("--workers"), w.getMessage());
        IllegalArgumentException noEnv = assertThrows(IllegalArgumentException.class,
                () -> new TrainOptions.Online(10, null, "exact", 1, 100, 0));
        assertTrue(noEnv.getMessage().contains("--env"), noEnv.getMessage());
    }

    /** A copy of a finished run directory (its online/ rows reach past any earlier checkpoint, as after a crash). */
    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(from.relativize(f).toString()));
            }
        }
        Files.delete(to.resolve("result.json"));
        return to;
    }

    static List<Row> onlineRows(Path run) {
        return TestSpark.session().read().parquet(run.resolve("online").resolve("*.parquet").toString()).orderBy(OnlineDataset.ONLINE_INDEX).collectAsList();
    }


}
