package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.Test;

/**
 * {@code --averaging peer}: the workers of a barrier stage average among themselves over direct connections. The
 * numbers must be those of the driver's averaging, bit for bit, whatever the stage boundaries (checkpoints,
 * evaluations) and across a resume.
 */
class PeerAveragingTest {


    @Test
    void workersAveragingAmongThemselvesGiveTheDriversNumbers() throws IOException {
        Path root = TrainFixtures.tempDir("fql-peer");
        TrainOptions driver = TrainFixtures.options(root.resolve("driver")).workers(2).averagingFrequency(5).steps(33).peerAveraging(false)
                .checkpointEvery(3).keepCheckpoints(0).build();
        TrainResult viaDriver = TrainJob.run(TestSpark.session(), driver);
        TrainResult viaPeers = TrainJob.run(TestSpark.session(),
                driver.toBuilder().runDir(root.resolve("peer").toString()).peerAveraging(true).build());
        assertEquals(33, viaPeers.finalStep());
        assertEquals(7, viaPeers.rounds(), "rounds of 5 steps, the last of 3");
        TrainFixtures.assertSameState(viaDriver.finalState().toAgentState(), viaPeers.finalState());
        assertEquals(TrainFixtures.lossColumns(root.resolve("driver")), TrainFixtures.lossColumns(root.resolve("peer")));
        // every checkpoint the driver wrote, the peers' run wrote too, with the same bits
        for (String name : List.of("step-000000000015.fqlckpt", "step-000000000030.fqlckpt", "step-000000000033.fqlckpt")) {
            assertTrue(java.util.Arrays.equals(
                    org.fqlspark.agent.Checkpoint.fromBytes(Files.readAllBytes(root.resolve("driver/checkpoints").resolve(name)), name)
                            .state().parameters(),
                    org.fqlspark.agent.Checkpoint.fromBytes(Files.readAllBytes(root.resolve("peer/checkpoints").resolve(name)), name)
                            .state().parameters()), name);
        }
        assertTrue(Files.readString(root.resolve("peer/config.json")).contains("\"averaging\" : \"peer\""));
        assertTrue(Files.readString(root.resolve("driver/config.json")).contains("\"averaging\" : \"driver\""));
    }

    /** Peer averaging is the default (it applies where W >= 2); --averaging driver still chooses the driver. */
    @Test
    void peerAveragingIsTheDefaultAndDriverStaysAvailable() throws IOException {
        assertTrue(TrainOptions.builder("data", "run").workers(2).build().peerAveraging());
        TrainCommand peer = new TrainCommand();
        new picocli.CommandLine(peer).parseArgs("--data", "d", "--run-dir", "r", "--workers", "2");
        assertTrue(peer.options(new org.apache.hadoop.conf.Configuration()).peerAveraging());
        TrainCommand driver = new TrainCommand();
        new picocli.CommandLine(driver).parseArgs("--data", "d", "--run-dir", "r", "--workers", "2", "--averaging", "driver");
        assertEquals(false, driver.options(new org.apache.hadoop.conf.Configuration()).peerAveraging());
    }

    @Test
    void aResumedPeerRunEqualsAnUninterruptedOne() throws IOException {
        Path root = TrainFixtures.tempDir("fql-peer-resume");
        TrainOptions full = TrainFixtures.options(root.resolve("full")).workers(2).averagingFrequency(5).steps(30)
                .checkpointEvery(2).keepCheckpoints(0).peerAveraging(true).build();
        TrainResult uninterrupted = TrainJob.run(TestSpark.session(), full);
        Path run = root.resolve("stopped");
        TrainJob.run(TestSpark.session(), full.toBuilder().runDir(run.toString()).steps(12).build());
        // it stopped before its step-12 checkpoint (a W = 2 run that ends off a multiple of K averages there, which an
        // uninterrupted one does not): the resume starts from the step-10 checkpoint of the stage that ended there
        Files.delete(run.resolve("checkpoints/step-000000000012.fqlckpt"));
        TrainResult resumed = TrainJob.run(TestSpark.session(), full.toBuilder().runDir(run.toString()).resume(true).build());
        assertEquals(10, resumed.startStep());
        TrainFixtures.assertSameState(uninterrupted.finalState().toAgentState(), resumed.finalState());
        assertEquals(TrainFixtures.lossColumns(root.resolve("full")), TrainFixtures.lossColumns(run));
    }
}
