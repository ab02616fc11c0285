package org.fqlspark.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.fqlspark.env.StepResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Java side of the bridge protocol against the standard-library test server (src/test/resources/eval). */
class BridgeEnvironmentTest {

    private static final Duration STARTUP = Duration.ofSeconds(30);
    private static final Duration REQUEST = Duration.ofSeconds(10);

    @BeforeAll
    static void needsPython() {
        EvalFixtures.assumePython();
    }

    private static List<String> server(String... arguments) {
        List<String> command = new ArrayList<>(List.of("python3", EvalFixtures.lineServer()));
        command.addAll(List.of(arguments));
        return command;
    }

    private static BridgeEnvironment start(String... arguments) {
        return BridgeEnvironment.start(server(arguments), STARTUP, REQUEST);
    }

    @Test
    void goodServerPlaysEpisodesAndClosesCleanly() {
        BridgeEnvironment env = start("--max-steps", "5");
        try (env) {
            assertEquals("line-v0", env.id());
            assertEquals(2, env.observationDim());
            assertEquals(2, env.actionDim());
            assertEquals(5, env.maxEpisodeSteps());
            assertArrayEquals(new float[] {-1, -1}, env.actionLow());
            // seed 1000: x = 0 − 0.5.
            assertArrayEquals(new float[] {-0.5f, 1.5f}, env.reset(1000));
            StepResult step = env.step(new float[] {1, 0});
            assertArrayEquals(new float[] {-0.25f, 1.25f}, step.observation());
            assertEquals(-1f, step.reward());
            assertFalse(step.done());
            for (int i = 0; i < 4; i++) step = env.step(new float[] {-1, 0});
            assertTrue(step.truncated(), "time limit 5 reported by the server");
            assertFalse(step.success());
            assertThrows(IllegalStateException.class, () -> env.step(new float[] {0, 0}));
            // A second episode on the same process: five steps of +1 from x = −0.5 end at 0.75, truncated.
            env.reset(1000);
            StepResult last = null;
            for (int i = 0; i < 5 && (last == null || !last.done()); i++) last = env.step(new float[] {1, 1});
            assertTrue(last.truncated());
            env.reset(1000);
            assertThrows(IllegalArgumentException.class, () -> env.step(new float[] {1}));
        }
        assertFalse(env.isAlive(), "close() ends the process");
    }

    @Test
    void successTerminatesTheEpisode() {
        try (BridgeEnvironment env = start("--max-steps", "50")) {
            env.reset(1500);   // x = ((1500 · 7919) mod 1000)/1000 − 0.5 = 0.0
            StepResult step = null;
            int steps = 0;
            while (step == null || !step.done()) {
                step = env.step(new float[] {1, 0});
                steps++;
            }
            assertEquals(4, steps);   // 0 → 0.25 → 0.5 → 0.75 → 1.0
            assertTrue(step.terminated());
            assertTrue(step.success());
            assertEquals(0f, step.reward());
        }
    }

    @Test
    void crashReportsTheExitCodeAndStderr() {
        BridgeEnvironment env = start("--fault", "crash", "--fault-step", "2");
        env.reset(5);
        env.step(new float[] {0, 0});
        BridgeException e = assertThrows(BridgeException.class, () -> env.step(new float[] {0, 0}));
        assertEquals(BridgeException.Kind.CRASH, e.kind());
        assertTrue(e.getMessage().contains("exited with code 3 during 'step 2'"), e.getMessage());
        assertTrue(e.getMessage().contains("Segmentation fault (simulated) in step 2"), e.getMessage());
        assertTrue(e.getMessage().contains("line_env_server.py"), "names the command: " + e.getMessage());
        BridgeException again = assertThrows(BridgeException.class, () -> env.reset(5));
        assertTrue(again.getMessage().contains("unusable after an earlier failure"), again.getMessage());
        env.close();
    }

    @Test
    void hangIsCutOffByTheRequestTimeout() {
        BridgeEnvironment env = BridgeEnvironment.start(server("--fault", "hang"), STARTUP, Duration.ofMillis(1500));
        env.reset(5);
        long started = System.nanoTime();
        BridgeException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(BridgeException.class, () -> env.step(new float[] {0, 0})));
        double waited = (System.nanoTime() - started) / 1e9;
        assertEquals(BridgeException.Kind.TIMEOUT, e.kind());
        assertTrue(e.getMessage().contains("no answer to 'step 1' within 1.5 s"), e.getMessage());
        assertTrue(waited >= 1.4 && waited < 15, "waited " + waited + " s");
        assertFalse(env.isAlive(), "a hung server is killed");
        env.close();
    }

    @Test
    void garbageLinesAreProtocolErrors() {
        BridgeEnvironment env = start("--fault", "garbage");
        env.reset(5);
        BridgeException e = assertThrows(BridgeException.class, () -> env.step(new float[] {0, 0}));
        assertEquals(BridgeException.Kind.PROTOCOL, e.kind());
        assertTrue(e.getMessage().contains("unparsable line in answer to 'step 1'"), e.getMessage());
        assertTrue(e.getMessage().contains("MuJoCo is feeling chatty today"), e.getMessage());
        assertFalse(env.isAlive());
        env.close();
    }

    @Test
    void wrongShapesAreProtocolErrors() {
        BridgeEnvironment env = start("--fault", "wrong-shape");
        env.reset(5);
        BridgeException e = assertThrows(BridgeException.class, () -> env.step(new float[] {0, 0}));
        assertEquals(BridgeException.Kind.PROTOCOL, e.kind());
        assertTrue(e.getMessage().contains("'observation' has 3 values, the handshake said 2"), e.getMessage());
        env.close();
    }

    @Test
    void serverErrorsAreReported() {
        BridgeEnvironment env = start("--fault", "error");
        env.reset(5);
        BridgeException e = assertThrows(BridgeException.class, () -> env.step(new float[] {0, 0}));
        assertEquals(BridgeException.Kind.REMOTE, e.kind());
        assertTrue(e.getMessage().contains("simulated physics blow-up"), e.getMessage());
        env.close();
        assertFalse(env.isAlive());
    }

    @Test
    void aDuplicateAnswerIsAProtocolError() {
        BridgeEnvironment env = start("--fault", "duplicate", "--fault-step", "1");
        env.reset(5);
        env.step(new float[] {0, 0});
        BridgeException e = assertThrows(BridgeException.class, () -> env.step(new float[] {0, 0}));
        assertEquals(BridgeException.Kind.PROTOCOL, e.kind());
        assertTrue(e.getMessage().contains("a line nobody asked for") && e.getMessage().contains("after 'step 1'"), e.getMessage());
        assertFalse(env.isAlive());
        env.close();
    }

    @Test
    void aLineOfMoreThanAFewMegabytesIsRefused() {
        BridgeEnvironment env = start("--fault", "long-line");
        env.reset(5);
        BridgeException e = assertThrows(BridgeException.class, () -> env.step(new float[] {0, 0}));
        assertEquals(BridgeException.Kind.PROTOCOL, e.kind());
        assertTrue(e.getMessage().contains("a line longer than " + BridgeEnvironment.MAX_LINE_CHARS + " characters"), e.getMessage());
        assertTrue(BridgeEnvironment.MAX_LINE_CHARS <= 8 << 20, "a few MB");
        env.close();
    }

    @Test
    void aFloodOnStderrKeepsOnlyTheEndsOfTheLine() {
        BridgeEnvironment env = start("--fault", "stderr-flood");
        env.reset(5);
        BridgeException e = assertThrows(BridgeException.class, () -> env.step(new float[] {0, 0}));
        assertEquals(BridgeException.Kind.CRASH, e.kind());
        // the 6 MB line is cut to its first and last characters: both ends survive, the middle is counted
        assertTrue(e.getMessage().contains("flood start yyy") && e.getMessage().contains("yyy END-OF-FLOOD"), e.getMessage().substring(0, 300));
        assertTrue(e.getMessage().contains("characters]"), e.getMessage().substring(0, 300));
        assertTrue(e.getMessage().length() < 5000, "message of " + e.getMessage().length() + " chars");
        env.close();
    }

    @Test
    void timeoutsAreCapped() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BridgeEnvironment.start(server(), STARTUP, Duration.ofSeconds(10_000_000_000L)));
        assertTrue(e.getMessage().contains("request timeout must be at most 86400 s"), e.getMessage());
    }

    @Test
    void badHandshakesAreRefused() {
        BridgeException version = assertThrows(BridgeException.class, () -> start("--fault", "bad-version"));
        assertEquals(BridgeException.Kind.PROTOCOL, version.kind());
        assertTrue(version.getMessage().contains("version 99, this build speaks version 1"), version.getMessage());

        BridgeException banner = assertThrows(BridgeException.class, () -> start("--fault", "no-handshake"));
        assertTrue(banner.getMessage().contains("unparsable line in answer to 'handshake'"), banner.getMessage());
        assertTrue(banner.getMessage().contains("Welcome to LineEnv"), banner.getMessage());

        BridgeException refused = assertThrows(BridgeException.class, () -> start("--fault", "start-error"));
        assertEquals(BridgeException.Kind.REMOTE, refused.kind());
        assertTrue(refused.getMessage().contains("MuJoCo licence not found"), refused.getMessage());

        BridgeException silent = assertThrows(BridgeException.class,
                () -> BridgeEnvironment.start(server("--fault", "silent"), Duration.ofSeconds(8), REQUEST));
        assertEquals(BridgeException.Kind.TIMEOUT, silent.kind());
        // 8 s: python3 (a pyenv shim here) needs 2-3 s just to start when the box is busy, and the stderr line below must
        // have been written before the timeout
        assertTrue(silent.getMessage().contains("no answer to 'handshake' within 8 s"), silent.getMessage());
        assertTrue(silent.getMessage().contains("line_env_server starting"), "stderr tail: " + silent.getMessage());

        BridgeException missing = assertThrows(BridgeException.class,
                () -> BridgeEnvironment.start(List.of("/nonexistent/fql-env-server"), STARTUP, REQUEST));
        assertEquals(BridgeException.Kind.CRASH, missing.kind());
        assertTrue(missing.getMessage().contains("could not start the process"), missing.getMessage());

        BridgeException exits = assertThrows(BridgeException.class,
                () -> BridgeEnvironment.start(List.of("python3", "-c", "import sys; print('boom', file=sys.stderr); sys.exit(7)"), STARTUP, REQUEST));
        assertEquals(BridgeException.Kind.CRASH, exits.kind());
        assertTrue(exits.getMessage().contains("exited with code 7 during 'handshake'") && exits.getMessage().contains("boom"),
                exits.getMessage());
    }

    @Test
    void theShippedServerWrapsAGymnasiumEnvironment() {
        List<String> command = EvalFixtures.shippedServerWithFakeGymnasium("--env-kwargs", "{\"max_episode_steps\": 7}");
        BridgeEnvironment env = BridgeEnvironment.start(command, STARTUP, REQUEST);
        try (env) {
            // The fake package prints banners through print() and on fd 1: none of it reached the protocol stream.
            assertEquals("FakeReach-v0", env.id());
            assertEquals(2, env.observationDim());
            assertEquals(2, env.actionDim());
            assertEquals(7, env.maxEpisodeSteps());
            assertArrayEquals(new float[] {1, 1}, env.actionHigh());
            float[] first = env.reset(3);
            assertArrayEquals(first, env.reset(3), "same seed, same start");
            StepResult step = env.step(new float[] {1f, 0.5f});
            assertEquals(first[0] + 0.1f, step.observation()[0], 1e-6);
            assertEquals(first[1] + 0.05f, step.observation()[1], 1e-6);
            assertEquals(-1f, step.reward());
            assertFalse(step.success());
            for (int i = 0; i < 6; i++) step = env.step(new float[] {0, 0});
            assertTrue(step.truncated(), "--max-episode-steps 7 of the env constructor");
        }
        assertFalse(env.isAlive());
    }

    @Test
    void theShippedServerExplainsAMissingGymnasium() throws Exception {
        java.nio.file.Path server = java.nio.file.Path.of("../../envbridge/fql_env_server.py");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(server), "envbridge/ not found from " + java.nio.file.Path.of("").toAbsolutePath());
        org.junit.jupiter.api.Assumptions.assumeFalse(pythonHas("gymnasium"), "gymnasium is installed here: nothing to explain");
        BridgeException e = assertThrows(BridgeException.class,
                () -> BridgeEnvironment.start(List.of("python3", server.toString(), "--env-id", "Pendulum-v1"), STARTUP, REQUEST));
        assertEquals(BridgeException.Kind.REMOTE, e.kind());
        assertTrue(e.getMessage().contains("gymnasium is not installed"), e.getMessage());
    }

    private static boolean pythonHas(String module) throws Exception {
        Process p = new ProcessBuilder("python3", "-c", "import " + module).redirectErrorStream(true).start();
        return p.waitFor() == 0;
    }
}
