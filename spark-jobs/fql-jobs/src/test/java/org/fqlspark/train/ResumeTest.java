package org.fqlspark.train;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class ResumeTest {


    @Test
    void oneWorkerResumedRunEqualsAnUninterruptedOne() throws IOException {
        Path root = TrainFixtures.tempDir("fql-resume");
        TrainOptions full = TrainFixtures.options(root.resolve("full")).averagingFrequency(5).steps(30).checkpointEvery(2).build();
        TrainResult uninterrupted = TrainJob.run(TestSpark.session(), full);

        Path run = root.resolve("resumed");
        TrainJob.run(TestSpark.session(), full.toBuilder().runDir(run.toString()).steps(12).build());
        TrainResult resumed = TrainJob.run(TestSpark.session(), full.toBuilder().runDir(run.toString()).resume(true).build());
        assertEquals(12, resumed.startStep());
        TrainFixtures.assertSameState(uninterrupted.finalState().toAgentState(), resumed.finalState());
        assertTrue(Files.exists(run.resolve("provenance-resume-step-12.json")));
    }

    /**
     * W = 2, crashed after its step-20 checkpoint with rows up to 23 in metrics.csv, a half-written checkpoint
     * temporary and a corrupt newer checkpoint on disk: the resume skips the corrupt file, continues from step 20,
     * drops the rows past it, and ends with the uninterrupted run's bits and losses.
     */
    @Test
    void twoWorkerResumeAfterACrashEqualsAnUninterruptedRun() throws IOException {
        Path root = TrainFixtures.tempDir("fql-resume");
        TrainOptions full = TrainFixtures.options(root.resolve("full")).workers(2).averagingFrequency(5).steps(30).checkpointEvery(2)
                .keepCheckpoints(0).build();
        TrainResult uninterrupted = TrainJob.run(TestSpark.session(), full);

        Path run = root.resolve("crashed");
        TrainJob.run(TestSpark.session(), full.toBuilder().runDir(run.toString()).steps(23).build());
        Path checkpoints = run.resolve("checkpoints");
        Files.delete(checkpoints.resolve("step-000000000023.fqlckpt"));   // the crash came before the final checkpoint
        Files.write(checkpoints.resolve(".step-000000000030.fqlckpt.tmp-1234"), new byte[] {1, 2, 3});
        Files.write(checkpoints.resolve("step-000000000025.fqlckpt"), "FQLCKPT\n garbage".getBytes());
        byte[] step20 = Files.readAllBytes(checkpoints.resolve("step-000000000020.fqlckpt"));

        TrainResult resumed = TrainJob.run(TestSpark.session(), full.toBuilder().runDir(run.toString()).resume(true).build());
        assertEquals(20, resumed.startStep());
        TrainFixtures.assertSameState(uninterrupted.finalState().toAgentState(), resumed.finalState());
        assertEquals(TrainFixtures.lossColumns(root.resolve("full")), TrainFixtures.lossColumns(run));
        assertFalse(Files.exists(checkpoints.resolve(".step-000000000030.fqlckpt.tmp-1234")));
        assertTrue(java.util.Arrays.equals(step20, Files.readAllBytes(checkpoints.resolve("step-000000000020.fqlckpt"))));
    }

    @Test
    void refusesToResumeWithDifferentSettings() throws IOException {
        Path run = TrainFixtures.tempDir("fql-resume").resolve("run");
        TrainOptions options = TrainFixtures.options(run).averagingFrequency(5).steps(5).build();
        TrainJob.run(TestSpark.session(), options);
        IllegalArgumentException k = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(TestSpark.session(),
                options.toBuilder().resume(true).averagingFrequency(7).steps(10).build()));
        assertTrue(k.getMessage().contains("averaging-frequency"), k.getMessage());
        IllegalArgumentException c = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(TestSpark.session(),
                options.toBuilder().resume(true).overrides(ConfigOverrides.none().with(FqlConfig.ALPHA, 3.0).withHiddenDims(List.of(16, 16)).with(FqlConfig.BATCH_SIZE, 32).with(FqlConfig.FLOW_STEPS, 3))
                        .steps(10).build()));
        assertTrue(c.getMessage().contains("different FQL config"), c.getMessage());
        TrainResult nothing = TrainJob.run(TestSpark.session(), options.toBuilder().resume(true).build());
        assertEquals(0, nothing.rounds());
        assertEquals(5, nothing.finalStep());
    }
}
