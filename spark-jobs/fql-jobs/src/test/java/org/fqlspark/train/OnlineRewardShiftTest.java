package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.Row;
import org.fqlspark.data.SourceInfo;
import org.fqlspark.data.TransitionData;
import org.fqlspark.ingest.IngestJob;
import org.fqlspark.ingest.IngestOptions;
import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.Test;

/**
 * The online reward shift is the dataset's own, as its manifest records it, not the preset's name (issue 21, item 6);
 * a preset whose task's data is shifted otherwise is refused; and once the online phase has begun, the offline budget
 * that placed its start cannot change on resume.
 */
class OnlineRewardShiftTest {

    private static final String ENV = "pointmaze-medium";
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    private static Path shiftedDataset;

    /** The fixture's transitions with rewards shifted by −1, as ingest records an antmaze-style shift in the manifest. */
    private static synchronized Path shiftedDataset() {
        if (shiftedDataset == null) {
            TransitionData d = TrainFixtures.data();
            float[] rewards = d.rewards().clone();
            for (int i = 0; i < rewards.length; i++) rewards[i] -= 1f;
            TransitionData shifted = new TransitionData(d.obsDim(), d.actionDim(), d.observations(), d.actions(), rewards,
                    d.masks(), d.terminals(), d.nextObservations(), d.episodeIds(), d.stepIndices());
            shiftedDataset = TrainFixtures.tempDir("fql-shift").resolve("shifted");
            IngestJob.write(TestSpark.session(), shifted, SourceInfo.generated("test shifted", Map.of("reward_shift", "-1.0")),
                    IngestOptions.forOutput(shiftedDataset.toString()).withShards(1), QUIET);
        }
        return shiftedDataset;
    }

    private static TrainOptions.Builder online(Path data, Path run, long offline, long online) {
        return TrainOptions.builder(data.toString(), run.toString()).overrides(TrainFixtures.tiny()).seed(3)
                .learningCurves(false).averagingFrequency(3).steps(offline).checkpointEvery(1)
                .online(new TrainOptions.Online(online, ENV, "exact", 1, 100, 0));
    }

    private static List<Float> onlineRewards(Path run) {
        return TestSpark.session().read().parquet(run.resolve("online").resolve("*.parquet").toString())
                .select("rewards").collectAsList().stream().map(r -> r.getFloat(0)).toList();
    }

    @Test
    void theOnlineRewardShiftIsTheDatasetsUnderAnyPreset() throws Exception {
        Path run = TrainFixtures.tempDir("fql-shift").resolve("run");
        TrainJob.run(TestSpark.session(), online(shiftedDataset(), run, 6, 6).build(), QUIET);   // preset "default"
        List<Float> rewards = onlineRewards(run);
        assertEquals(6, rewards.size());
        // the maze's reward is success − 1 (−1 or 0); the data's −1 shift makes it −2 or −1, as offline (six steps from
        // the start do not reach the goal: −2 each, a value the unshifted reward never has)
        for (float r : rewards) assertTrue(r == -2f || r == -1f, "online reward " + r + " not shifted by the data's -1: " + rewards);
        assertTrue(rewards.contains(-2f), "no step shifted by the data's -1: " + rewards);
    }

    @Test
    void aPresetThatDisagreesWithTheDatasetsShiftIsRefusedBeforeAnythingIsWritten() {
        Path root = TrainFixtures.tempDir("fql-shift");
        // a D4RL antmaze preset (data shifted by −1) on data without a shift
        Path run = root.resolve("d4rl-preset");
        var unshifted = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(TestSpark.session(),
                TrainFixtures.options(run).preset("antmaze-large-play-v2").steps(3).averagingFrequency(3).build(), QUIET));
        assertTrue(unshifted.getMessage().contains("antmaze-large-play-v2") && unshifted.getMessage().contains("reward_shift")
                && unshifted.getMessage().contains("-1") && unshifted.getMessage().contains("manifest.json"), unshifted.getMessage());
        assertFalse(Files.exists(run), "nothing written");
        // an OGBench preset (data not shifted) on data shifted by −1
        Path other = root.resolve("ogbench-preset");
        var shifted = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(TestSpark.session(),
                online(shiftedDataset(), other, 3, 3).preset("antmaze-large-navigate").build(), QUIET));
        assertTrue(shifted.getMessage().contains("antmaze-large-navigate") && shifted.getMessage().contains("reward_shift"),
                shifted.getMessage());
        assertFalse(Files.exists(other), "nothing written");
    }

    @Test
    void resumingMidOnlineWithAnotherOfflineBudgetIsRefused() throws Exception {
        Path run = TrainFixtures.tempDir("fql-shift").resolve("mid-online");
        TrainOptions first = online(TrainFixtures.dataset(), run, 6, 6).build();
        TrainJob.run(TestSpark.session(), first, QUIET);   // ends at step 12, in the online phase
        byte[] config = Files.readAllBytes(run.resolve("config.json"));
        for (long steps : new long[] {3, 9}) {
            TrainOptions moved = first.toBuilder().resume(true).steps(steps)
                    .online(new TrainOptions.Online(12, ENV, "exact", 1, 100, 0)).build();
            var e = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(TestSpark.session(), moved, QUIET));
            assertTrue(e.getMessage().contains("--steps " + steps) && e.getMessage().contains("6 offline steps"), e.getMessage());
        }
        assertFalse(Files.exists(run.resolve("provenance-resume-step-12.json")), "nothing written");
        assertEquals(new String(config), Files.readString(run.resolve("config.json")));
        // the same offline budget: the online phase goes on
        TrainResult grown = TrainJob.run(TestSpark.session(), first.toBuilder().resume(true)
                .online(new TrainOptions.Online(9, ENV, "exact", 1, 100, 0)).build(), QUIET);
        assertEquals(15, grown.finalStep());
        List<Row> rows = TestSpark.session().read().parquet(run.resolve("online").resolve("*.parquet").toString()).collectAsList();
        assertEquals(9, rows.size());
    }
}
