package org.fqlspark.eval;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;

/** Tiny checkpoints and the Python test server shared by the evaluation tests. */
public final class EvalFixtures {

    /** Small enough that an episode step costs well under a millisecond. */
    static final FqlConfig TINY = FqlConfig.defaults().withHiddenDims(32, 32);

    private static Boolean pythonAvailable;

    private EvalFixtures() {
    }

    /** A freshly initialised (untrained) agent's checkpoint; obs and action dims 2 fit the point-maze. */
    static Path checkpoint(Path dir, String name, int obsDim, int actionDim, long seed) throws IOException {
        FqlAgent agent = new FqlAgent(TINY, obsDim, actionDim, seed);
        Path file = dir.resolve(name);
        Checkpoint.of(agent, Map.of("purpose", "evaluation test")).save(file);
        return file;
    }

    static Path pointMazeCheckpoint(Path dir) throws IOException {
        return checkpoint(dir, "agent.ckpt", 2, 2, 7);
    }

    /** Skips the calling test, with a message, when python3 cannot be run. */
    public static void assumePython() {
        assumeTrue(pythonAvailable(), "python3 is not on the PATH: the bridge tests need it (any Python 3, standard library only)");
    }

    static synchronized boolean pythonAvailable() {
        if (pythonAvailable == null) {
            try {
                Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
                pythonAvailable = p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException e) {
                pythonAvailable = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pythonAvailable = false;
            }
        }
        return pythonAvailable;
    }

    static String lineServer() {
        try {
            return Path.of(EvalFixtures.class.getResource("/eval/line_env_server.py").toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code envbridge/fql_env_server.py}, the shipped server, run against the stand-in gymnasium of
     * {@code src/test/resources/eval/fakegym} (needs numpy, as the real server does); skips the test when either is missing.
     */
    static List<String> shippedServerWithFakeGymnasium(String... arguments) {
        assumePython();
        Path server = Path.of("../../envbridge/fql_env_server.py").toAbsolutePath().normalize();
        assumeTrue(Files.isRegularFile(server), "envbridge/fql_env_server.py not found at " + server);
        assumeTrue(pythonCan("import numpy"), "numpy is not installed for python3: the shipped server needs it");
        Path fakeGym;
        try {
            fakeGym = Path.of(EvalFixtures.class.getResource("/eval/fakegym").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        List<String> command = new ArrayList<>(List.of("env", "PYTHONPATH=" + fakeGym, "python3", server.toString(), "--env-id", "FakeReach-v0"));
        command.addAll(List.of(arguments));
        return command;
    }

    static boolean pythonCan(String code) {
        try {
            Process p = new ProcessBuilder("python3", "-c", code).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@code bridge:python3 <line server> <arguments>}. */
    public static String lineBridge(String arguments) {
        return "bridge:python3 '" + lineServer() + "' " + arguments;
    }
}
