package org.fqlspark.eval;

import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.fqlspark.cli.FqlCli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code fql evaluate} through the real command line; the shared session is reused, not stopped. */
@Tag("spark4")   // in the Spark 4 line's subset (parent pom, profile spark4)
class EvaluateCommandTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void session() {
        TestSpark.session();
    }

    @Test
    void smokeRunWritesTheOutputs() throws Exception {
        Path checkpoint = EvalFixtures.pointMazeCheckpoint(dir);
        Path out = dir.resolve("eval");
        CommandLine cli = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("evaluate", "--checkpoint", checkpoint.toString(), "--env", "pointmaze-medium", "--episodes", "3",
                "--output", out.toString(), "--seed", "4", "--partitions", "2", "--max-episode-steps", "20", "--master", "local[2]");
        assertEquals(0, code, err.toString());
        assertTrue(Files.isRegularFile(out.resolve("summary.json")));
        assertTrue(Files.isRegularFile(out.resolve("trajectories.png")));
        assertTrue(Files.isDirectory(out.resolve("episodes.parquet")));
        assertTrue(TestSpark.session().sparkContext().isStopped() == false, "the command leaves a session it did not create running");
    }

    @Test
    void badInputExitsWithCodeTwoAndOneLine() throws Exception {
        CommandLine cli = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("evaluate", "--checkpoint", dir.resolve("missing.ckpt").toString(), "--env", "pointmaze-medium",
                "--episodes", "2", "--output", dir.resolve("out").toString());
        assertEquals(2, code);
        assertTrue(err.toString().startsWith("error: --checkpoint ") && err.toString().contains("missing.ckpt"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());

        err.getBuffer().setLength(0);
        code = cli.execute("evaluate", "--checkpoint", "x", "--env", "pointmaze-medium", "--episodes", "0", "--output", "y");
        assertEquals(2, code);
        assertTrue(err.toString().contains("--episodes must be in 1.."), err.toString());
    }
}
