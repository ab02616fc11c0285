package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.io.Lease;
import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.fqlspark.run.RunDirectory;

/** Checkpoint retention and fallback on resume, and one driver per run directory. */
class RunDirectorySafetyTest {

    @TempDir
    Path dir;

    private static Checkpoint checkpointAt(long step) {
        FqlAgent agent = new FqlAgent(FqlConfig.defaults().withHiddenDims(8, 8), 2, 2, 1);
        FqlAgent.AgentState s = agent.state();
        agent.setState(new FqlAgent.AgentState(s.parameters(), s.targetParameters(), s.adamM(), s.adamV(), step));
        return Checkpoint.of(agent, Map.of());
    }

    private static List<Long> steps(RunDirectory run) throws IOException {
        return run.listCheckpoints().stream().map(RunDirectory.CheckpointFile::step).toList();
    }

    @Test
    void retentionNeverDeletesTheNewestIntactCheckpoint() throws IOException {
        RunDirectory run = RunDirectory.at(dir.toString(), new Configuration());
        run.create();
        run.saveCheckpoint(checkpointAt(100), 0);
        // a corrupt file with a higher step (left by a crashed driver) must not count as one of the kept ones
        Files.writeString(dir.resolve("checkpoints").resolve(RunDirectory.checkpointName(900)), "FQLCKPT\ngarbage");
        Files.writeString(dir.resolve("checkpoints").resolve(RunDirectory.checkpointName(800)), "torn");
        RunDirectory fresh = RunDirectory.at(dir.toString(), new Configuration());   // nothing cached as intact
        fresh.saveCheckpoint(checkpointAt(200), 2);
        assertEquals(List.of(900L, 800L, 200L, 100L), steps(fresh), "two intact ones kept besides the corrupt ones");
        fresh.saveCheckpoint(checkpointAt(300), 1);
        assertEquals(List.of(900L, 800L, 300L), steps(fresh));

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        org.fqlspark.run.CheckpointFinder.Found loaded = fresh.latestCheckpoint(new PrintStream(log, true, StandardCharsets.UTF_8)).orElseThrow();
        assertEquals(300, loaded.checkpoint().state().step(), "resume falls back past every unreadable checkpoint");
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains(RunDirectory.checkpointName(900)) && text.contains(RunDirectory.checkpointName(800)), text);
    }

    @Test
    void aSecondTrainingDriverOnTheSameRunIsRefused() throws IOException {
        Path runDir = dir.resolve("run");
        try (Lease held = Lease.acquire(FileSystem.getLocal(new Configuration()), new org.apache.hadoop.fs.Path(runDir.toUri()), "training run")) {
            TrainOptions options = TrainFixtures.options(runDir).steps(4).build();
            var e = assertThrows(Lease.HeldException.class, () -> TrainJob.run(TestSpark.session(), options,
                    new PrintStream(new ByteArrayOutputStream())));
            assertTrue(e.getMessage().contains("in use by another driver"), e.getMessage());
            held.check();
        }
        // nothing written by the refused driver, and the directory the lease itself made, left empty, is gone too
        assertFalse(Files.exists(runDir), "nothing may remain of a refused run");
    }
}
