package org.fqlspark.train;

import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import org.fqlspark.agent.Batch;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.data.TransitionData;
import org.junit.jupiter.api.Test;
import org.fqlspark.train.worker.BatchSampler;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerShard;

class DivergenceTest {

    /**
     * One transition gets a reward of 1e30 (finite, so the dataset is valid), chosen so that the first batch holding
     * it is the one of step 11: the TD error overflows the gradient norm and Adam's second moment there.
     */
    @Test
    void aNonFiniteLossStopsTrainingNamingTheStepAndKeepsTheLastGoodCheckpoint() throws IOException {
        TransitionData d = TrainFixtures.data();
        int batch = 32;
        long seed = 3;
        BatchSampler sampler = new BatchSampler(WorkerShard.of(d), batch, seed);
        Set<Float> early = new HashSet<>();
        // Mark rows by their index through the reward column of a copy, to see which rows steps 0..9 touch.
        float[] index = new float[d.size()];
        for (int i = 0; i < index.length; i++) {
            index[i] = i;
        }
        BatchSampler byIndex = new BatchSampler(new WorkerShard(0, d.obsDim(), d.actionDim(), d.observations(), d.actions(), index,
                d.masks(), d.nextObservations()), batch, seed);
        for (int s = 0; s < 10; s++) {
            for (float r : byIndex.sample(s).rewards()) {
                early.add(r);
            }
        }
        int victim = -1;
        Batch step10 = byIndex.sample(10);
        for (float r : step10.rewards()) {
            if (!early.contains(r)) {
                victim = (int) r;
                break;
            }
        }
        assertTrue(victim >= 0);
        float[] rewards = d.rewards().clone();
        rewards[victim] = 1e30f;
        TransitionData poisoned = new TransitionData(d.obsDim(), d.actionDim(), d.observations(), d.actions(), rewards, d.masks(),
                d.terminals(), d.nextObservations(), d.episodeIds(), d.stepIndices());
        Path data = TrainFixtures.write(poisoned, "poisoned");
        assertTrue(sampler.shard().size() == d.size());

        Path run = TrainFixtures.tempDir("fql-diverge").resolve("run");
        TrainOptions options = TrainOptions.builder(data.toString(), run.toString()).overrides(TrainFixtures.tiny()).seed(seed)
                .averagingFrequency(4).checkpointEvery(1).steps(40).learningCurves(false).build();
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> TrainJob.run(TestSpark.session(), options));
        assertEquals(11, e.step());
        assertTrue(e.getMessage().contains("non-finite loss at step 11 on worker 0"), e.getMessage());
        assertTrue(e.getMessage().contains("step-000000000008.fqlckpt"), e.getMessage());

        try (var files = Files.list(run.resolve("checkpoints"))) {
            assertEquals(java.util.List.of("step-000000000004.fqlckpt", "step-000000000008.fqlckpt"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        Checkpoint last = Checkpoint.fromBytes(Files.readAllBytes(run.resolve("checkpoints/step-000000000008.fqlckpt")), "last");
        assertEquals(8, last.state().step());
        assertNull(TrainingState.of(last.state()).firstNonFinite());
        assertEquals(3, Files.readAllLines(run.resolve("metrics.csv")).size());   // header + rounds ending at 4 and 8
    }
}
