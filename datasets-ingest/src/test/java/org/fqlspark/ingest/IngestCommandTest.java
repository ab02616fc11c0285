package org.fqlspark.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.fqlspark.data.DatasetReader;
import org.fqlspark.data.Fixtures;
import org.fqlspark.data.TestSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command's options reach the job. */
class IngestCommandTest {

    @TempDir
    Path dir;

    private int run(StringWriter out, StringWriter err, String... args) {
        TestSpark.session();
        CommandLine cmd = new CommandLine(new IngestCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    @Test
    void goalLabellingShardsAndProgressOutput() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Path output = dir.resolve("labelled");
        int exit = run(out, err, "--input", Fixtures.committed("ogbench-raw-numpy.npz").toString(),
                "--output", output.toString(), "--goal-xy", "1,2.3", "--shards", "2", "--reward-shift", "0.5");
        assertEquals(0, exit, err.toString());
        var ds = DatasetReader.read(TestSpark.session(), output.toString());
        assertArrayEquals(new float[] {-0.5f, 0.5f, -0.5f}, ds.data().rewards(), "success - 1, then + 0.5");
        assertArrayEquals(new float[] {1, 0, 1}, ds.data().masks());
        assertEquals(2, ds.manifest().shards().size());
        assertTrue(ds.manifest().source().details().get("labelling").startsWith("goal xy"));
        assertTrue(out.toString().contains("ingest: wrote"), out.toString());
        assertTrue(out.toString().contains("3 transitions"), out.toString());
    }

    @Test
    void malformedGoalIsAUsageError() {
        StringWriter err = new StringWriter();
        int exit = run(new StringWriter(), err, "--input", "x.npz", "--output", dir.resolve("o").toString(),
                "--goal-xy", "1");
        assertEquals(2, exit);
        assertTrue(err.toString().contains("--goal-xy needs two numbers"), err.toString());
    }
}
