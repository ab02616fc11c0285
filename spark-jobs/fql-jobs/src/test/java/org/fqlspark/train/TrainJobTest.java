package org.fqlspark.train;

import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.data.TransitionData;
import org.junit.jupiter.api.Test;
import org.fqlspark.train.worker.BatchSampler;
import org.fqlspark.train.worker.Seeds;
import org.fqlspark.train.worker.WorkerShard;

class TrainJobTest {

    @Test
    void oneWorkerEqualsTheSingleProcessTrainerBitForBit() throws IOException {
        Path run = TrainFixtures.tempDir("fql-train").resolve("w1");
        TrainOptions options = TrainFixtures.options(run).workers(1).averagingFrequency(7).steps(30).checkpointEvery(2).build();
        TrainResult result = TrainJob.run(TestSpark.session(), options);

        LocalTrainer local = new LocalTrainer(options.resolvedConfig(), TrainFixtures.data(), options.seed());
        local.trainTo(30);
        assertEquals(30, result.finalStep());
        assertEquals(5, result.rounds());   // 7+7+7+7+2
        TrainFixtures.assertSameState(local.agent().state(), result.finalState());
        assertTrue(result.lastCheckpoint().endsWith("step-000000000030.fqlckpt"), result.lastCheckpoint());
        Checkpoint cp = Checkpoint.fromBytes(Files.readAllBytes(run.resolve("checkpoints/step-000000000030.fqlckpt")), "cp");
        TrainFixtures.assertSameState(cp.state(), result.finalState());
        // The restored agent continues exactly like the local one (its seed is the run seed: worker 0's noise stream).
        FqlAgent restored = cp.restore();
        assertEquals(options.seed(), restored.seed());
    }

    /** W = 2 by hand: two agents on their shards, K local steps each, element-wise mean of all four arrays. */
    @Test
    void twoWorkersAverageParametersTargetAndAdamStateEveryKSteps() {
        Path run = TrainFixtures.tempDir("fql-train").resolve("w2");
        int k = 4;
        TrainOptions options = TrainFixtures.options(run).workers(2).averagingFrequency(k).steps(12).checkpointEvery(10).build();
        TrainResult result = TrainJob.run(TestSpark.session(), options);
        assertEquals(List.of(shard(0, 2).size(), shard(1, 2).size()), result.workerRows());

        FqlConfig config = options.resolvedConfig();
        TransitionData d = TrainFixtures.data();
        FqlAgent.AgentState avg = new FqlAgent(config, d.obsDim(), d.actionDim(), options.seed()).state();
        for (int round = 0; round < 3; round++) {
            FqlAgent.AgentState[] s = new FqlAgent.AgentState[2];
            for (int w = 0; w < 2; w++) {
                FqlAgent agent = new FqlAgent(config, d.obsDim(), d.actionDim(), Seeds.workerNoiseSeed(options.seed(), w));
                agent.setState(avg);
                BatchSampler sampler = new BatchSampler(shard(w, 2), config.batchSize(), options.seed());
                for (int i = 0; i < k; i++) {
                    agent.update(sampler.sample(agent.step()));
                }
                s[w] = agent.state();
            }
            avg = new FqlAgent.AgentState(mean(s[0].parameters(), s[1].parameters()), mean(s[0].targetParameters(), s[1].targetParameters()),
                    mean(s[0].adamM(), s[1].adamM()), mean(s[0].adamV(), s[1].adamV()), s[0].step());
        }
        TrainFixtures.assertSameState(avg, result.finalState());

        // Deterministic: the same run again gives the same bits; and it is not the W = 1 result.
        TrainResult again = TrainJob.run(TestSpark.session(), options.toBuilder()
                .runDir(TrainFixtures.tempDir("fql-train").resolve("w2-again").toString()).build());
        TrainFixtures.assertSameState(result.finalState().toAgentState(), again.finalState());
        LocalTrainer local = new LocalTrainer(config, d, options.seed());
        local.trainTo(12);
        assertFalse(Arrays.equals(local.agent().parameters(), result.finalState().parameters()));
    }

    private static float[] mean(float[] a, float[] b) {
        float[] m = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            m[i] = (float) (((double) a[i] + (double) b[i]) / 2);
        }
        return m;
    }

    /** Worker w's rows of the fixture in contract order, split as the loader splits them. */
    static WorkerShard shard(int worker, int workers) {
        return shard(worker, workers, 1);
    }

    /** As above for chunks of {@code horizon} steps (split per episode when h > 1), with the rows' ends. */
    static WorkerShard shard(int worker, int workers, int horizon) {
        TransitionData d = TrainFixtures.data();
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            if (Seeds.workerOf(d.episodeIds()[i], d.stepIndices()[i], workers, horizon) == worker) {
                rows.add(i);
            }
        }
        int n = rows.size();
        int o = d.obsDim();
        int a = d.actionDim();
        TransitionData mine = TransitionData.zeros(n, o, a);
        for (int j = 0; j < n; j++) {
            int i = rows.get(j);
            System.arraycopy(d.observations(), i * o, mine.observations(), j * o, o);
            System.arraycopy(d.nextObservations(), i * o, mine.nextObservations(), j * o, o);
            System.arraycopy(d.actions(), i * a, mine.actions(), j * a, a);
            mine.rewards()[j] = d.rewards()[i];
            mine.masks()[j] = d.masks()[i];
            mine.terminals()[j] = d.terminals()[i];
            mine.episodeIds()[j] = d.episodeIds()[i];
            mine.stepIndices()[j] = d.stepIndices()[i];
        }
        return WorkerShard.of(worker, mine);
    }

    @Test
    void writesConfigProvenanceMetricsAndCurves() throws IOException {
        Path run = TrainFixtures.tempDir("fql-train").resolve("outputs");
        TrainOptions options = TrainFixtures.options(run).workers(2).averagingFrequency(5).steps(15).checkpointEvery(2)
                .keepCheckpoints(1).learningCurves(true).progressBar(true).build();
        TrainResult result = TrainJob.run(TestSpark.session(), options);

        for (String f : List.of("config.json", "provenance.json", "metrics.csv", "learning_curves.png", "result.json")) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f);
        }
        // Only the newest checkpoint is kept with --keep-checkpoints 1.
        try (var files = Files.list(run.resolve("checkpoints"))) {
            assertEquals(List.of("step-000000000015.fqlckpt"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        String provenance = Files.readString(run.resolve("provenance.json"));
        for (String key : List.of("git_commit", "dataset_path", "dataset_rows", "dataset_manifest_sha256", "seed", "java_version",
                "nd4j_version", "spark_version")) {
            assertTrue(provenance.contains("\"" + key + "\""), key);
        }
        assertTrue(provenance.contains("\"dataset_rows\" : \"600\""), provenance);
        assertTrue(Files.readString(run.resolve("config.json")).contains("\"averaging_frequency\" : 5"));

        List<String> csv = Files.readAllLines(run.resolve("metrics.csv"));
        List<String> header = Arrays.asList(csv.get(0).split(","));
        assertEquals(MetricsLog.columns(options.resolvedConfig()), header);
        for (String name : List.of("step", "critic/critic_loss", "critic/q_mean", "actor/actor_loss", "actor/bc_flow_loss",
                "actor/distill_loss", "actor/q_loss", "grad_norm", "steps_per_second", "samples_per_second", "averaging_seconds")) {
            assertTrue(header.contains(name), name);
        }
        assertEquals(4, csv.size());   // header + 3 rounds
        assertTrue(csv.get(3).startsWith("15,3,2,"), csv.get(3));

        Dataset<Row> parquet = TestSpark.session().read().parquet(run.resolve("metrics.parquet").toString());
        assertEquals(3, parquet.count());
        assertEquals(15L, parquet.agg(org.apache.spark.sql.functions.max("step")).first().getLong(0));
        assertEquals(result.lastMetrics().get("critic/critic_loss"),
                parquet.where("step = 15").select("`critic/critic_loss`").first().getDouble(0));
        byte[] png = Files.readAllBytes(run.resolve("learning_curves.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        assertTrue(result.samplesPerSecond() > 0);
    }

    /** --samples: W workers share one budget of samples, so they take 1/W of the steps; W = 1 is plain --steps. */
    @Test
    void aSamplesBudgetGivesEachOfWWorkersAWthOfTheSteps() {
        TrainOptions one = TrainFixtures.options(Path.of("r")).workers(1).samples(640L).build();
        TrainOptions two = TrainFixtures.options(Path.of("r")).workers(2).samples(640L).build();
        TrainOptions three = TrainFixtures.options(Path.of("r")).workers(3).samples(640L).build();
        assertEquals(20, one.steps());    // 640 / 32
        assertEquals(10, two.steps());    // 640 / (2 x 32)
        assertEquals(7, three.steps());   // ceil(640 / 96): never less than the budget
        assertEquals(640L, two.samples());
        assertEquals(0L, TrainFixtures.options(Path.of("r")).steps(5).build().samples());
    }

    /** --eval-every: the averaged model is evaluated on executors and the success rate goes into the metrics. */
    @Test
    void evaluatesPeriodicallyIntoTheMetricsAndTheCurves() throws IOException {
        Path run = TrainFixtures.tempDir("fql-train").resolve("eval");
        TrainOptions options = TrainFixtures.options(run).workers(2).averagingFrequency(5).steps(15).checkpointEvery(10)
                .evalEvery(10).evalEpisodes(2).evalEnv("pointmaze-medium").learningCurves(true).build();
        TrainResult result = TrainJob.run(TestSpark.session(), options);
        assertEquals(15, result.finalStep());
        List<String> csv = Files.readAllLines(run.resolve("metrics.csv"));
        List<String> header = Arrays.asList(csv.get(0).split(","));
        int success = header.indexOf("eval/success_rate");
        int ret = header.indexOf("eval/mean_return");
        assertTrue(success > 0 && ret > 0, header.toString());
        // Rounds end at steps 5, 10, 15: evaluations at 10 (every 10) and 15 (the end), none at 5.
        assertEquals("NaN", csv.get(1).split(",")[success]);
        for (int line : new int[] {2, 3}) {
            double rate = Double.parseDouble(csv.get(line).split(",")[success]);
            assertTrue(rate >= 0 && rate <= 1, csv.get(line));
            assertTrue(Double.isFinite(Double.parseDouble(csv.get(line).split(",")[ret])), csv.get(line));
        }
        assertTrue(Files.size(run.resolve("learning_curves.png")) > 0);

        Path bad = TrainFixtures.tempDir("fql-train").resolve("eval-bad");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(TestSpark.session(),
                TrainFixtures.options(bad).steps(5).evalEvery(5).evalEnv("pointmaze-nowhere").build()));
        assertTrue(e.getMessage().startsWith("--eval-env"), e.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> TrainFixtures.options(bad).steps(5).evalEvery(5).build());
        assertTrue(missing.getMessage().contains("--eval-env"), missing.getMessage());
    }

    /** local[2] has two task slots: three workers would queue behind each other, so the run is refused up front. */
    @Test
    void refusesMoreWorkersThanTaskSlotsBeforeWritingAnything() {
        Path run = TrainFixtures.tempDir("fql-train").resolve("too-many");
        IllegalArgumentException e = assertThrows(ExecutorPlacement.NotEnoughSlotsException.class,
                () -> TrainJob.run(TestSpark.session(), TrainFixtures.options(run).workers(3).steps(5).build()));
        assertTrue(e.getMessage().contains("--workers 3") && e.getMessage().contains("offers 2"), e.getMessage());
        assertFalse(Files.exists(run), "a refused run must leave no run directory");
    }

    @Test
    void placementAfterALossMovesOnlyTheLostWorkers() {
        List<String> before = List.of("executor_h_0", "executor_h_1", "executor_h_0", "executor_h_1");
        assertEquals(List.of("executor_h_2", "executor_h_1", "executor_h_2", "executor_h_1"),
                ExecutorPlacement.replace(before, List.of("executor_h_1", "executor_h_2")));
        assertEquals(List.of("executor_h_2", "executor_h_1"),
                ExecutorPlacement.replace(List.of("executor_h_0", "executor_h_1"), List.of("executor_h_1", "executor_h_2")));
        assertEquals(before, ExecutorPlacement.replace(before, List.of("executor_h_0", "executor_h_1")));
    }

    @Test
    void refusesAnExistingRunDirectoryWithoutResume() throws IOException {
        Path run = TrainFixtures.tempDir("fql-train").resolve("exists");
        Files.createDirectories(run);
        Files.writeString(run.resolve("something"), "x");
        TrainOptions options = TrainFixtures.options(run).steps(5).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainJob.run(TestSpark.session(), options));
        assertTrue(e.getMessage().contains("already exists") && e.getMessage().contains("--resume"), e.getMessage());
        assertEquals("x", Files.readString(run.resolve("something")));

        Path none = TrainFixtures.tempDir("fql-train").resolve("none");
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
                () -> TrainJob.run(TestSpark.session(), TrainFixtures.options(none).steps(5).resume(true).build()));
        assertTrue(n.getMessage().contains("nothing to resume"), n.getMessage());
    }

    @Test
    void validatesOptionsNamingTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainOptions.builder("d", "r").workers(0).build());
        assertTrue(e.getMessage().contains("--workers"), e.getMessage());
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
                () -> TrainOptions.builder("d", "r").preset("no-such-task").build());
        assertTrue(p.getMessage().contains("unknown preset"), p.getMessage());
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class, () -> TrainOptions.builder("d", "r")
                .overrides(ConfigOverrides.none().with(FqlConfig.DISCOUNT, 2.0)).build());
        assertTrue(b.getMessage().contains("discount"), b.getMessage());
        assertEquals(1_000_000, TrainOptions.builder("d", "r").preset("cube-single-play").build().steps());
        assertEquals(300.0, TrainOptions.builder("d", "r").preset("cube-single-play").build().resolvedConfig().alpha());
    }
}
