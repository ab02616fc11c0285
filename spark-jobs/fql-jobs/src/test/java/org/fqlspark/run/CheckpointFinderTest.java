package org.fqlspark.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one rule for a run directory's newest checkpoint, which resume, evaluate, export and act share. */
class CheckpointFinderTest {

    @TempDir
    Path dir;

    private static byte[] checkpointAt(long step) {
        FqlAgent agent = new FqlAgent(FqlConfig.defaults().withHiddenDims(8, 8), 2, 2, 1);
        FqlAgent.AgentState s = agent.state();
        agent.setState(new FqlAgent.AgentState(s.parameters(), s.targetParameters(), s.adamM(), s.adamV(), step));
        return Checkpoint.of(agent, Map.of()).toBytes();
    }

    private static org.apache.hadoop.fs.Path hadoop(Path p) {
        return new org.apache.hadoop.fs.Path(p.toUri());
    }

    private static FileSystem local() throws IOException {
        return FileSystem.getLocal(new Configuration()).getRawFileSystem();
    }

    @Test
    void theStepInTheHeaderDecidesNotTheName() throws IOException {
        Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
        Files.write(checkpoints.resolve("step-000000000900.fqlckpt"), checkpointAt(300));   // renamed by hand
        Files.write(dir.resolve("best.ckpt"), checkpointAt(700));                          // beside the folder
        Files.write(checkpoints.resolve(".step-000000001200.fqlckpt.tmp-1"), checkpointAt(1200));   // an unfinished save
        Files.write(checkpoints.resolve("_SUCCESS"), new byte[0]);
        Files.writeString(dir.resolve("metrics.csv"), "step,loss\n");
        List<CheckpointFinder.Candidate> c = CheckpointFinder.candidates(local(), hadoop(dir));
        assertEquals(List.of(700L, 300L), c.stream().map(CheckpointFinder.Candidate::step).toList());
        CheckpointFinder.Found found = CheckpointFinder.newest(local(), hadoop(dir), new ArrayList<>()).orElseThrow();
        assertEquals(700, found.checkpoint().state().step());
        assertTrue(found.path().getName().equals("best.ckpt"), found.path().toString());
    }

    @Test
    void aNewestFileThatDoesNotReadBackIsReportedAndPassedOver() throws IOException {
        Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
        Files.write(checkpoints.resolve("step-000000000500.fqlckpt"), checkpointAt(500));
        byte[] flipped = checkpointAt(900);
        flipped[flipped.length - 40] ^= 1;
        Files.write(checkpoints.resolve("step-000000000900.fqlckpt"), flipped);               // header reads, digest fails
        Files.writeString(checkpoints.resolve("step-000000000800.fqlckpt"), "torn");          // only the name says 800
        Files.writeString(dir.resolve("notes.txt"), "not a checkpoint, not our name: no candidate");
        List<String> skipped = new ArrayList<>();
        CheckpointFinder.Found found = CheckpointFinder.newest(local(), hadoop(dir), skipped).orElseThrow();
        assertEquals(500, found.checkpoint().state().step());
        assertEquals(2, skipped.size(), skipped.toString());
        assertTrue(skipped.get(0).contains("step-000000000900.fqlckpt") && skipped.get(0).contains("checksum"), skipped.get(0));
        assertTrue(skipped.get(1).contains("step-000000000800.fqlckpt"), skipped.get(1));
    }

    @Test
    void equalStepsGoToTheNewerFileThenToTheLaterName() throws IOException {
        Files.write(dir.resolve("a.ckpt"), checkpointAt(400));
        Files.write(dir.resolve("b.ckpt"), checkpointAt(400));
        Files.write(dir.resolve("c.ckpt"), checkpointAt(400));
        Files.setLastModifiedTime(dir.resolve("a.ckpt"), FileTime.fromMillis(2_000_000_000_000L));
        Files.setLastModifiedTime(dir.resolve("b.ckpt"), FileTime.fromMillis(1_000_000_000_000L));
        Files.setLastModifiedTime(dir.resolve("c.ckpt"), FileTime.fromMillis(1_000_000_000_000L));
        List<String> order = CheckpointFinder.candidates(local(), hadoop(dir)).stream().map(c -> c.path().getName()).toList();
        assertEquals(List.of("a.ckpt", "c.ckpt", "b.ckpt"), order);
    }

    @Test
    void anEmptyOrMissingDirectoryHasNoCandidates() throws IOException {
        assertTrue(CheckpointFinder.candidates(local(), hadoop(dir)).isEmpty());
        assertTrue(CheckpointFinder.candidates(local(), hadoop(dir.resolve("nowhere"))).isEmpty());
        assertTrue(CheckpointFinder.newest(local(), hadoop(dir), new ArrayList<>()).isEmpty());
    }
}
