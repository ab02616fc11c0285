package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.apache.hadoop.fs.FileSystem;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.data.DatasetManifest;
import org.fqlspark.data.TransitionData;
import org.fqlspark.testing.TestSpark;
import org.fqlspark.train.worker.Seeds;
import org.fqlspark.train.worker.ShardLoader;
import org.fqlspark.train.worker.WorkerShard;
import org.junit.jupiter.api.Test;

/**
 * QC-FQL's data path (issue 23, item 2) on Spark: shards split per episode when h &gt; 1, each a worker's whole
 * episodes in contract order, and training on chunks reproducing the single-process trainer (W = 1) and averaging by
 * hand (W = 2) bit for bit.
 */
class ChunkedTrainingTest {

    private static List<WorkerShard> load(int workers, int horizon) throws Exception {
        Path dir = TrainFixtures.dataset();
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(dir.toUri());
        DatasetManifest manifest = DatasetManifest.read(FileSystem.getLocal(TestSpark.session().sparkContext().hadoopConfiguration()), root);
        var rdd = ShardLoader.load(TestSpark.session(), root, manifest, workers, horizon, List.of());
        try {
            return rdd.collect();
        } finally {
            rdd.unpersist(false);
        }
    }

    /**
     * With h &gt; 1 every episode lies whole on one worker, and a worker's rows are its episodes one after the other in
     * (episode, step) order: the loaded shard equals the fixture's rows filtered by the worker of their episode, in the
     * fixture's order, and its ends are the dataset's terminals. With h = 1 the split is the per-transition one as before.
     */
    @Test
    void withChunksAWorkerHoldsWholeEpisodesContiguousAndInOrder() throws Exception {
        TransitionData d = TrainFixtures.data();
        List<WorkerShard> chunked = load(3, 5);
        assertEquals(3, chunked.size());
        long total = 0;
        for (int w = 0; w < 3; w++) {
            WorkerShard loaded = chunked.get(w);
            WorkerShard expected = TrainJobTest.shard(w, 3, 5);
            assertEquals(w, loaded.worker());
            assertArrayEquals(expected.observations(), loaded.observations(), "worker " + w);
            assertArrayEquals(expected.actions(), loaded.actions());
            assertArrayEquals(expected.rewards(), loaded.rewards());
            assertArrayEquals(expected.masks(), loaded.masks());
            assertArrayEquals(expected.nextObservations(), loaded.nextObservations());
            assertArrayEquals(expected.ends(), loaded.ends());
            total += loaded.size();
            // whole episodes: the worker holds (episode count) × 50 rows and exactly as many ends as episodes
            int worker = w;
            long episodes = java.util.stream.LongStream.range(0, 12).filter(ep -> Seeds.workerOfEpisode(ep, 3) == worker).count();
            assertEquals(episodes * 50, loaded.size());
            float ends = 0;
            for (float e : loaded.ends()) ends += e;
            assertEquals(episodes, (long) ends, "one end per episode: the contract's terminals, nothing else");
        }
        assertEquals(d.size(), total);
        List<WorkerShard> plain = load(3, 1);
        for (int w = 0; w < 3; w++) {
            assertArrayEquals(TrainJobTest.shard(w, 3).observations(), plain.get(w).observations(), "h = 1: per-transition split");
        }
    }

    private static TrainOptions.Builder chunked(Path run, int horizon) {
        return TrainFixtures.options(run).overrides(TrainFixtures.tiny().with(FqlConfig.HORIZON_LENGTH, horizon));
    }

    @Test
    void oneWorkerOnChunksEqualsTheSingleProcessTrainer() {
        Path run = TrainFixtures.tempDir("fql-chunked").resolve("w1");
        TrainOptions options = chunked(run, 3).workers(1).averagingFrequency(5).steps(10).checkpointEvery(10).build();
        assertEquals(3, options.resolvedConfig().horizonLength());
        TrainResult result = TrainJob.run(TestSpark.session(), options);
        LocalTrainer local = new LocalTrainer(options.resolvedConfig(), TrainFixtures.data(), options.seed());
        local.trainTo(10);
        assertEquals(3, local.agent().horizon());
        TrainFixtures.assertSameState(local.agent().state(), result.finalState());
    }

    @Test
    void twoWorkersOnChunksAverageAsByHand() throws Exception {
        Path run = TrainFixtures.tempDir("fql-chunked").resolve("w2");
        TrainOptions options = chunked(run, 4).workers(2).averagingFrequency(3).steps(6).checkpointEvery(2).build();
        TrainResult result = TrainJob.run(TestSpark.session(), options);
        assertEquals(List.of(TrainJobTest.shard(0, 2, 4).size(), TrainJobTest.shard(1, 2, 4).size()), result.workerRows());
        TrainFixtures.assertSameState(TrainFixtures.averagedByHand(options.resolvedConfig(), options.seed(), 2, 3, 2),
                result.finalState());
        Checkpoint cp = Checkpoint.fromBytes(java.nio.file.Files.readAllBytes(run.resolve("checkpoints/step-000000000006.fqlckpt")),
                "cp");
        assertEquals(4, cp.config().horizonLength());
        assertEquals(TrainFixtures.data().actionDim(), cp.actionDim(), "checkpoints record the per-step action size");
        assertTrue(cp.restore().chunkActionDim() == 4 * cp.actionDim());
    }
}
