package org.fqlspark.train;

import org.fqlspark.testing.CliRun;
import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.fqlspark.agent.Checkpoint;
import org.junit.jupiter.api.Test;

import org.fqlspark.train.worker.TrainingState;

/** The train command end to end through the CLI on the shared session (the command leaves a running session alone). */
class TrainCommandTest {

    private static CliRun fql(String... args) {
        TestSpark.session();
        return CliRun.fql(args);
    }

    private static String[] train(Path run, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--data", TrainFixtures.dataset().toString(), "--run-dir", run.toString(),
                "--hidden-dims", "16,16", "--batch-size", "32", "--flow-steps", "3", "--seed", "3", "--no-progress"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void trainsRefusesToOverwriteAndResumesWithTheRunsOwnSettings() throws Exception {
        Path run = TrainFixtures.tempDir("fql-cli").resolve("run");
        assertEquals(0, fql(train(run, "--steps", "6", "--averaging-frequency", "3", "--value-hidden-dims", "24")).code());
        assertTrue(Files.exists(run.resolve("checkpoints/step-000000000006.fqlckpt")));

        CliRun again = fql(train(run, "--steps", "6"));
        assertEquals(2, again.code());
        assertTrue(again.err().contains("already exists") && again.err().contains("--resume"), again.err());

        // --resume needs neither --data nor the hyper-parameters: they come from the run's config.json.
        assertEquals(0, fql("train", "--run-dir", run.toString(), "--resume", "--steps", "9", "--no-progress").code());
        Checkpoint cp = Checkpoint.fromBytes(Files.readAllBytes(run.resolve("checkpoints/step-000000000009.fqlckpt")), "cp");
        // --value-hidden-dims widened the critic alone, and the resumed run kept it from config.json
        assertEquals(List.of(16, 16), cp.config().actorHiddenDims());
        assertEquals(List.of(24), cp.config().valueHiddenDims());
        LocalTrainer local = new LocalTrainer(cp.config(), TrainFixtures.data(), 3);
        local.trainTo(9);
        TrainFixtures.assertSameState(local.agent().state(), TrainingState.of(cp.state()));
        assertTrue(Files.readString(run.resolve("result.json")).contains("\"final_step\" : 9"));
    }

    /**
     * {@code --horizon-length 3} reaches the agent: a QC-FQL run (W = 2, shards split per episode, evaluated during
     * training) writes checkpoints of chunked networks, keeps h when resumed without the flag, and equals the
     * single-process trainer at W = 1.
     */
    @Test
    void horizonLengthFromTheCommandLineTrainsQcFql() throws Exception {
        Path run = TrainFixtures.tempDir("fql-cli").resolve("chunked");
        assertEquals(0, fql(train(run, "--steps", "4", "--workers", "2", "--averaging-frequency", "2", "--horizon-length", "3",
                "--eval-every", "4", "--eval-episodes", "2", "--eval-env", "pointmaze-medium")).code());
        Checkpoint cp = Checkpoint.fromBytes(Files.readAllBytes(run.resolve("checkpoints/step-000000000004.fqlckpt")), "cp");
        List<String> csv = Files.readAllLines(run.resolve("metrics.csv"));
        int success = List.of(csv.get(0).split(",")).indexOf("eval/success_rate");
        double rate = Double.parseDouble(csv.get(csv.size() - 1).split(",")[success]);
        assertTrue(rate >= 0 && rate <= 1, "the evaluation during training plays the chunks: " + csv.get(csv.size() - 1));
        assertEquals(3, cp.config().horizonLength());
        assertEquals(3 * cp.actionDim(), cp.restore().chunkActionDim());
        assertTrue(Files.readString(run.resolve("config.json")).contains("\"horizon_length\" : 3"));
        assertEquals(0, fql("train", "--run-dir", run.toString(), "--resume", "--steps", "6", "--no-progress").code());
        assertEquals(3, Checkpoint.fromBytes(Files.readAllBytes(run.resolve("checkpoints/step-000000000006.fqlckpt")), "cp")
                .config().horizonLength(), "resumed with the run's own h");

        Path single = TrainFixtures.tempDir("fql-cli").resolve("chunked-w1");
        assertEquals(0, fql(train(single, "--steps", "5", "--averaging-frequency", "5", "--horizon-length", "3")).code());
        Checkpoint one = Checkpoint.fromBytes(Files.readAllBytes(single.resolve("checkpoints/step-000000000005.fqlckpt")), "cp");
        LocalTrainer local = new LocalTrainer(one.config(), TrainFixtures.data(), 3);
        local.trainTo(5);
        assertEquals(3, local.agent().horizon());
        TrainFixtures.assertSameState(local.agent().state(), TrainingState.of(one.state()));
    }

    /**
     * The online phase from the command line: a finished W = 2 offline run is extended with an exact-mode online phase
     * (W = 1, allowed because the run had finished), then its budget grown; changing W mid-run is refused.
     */
    @Test
    void aFinishedOfflineRunGetsAnOnlinePhaseFromTheCommandLine() throws Exception {
        Path run = TrainFixtures.tempDir("fql-cli").resolve("online");
        assertEquals(0, fql(train(run, "--steps", "20", "--workers", "2", "--averaging-frequency", "10")).code());
        CliRun missingEnv = fql("train", "--run-dir", run.toString(), "--resume", "--online-steps", "30", "--workers", "1");
        assertEquals(2, missingEnv.code());
        assertTrue(missingEnv.err().contains("--env"), missingEnv.err());
        CliRun exactW2 = fql("train", "--run-dir", run.toString(), "--resume", "--online-steps", "30", "--env", "pointmaze-medium",
                "--no-progress");
        assertEquals(2, exactW2.code());
        assertTrue(exactW2.err().contains("--workers") && exactW2.err().contains("distributed"), exactW2.err());
        assertEquals(0, fql("train", "--run-dir", run.toString(), "--resume", "--online-steps", "30", "--env", "pointmaze-medium",
                "--workers", "1", "--averaging-frequency", "10", "--no-progress").code());
        assertTrue(Files.readString(run.resolve("result.json")).contains("\"final_step\" : 50"));
        // the saved online settings and W = 1 come back on resume; only the budget is given
        assertEquals(0, fql("train", "--run-dir", run.toString(), "--resume", "--online-steps", "40", "--no-progress").code());
        String result = Files.readString(run.resolve("result.json"));
        assertTrue(result.contains("\"final_step\" : 60") && result.contains("\"env_steps\" : 40"), result);

        Path mid = TrainFixtures.tempDir("fql-cli").resolve("mid");
        assertEquals(0, fql(train(mid, "--steps", "20", "--workers", "2", "--averaging-frequency", "10", "--checkpoint-every", "1")).code());
        Files.delete(mid.resolve("checkpoints/step-000000000020.fqlckpt"));   // as if it had stopped at step 10
        CliRun changed = fql("train", "--run-dir", mid.toString(), "--resume", "--workers", "1", "--no-progress");
        assertEquals(2, changed.code());
        assertTrue(changed.err().contains("W may change only once a run has finished"), changed.err());
    }

    @Test
    void resumeOrStartStartsAFreshRunThenResumesIt() throws Exception {
        Path run = TrainFixtures.tempDir("fql-cli").resolve("retry");
        // the same command twice, as a scheduler retrying it would: the first starts, the second continues
        assertEquals(0, fql(train(run, "--steps", "6", "--averaging-frequency", "3", "--resume-or-start")).code());
        assertTrue(Files.exists(run.resolve("checkpoints/step-000000000006.fqlckpt")));
        assertEquals(0, fql(train(run, "--steps", "9", "--averaging-frequency", "3", "--resume-or-start")).code());
        Checkpoint cp = Checkpoint.fromBytes(Files.readAllBytes(run.resolve("checkpoints/step-000000000009.fqlckpt")), "cp");
        LocalTrainer local = new LocalTrainer(cp.config(), TrainFixtures.data(), 3);
        local.trainTo(9);
        TrainFixtures.assertSameState(local.agent().state(), TrainingState.of(cp.state()));
        CliRun both = fql(train(run, "--steps", "9", "--resume", "--resume-or-start"));
        assertEquals(2, both.code());
        assertTrue(both.err().contains("--resume-or-start"), both.err());
    }

    /**
     * A resume runs no command this command line did not give (issue 21, item 5): a {@code bridge:} environment stored
     * in config.json (here written by someone else, as a command that would leave a file behind) must be restated.
     */
    @Test
    void aResumeDoesNotRunABridgeCommandStoredInTheRunDirectory() throws Exception {
        Path root = TrainFixtures.tempDir("fql-cli");
        Path run = root.resolve("theirs");
        assertEquals(0, fql(train(run, "--steps", "6", "--averaging-frequency", "3", "--online-steps", "3", "--env",
                "pointmaze-medium")).code());
        Path ranEval = root.resolve("eval-command-ran");
        Path ranOnline = root.resolve("online-command-ran");
        String evalCommand = "bridge:touch '" + ranEval + "'";
        String onlineCommand = "bridge:touch '" + ranOnline + "'";
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode config = (com.fasterxml.jackson.databind.node.ObjectNode)
                json.readTree(run.resolve("config.json").toFile());
        com.fasterxml.jackson.databind.node.ObjectNode train = (com.fasterxml.jackson.databind.node.ObjectNode) config.get("train");
        train.put("eval_every", 3).put("eval_env", evalCommand);
        ((com.fasterxml.jackson.databind.node.ObjectNode) train.get("online")).put("env", onlineCommand);
        Files.writeString(run.resolve("config.json"), json.writeValueAsString(config));
        java.util.Map<String, Long> before = listing(run);

        for (String flag : List.of("--resume", "--resume-or-start")) {
            CliRun eval = fql("train", "--run-dir", run.toString(), flag, "--online-steps", "6", "--no-progress");
            assertEquals(2, eval.code(), eval.err());
            assertEquals(1, eval.err().strip().lines().count(), "one line: " + eval.err());
            assertTrue(eval.err().contains("--eval-env") && eval.err().contains(evalCommand), eval.err());
            assertFalse(Files.exists(ranEval), "the stored evaluation command was run");
            assertFalse(Files.exists(ranOnline), "the stored online command was run");
            assertEquals(before, listing(run), "nothing written");
        }
        // the evaluation restated (as another environment): now the stored online command is the one refused
        CliRun online = fql("train", "--run-dir", run.toString(), "--resume", "--online-steps", "6", "--eval-env",
                "pointmaze-medium", "--no-progress");
        assertEquals(2, online.code(), online.err());
        assertTrue(online.err().contains("--env") && online.err().contains(onlineCommand), online.err());
        assertFalse(Files.exists(ranOnline), "the stored online command was run");
        assertEquals(before, listing(run), "nothing written");
        // both given on this command line: the resume runs
        assertEquals(0, fql("train", "--run-dir", run.toString(), "--resume", "--online-steps", "6", "--eval-env",
                "pointmaze-medium", "--env", "pointmaze-medium", "--eval-episodes", "1", "--no-progress").code());
        assertTrue(Files.readString(run.resolve("result.json")).contains("\"final_step\" : 12"));
        assertFalse(Files.exists(ranEval) || Files.exists(ranOnline));
    }

    /** Every file under {@code dir} with its size and modification time. */
    private static java.util.Map<String, Long> listing(Path dir) throws java.io.IOException {
        java.util.Map<String, Long> m = new java.util.TreeMap<>();
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                m.put(dir.relativize(p) + " " + Files.size(p), Files.getLastModifiedTime(p).toMillis());
            }
        }
        return m;
    }

    @Test
    void badInputExitsWithTwoAndOneLine() {
        Path run = TrainFixtures.tempDir("fql-cli").resolve("bad");
        CliRun workers = fql(train(run, "--workers", "0"));
        assertEquals(2, workers.code());
        assertTrue(workers.err().contains("--workers must be at least 1"), workers.err());
        CliRun agg = fql(train(run, "--q-agg", "max"));
        assertEquals(2, agg.code());
        assertTrue(agg.err().contains("--q-agg"), agg.err());
        CliRun nothing = fql("train", "--run-dir", run.toString(), "--resume");
        assertEquals(2, nothing.code());
        assertTrue(nothing.err().contains("nothing to resume"), nothing.err());
        CliRun noData = fql("train", "--run-dir", run.toString());
        assertEquals(2, noData.code());
        CliRun missing = fql("train", "--data", run.resolve("no-such-dataset").toString(), "--run-dir", run.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("manifest.json"), missing.err());
    }
}
