package org.fqlspark.train;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.testing.TempDirs;
import org.fqlspark.testing.TestSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.fqlspark.agent.FqlAgent;
import org.fqlspark.data.SourceInfo;
import org.fqlspark.data.TransitionData;
import org.fqlspark.env.DatasetKind;
import org.fqlspark.env.MazeDatasetGenerator;
import org.fqlspark.ingest.IngestJob;
import org.fqlspark.ingest.IngestOptions;
import org.fqlspark.train.worker.BatchSampler;
import org.fqlspark.train.worker.Seeds;
import org.fqlspark.train.worker.TrainingState;

/**
 * The tiny point-maze dataset every training test uses (12 episodes × 50 steps, written as 3 Parquet shards), made
 * once per JVM, and small-network options (16×16, batch 32, 3 flow steps) so a step takes milliseconds.
 */
final class TrainFixtures {

    static final long DATA_SEED = 7;
    private static TransitionData data;
    private static Path dataset;

    private TrainFixtures() {
    }

    static synchronized TransitionData data() {
        if (data == null) {
            data = MazeDatasetGenerator.generate(
                    new MazeDatasetGenerator.Config("pointmaze-medium", DatasetKind.NAVIGATE, 12, 50, 0.5, DATA_SEED));
        }
        return data;
    }

    /** The dataset directory (Parquet + manifest.json) holding {@link #data()}. */
    static synchronized Path dataset() {
        if (dataset == null) {
            dataset = write(data(), "maze");
        }
        return dataset;
    }

    static Path write(TransitionData d, String name) {
        Path dir = tempDir("fql-train-data").resolve(name);
        IngestJob.write(TestSpark.session(), d, SourceInfo.generated("test " + name, Map.of()),
                IngestOptions.forOutput(dir.toString()).withShards(3), new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        return dir;
    }

    static ConfigOverrides tiny() {
        return ConfigOverrides.none().withHiddenDims(java.util.List.of(16, 16)).with(FqlConfig.BATCH_SIZE, 32).with(FqlConfig.FLOW_STEPS, 3);
    }

    static TrainOptions.Builder options(Path runDir) {
        return TrainOptions.builder(dataset().toString(), runDir.toString()).overrides(tiny()).seed(3).learningCurves(false);
    }

    static Path tempDir(String prefix) {
        return TempDirs.create(prefix);
    }

    static void deleteQuietly(Path p) {
        TempDirs.deleteQuietly(p);
    }

    /**
     * W-worker parameter averaging by hand, without Spark: W agents on their shards ({@link TrainJobTest#shard}, split
     * for the config's horizon_length), K
     * local steps each from the common average, then the element-wise mean of all four arrays, summed in worker order.
     */
    static FqlAgent.AgentState averagedByHand(org.fqlspark.agent.FqlConfig config, long seed, int workers, int k, int rounds) {
        TransitionData d = data();
        FqlAgent.AgentState avg = new FqlAgent(config, d.obsDim(), d.actionDim(), seed).state();
        for (int round = 0; round < rounds; round++) {
            FqlAgent.AgentState[] s = new FqlAgent.AgentState[workers];
            for (int w = 0; w < workers; w++) {
                FqlAgent agent = new FqlAgent(config, d.obsDim(), d.actionDim(), Seeds.workerNoiseSeed(seed, w));
                agent.setState(avg);
                BatchSampler sampler = new BatchSampler(TrainJobTest.shard(w, workers, config.horizonLength()), config, seed);
                for (int i = 0; i < k; i++) {
                    agent.update(sampler.sample(agent.step()));
                }
                s[w] = agent.state();
            }
            java.util.function.Function<java.util.function.Function<FqlAgent.AgentState, float[]>, float[]> mean = get -> {
                float[] m = new float[get.apply(s[0]).length];
                for (int i = 0; i < m.length; i++) {
                    double sum = 0;
                    for (int w = 0; w < workers; w++) {
                        sum += get.apply(s[w])[i];
                    }
                    m[i] = (float) (sum / workers);
                }
                return m;
            };
            avg = new FqlAgent.AgentState(mean.apply(FqlAgent.AgentState::parameters), mean.apply(FqlAgent.AgentState::targetParameters),
                    mean.apply(FqlAgent.AgentState::adamM), mean.apply(FqlAgent.AgentState::adamV), s[0].step());
        }
        return avg;
    }

    static void assertSameState(FqlAgent.AgentState expected, TrainingState actual) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.step(), actual.step(), "step");
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.parameters(), actual.parameters(), "parameters");
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.targetParameters(), actual.targetParameters(), "target");
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.adamM(), actual.adamM(), "adam_m");
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.adamV(), actual.adamV(), "adam_v");
    }

    /** metrics.csv's step, round, workers and loss columns (timings differ between runs, these must not). */
    static java.util.List<String> lossColumns(Path run) throws IOException {
        return Files.readAllLines(run.resolve("metrics.csv")).stream()
                .map(l -> String.join(",", java.util.List.of(l.split(",")).subList(0, 13))).toList();
    }
}
