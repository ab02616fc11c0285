package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class TrainJobTest {

    @Test
    void oneWorkerEqualsTheSingleProcessTrainerBitForBit() {
        Path run = TrainFixtures.tempDir("fql-train").resolve("w1");
        TrainOptions options = TrainFixtures.options(run).workers(1).averagingFrequency(7).steps(30).checkpointEvery(2).build();
        TrainResult result = TrainJob.run(TrainTestSpark.session(), options);

        LocalTrainer local = new LocalTrainer(options.resolvedConfig(), TrainFixtures.data(), options.seed());
        local.trainTo(30);
        assertEquals(30, result.finalStep());
        assertEquals(5, result.rounds());   // 7+7+7+7+2
        TrainFixtures.assertSameState(local.agent().state(), result.finalState());
        assertTrue(result.lastCheckpoint().endsWith("step-000000000030.fqlckpt"), result.lastCheckpoint());
    }
}
