package org.fqlspark.sweep;

import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.cli.FqlCli;
import org.fqlspark.train.TrainJob;
import org.fqlspark.train.TrainOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import picocli.CommandLine;

/**
 * The sweep on local Spark with the tiny two-trial grid of {@link TinyRun}: outputs, skipping finished trials,
 * resuming an evaluation and an interrupted training, a failing trial that does not stop the others, the command.
 */
class SweepJobTest {

    private static final Configuration HADOOP = new Configuration();

    /** {@code text} written as spec.yaml in a new temporary directory (named from {@code prefix}). */
    private static Path specFile(String prefix, String text) {
        Path spec = TinyRun.tempDir(prefix).resolve("spec.yaml");
        TinyRun.write(spec, text);
        return spec;
    }

    @Test
    @Tag("spark4")   // in the Spark 4 line's subset (parent pom, profile spark4)
    void runsEveryTrialAndWritesTheResultsTableAndTheBest() throws IOException {
        TinyRun run = TinyRun.get();
        SweepResult result = run.firstResult;
        assertEquals(2, result.outcomes().size());
        assertEquals(2, result.count(SweepJob.Status.COMPLETED), run.firstLog);
        assertTrue(result.allComplete());

        for (SweepJob.Outcome o : result.outcomes()) {
            Path trial = run.sweep.resolve("trials").resolve(o.trial().id());
            assertTrue(Files.exists(trial.resolve(SweepJob.COMPLETE)), "marker of " + o.trial().id());
            assertTrue(Files.exists(trial.resolve(SweepJob.TRIAL_JSON)));
            assertTrue(Files.isDirectory(trial.resolve("run/metrics.parquet")));
            assertTrue(Files.exists(trial.resolve("eval/summary.json")));
            assertEquals(20L, ((Number) o.row().get("final_step")).longValue());
            assertEquals(20L, ((Number) o.row().get("checkpoint_step")).longValue());
        }
        SparkSession spark = TestSpark.session();
        Dataset<Row> table = spark.read().parquet(run.sweep.resolve(SweepJob.RESULTS_PARQUET).toString());
        assertEquals(2, table.count());
        List<String> columns = List.of(table.columns());
        for (String c : List.of("trial_id", "status", "parameters", "agent_alpha", "agent_actor_hidden_dims", "train_seed", "train_steps",
                "evaluate_env", "success_rate", "mean_return", "final_step", "last_critic_q_mean", "run_dir", "eval_dir", "error")) {
            assertTrue(columns.contains(c), "column " + c + " in " + columns);
        }
        assertEquals("double", table.schema().apply("agent_alpha").dataType().typeName());
        List<Double> alphas = table.orderBy("trial_index").select("agent_alpha").as(org.apache.spark.sql.Encoders.DOUBLE()).collectAsList();
        assertEquals(List.of(3.0, 30.0), alphas);
        assertEquals("16,16", table.select("agent_actor_hidden_dims").first().getString(0));

        List<String> csv = Files.readAllLines(run.sweep.resolve(SweepJob.RESULTS_CSV));
        assertEquals(3, csv.size());
        assertEquals(String.join(",", table.columns()), csv.get(0));

        Map<String, Object> best = SweepFiles.JSON.readValue(Files.readString(run.sweep.resolve(SweepJob.BEST_JSON)), SweepFiles.MAP);
        SweepJob.Outcome expected = result.outcomes().stream()
                .max(Comparator.comparingDouble((SweepJob.Outcome o) -> orMinus(o.row().get("success_rate")))
                        .thenComparingDouble(o -> orMinus(o.row().get("mean_return")))
                        .thenComparingInt(o -> -o.trial().index()))
                .orElseThrow();
        assertEquals(expected.trial().id(), best.get("trial_id"));
        assertEquals(2, ((List<?>) best.get("ranking")).size());
        // best.yaml is a runnable experiment of its own: one trial, the same id.
        SweepSpec again = SweepSpec.read(run.sweep.resolve(SweepJob.BEST_YAML).toString(), HADOOP);
        assertEquals(expected.trial().id(), again.trials().get(0).id());
    }

    @Test
    void runningAgainSkipsFinishedTrialsAndResumesAnEvaluation() throws IOException {
        TinyRun run = TinyRun.get();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SweepResult again = SweepJob.run(TestSpark.session(), SweepSpec.read(run.spec.toString(), HADOOP), run.sweep.toString(), 1,
                new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(2, again.count(SweepJob.Status.SKIPPED), log.toString(StandardCharsets.UTF_8));
        assertEquals(run.firstResult.best().get("trial_id"), again.best().get("trial_id"));

        // A trial whose training finished but whose evaluation did not: the marker and the evaluation are gone.
        String id = run.firstResult.outcomes().get(0).trial().id();
        Path trial = run.sweep.resolve("trials").resolve(id);
        Files.delete(trial.resolve(SweepJob.COMPLETE));
        TinyRun.deleteQuietly(trial.resolve("eval"));
        long checkpointTime = Files.getLastModifiedTime(trial.resolve("run/result.json")).toMillis();
        log.reset();
        SweepResult resumed = SweepJob.run(TestSpark.session(), SweepSpec.read(run.spec.toString(), HADOOP), run.sweep.toString(), 2,
                new PrintStream(log, true, StandardCharsets.UTF_8));
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(SweepJob.Status.COMPLETED, resumed.outcomes().get(0).status(), text);
        assertEquals(SweepJob.Status.SKIPPED, resumed.outcomes().get(1).status(), text);
        assertTrue(text.contains("[trial " + id + "] training already reached step 20, not run again"), text);
        assertEquals(checkpointTime, Files.getLastModifiedTime(trial.resolve("run/result.json")).toMillis(), "training ran again");
        assertTrue(Files.exists(trial.resolve(SweepJob.COMPLETE)));
        // Same checkpoint, same seeds: the evaluation reproduces the first one.
        assertEquals(run.firstResult.outcomes().get(0).row().get("mean_return"), resumed.outcomes().get(0).row().get("mean_return"));
    }

    @Test
    void anInterruptedTrainingIsResumedFromItsCheckpoint() throws IOException {
        TinyRun run = TinyRun.get();
        Path spec = specFile("fql-sweep-resume", TinyRun.tinySpec(run.dataset, "alpha: [10]"));
        Path dir = spec.getParent();
        SweepSpec.Trial trial = SweepSpec.read(spec.toString(), HADOOP).trials().get(0);
        Path out = dir.resolve("out");
        Path runDir = out.resolve("trials").resolve(trial.id()).resolve("run");
        // The first attempt stopped after its first round (step 10 of 20), with a checkpoint; like every sweep, it had
        // marked its output with sweep.yaml before starting any trial.
        TinyRun.write(out.resolve(SweepJob.SPEC_COPY), SweepFiles.yaml(SweepJob.specAsRun(SweepSpec.read(spec.toString(), HADOOP))));
        TrainOptions firstAttempt = trial.config().trainOptions(runDir.toString(), false).toBuilder().steps(10).learningCurves(false).build();
        TrainJob.run(TestSpark.session(), firstAttempt, new PrintStream(java.io.OutputStream.nullOutputStream()));

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SweepResult result = SweepJob.run(TestSpark.session(), SweepSpec.read(spec.toString(), HADOOP), out.toString(), 1,
                new PrintStream(log, true, StandardCharsets.UTF_8));
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(SweepJob.Status.COMPLETED, result.outcomes().get(0).status(), text);
        assertTrue(text.contains("resuming training"), text);
        assertTrue(text.contains("(step 10)"), "resumed from the step-10 checkpoint: " + text);
        assertEquals(20L, ((Number) result.outcomes().get(0).row().get("final_step")).longValue());
        List<String> metrics = Files.readAllLines(runDir.resolve("metrics.csv"));
        assertEquals(3, metrics.size(), "header + one row per round of 10 steps: " + metrics);
    }

    /** A grid over the online phase: an offline-only trial and one with 30 online steps (docs/algorithm.md §5) beside it. */
    @Test
    void aSweepCanIncludeTheOnlinePhase() throws IOException {
        TinyRun run = TinyRun.get();
        Path spec = specFile("fql-sweep-online", TinyRun.tinySpec(run.dataset, "alpha: [3]")
                .replace("seed: 3}", "seed: 3, online_env: pointmaze-medium}") + "  train.online_steps: [0, 30]\n");
        Path dir = spec.getParent();
        List<SweepSpec.Trial> trials = SweepSpec.read(spec.toString(), HADOOP).trials();
        assertEquals(2, trials.size());
        SweepResult result = SweepJob.run(TestSpark.session(), SweepSpec.read(spec.toString(), HADOOP), dir.resolve("out").toString(), 1,
                new PrintStream(java.io.OutputStream.nullOutputStream()));
        List<Long> finalSteps = result.outcomes().stream().map(o -> ((Number) o.row().get("final_step")).longValue()).sorted().toList();
        assertEquals(List.of(20L, 50L), finalSteps, "20 offline steps, then 20 + 30 online");
        for (SweepSpec.Trial t : trials) {
            Path online = dir.resolve("out").resolve("trials").resolve(t.id()).resolve("run").resolve("online");
            assertEquals(t.config().train().onlineSteps() != null && t.config().train().onlineSteps() > 0, Files.exists(online),
                    t.parameters().toString());
        }
        // an online phase without its environment is refused when the spec is read, naming the key
        TinyRun.write(spec, TinyRun.tinySpec(run.dataset, "alpha: [3]") + "  train.online_steps: [30]\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SweepSpec.read(spec.toString(), HADOOP).trials());
        assertTrue(e.getMessage().contains("online_env"), e.getMessage());
    }

    /**
     * A grid over {@code agent.horizon_length} (FQL and QC-FQL with chunks of 3): both trials train and evaluate, and each
     * trial's checkpoint carries its own h into the agent.
     */
    @Test
    void aSweepGridOverHorizonLengthTrainsFqlAndQcFql() throws IOException {
        TinyRun run = TinyRun.get();
        Path spec = specFile("fql-sweep-horizon", TinyRun.tinySpec(run.dataset, "horizon_length: [1, 3]"));
        Path dir = spec.getParent();
        List<SweepSpec.Trial> trials = SweepSpec.read(spec.toString(), HADOOP).trials();
        assertEquals(2, trials.size());
        SweepResult result = SweepJob.run(TestSpark.session(), SweepSpec.read(spec.toString(), HADOOP), dir.resolve("out").toString(), 1,
                new PrintStream(java.io.OutputStream.nullOutputStream()));
        assertEquals(2, result.count(SweepJob.Status.COMPLETED));
        for (SweepJob.Outcome o : result.outcomes()) {
            int h = o.trial().config().fqlConfig().horizonLength();
            Path checkpoint = dir.resolve("out").resolve("trials").resolve(o.trial().id()).resolve("run/checkpoints/step-000000000020.fqlckpt");
            org.fqlspark.agent.Checkpoint cp = org.fqlspark.agent.Checkpoint.fromBytes(Files.readAllBytes(checkpoint), "cp");
            assertEquals(h, cp.config().horizonLength(), o.trial().id());
            assertEquals(h * cp.actionDim(), cp.restore().chunkActionDim(), "the networks are h·A wide");
            assertNotNull(o.row().get("success_rate"), "evaluated (open-loop chunks when h > 1)");
        }
        assertEquals(List.of(1, 3), result.outcomes().stream().map(o -> o.trial().config().fqlConfig().horizonLength()).sorted().toList());
    }

    @Test
    void aFailingTrialIsReportedAndTheOthersRun() throws IOException {
        TinyRun run = TinyRun.get();
        Path dir = TinyRun.tempDir("fql-sweep-failing");
        Path spec = dir.resolve("spec.yaml");
        TinyRun.write(spec, TinyRun.tinySpec(run.dataset, "alpha: [3]") + """
                variants:
                  dataset:
                    missing: {data: %s}
                    tiny: {data: %s}
                """.formatted(dir.resolve("no-such-dataset").toUri(), run.dataset.toUri()));
        Path out = dir.resolve("out");
        SweepResult result = SweepJob.run(TestSpark.session(), SweepSpec.read(spec.toString(), HADOOP), out.toString(), 2,
                new PrintStream(java.io.OutputStream.nullOutputStream()));
        assertEquals(SweepJob.Status.FAILED, result.outcomes().get(0).status());
        // The same experiment as the tiny run's α = 3 trial, so the same id (run again here: another output directory).
        assertEquals(SweepJob.Status.COMPLETED, result.outcomes().get(1).status());
        assertEquals(run.firstResult.outcomes().get(0).trial().id(), result.outcomes().get(1).trial().id());
        assertFalse(result.allComplete());
        assertTrue(Files.exists(out.resolve("trials").resolve(result.outcomes().get(0).trial().id()).resolve(SweepJob.ERROR)));
        Dataset<Row> table = TestSpark.session().read().parquet(out.resolve(SweepJob.RESULTS_PARQUET).toString());
        Row failed = table.filter("status = 'failed'").first();
        assertEquals("missing", failed.getAs("dataset"));
        assertNotNull(failed.getAs("error"));
        assertNull(failed.getAs("success_rate"));
        assertEquals(result.outcomes().get(1).trial().id(), result.best().get("trial_id"));
    }

    @Test
    void theCommandListsTrialsAndReportsFinishedSweeps() {
        TinyRun run = TinyRun.get();
        StringWriter out = new StringWriter();
        CommandLine cli = FqlCli.commandLine();
        java.io.PrintStream previous = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int dry;
        int rerun;
        try {
            cli.setOut(new PrintWriter(out));
            dry = cli.execute("sweep", "--spec", run.spec.toString(), "--output", run.sweep.toString(), "--dry-run");
            rerun = FqlCli.commandLine().execute("sweep", "--spec", run.spec.toString(), "--output", run.sweep.toString());
        } finally {
            System.setOut(previous);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, dry, text);
        for (SweepJob.Outcome o : run.firstResult.outcomes()) {
            assertTrue(text.contains(o.trial().id()), text);
        }
        assertEquals(0, rerun, text);
        assertTrue(text.contains("0 completed now, 2 already complete, 0 incomplete") && text.contains(", 0 failed;"), text);
        assertFalse(TestSpark.session().sparkContext().isStopped(), "the command stopped a session it did not create");

        assertEquals(2, FqlCli.commandLine().execute("sweep", "--spec", run.root.resolve("missing.yaml").toString(), "--output", "x"));
    }

    private static double orMinus(Object v) {
        return v instanceof Number n ? n.doubleValue() : Double.NEGATIVE_INFINITY;
    }
}
