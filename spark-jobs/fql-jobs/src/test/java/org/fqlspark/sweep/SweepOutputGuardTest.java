package org.fqlspark.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.apache.hadoop.conf.Configuration;
import org.fqlspark.cli.FqlCli;
import org.fqlspark.io.OutputGuard;
import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sweep --output} is under the overwrite rule of every other command (issue 21, item 4): our marker, nothing
 * foreign, never the spec's own folder or the working directory. Each refusal is exit 2, one line, nothing touched.
 */
class SweepOutputGuardTest {

    private static final Configuration HADOOP = new Configuration();

    @TempDir
    Path dir;

    private record Outcome(int code, String err) {
    }

    private static Outcome sweep(Path spec, Path output) {
        TestSpark.session();   // the command then uses the running session
        CommandLine cl = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        return new Outcome(cl.execute("sweep", "--spec", spec.toString(), "--output", output.toString()), err.toString());
    }

    private Path spec(Path file) {
        TinyRun.write(file, TinyRun.tinySpec(TinyRun.get().dataset, "alpha: [3]"));
        return file;
    }

    /** Every file under {@code root} with its bytes, to compare before and after. */
    private static Map<String, String> snapshot(Path root) {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                String rel = root.relativize(p).toString();
                files.put(rel, Files.isDirectory(p) ? "<dir>" : new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    /** The reproduction of the issue: a user's directory that happens to hold results.csv, best.json and results.parquet/. */
    @Test
    void aDirectoryOfSomethingElseIsRefusedAndKeepsEveryFile() throws IOException {
        Path out = dir.resolve("my-analysis");
        TinyRun.write(out.resolve("notes.txt"), "my notes\n");
        TinyRun.write(out.resolve("results.csv"), "mine,not,a,sweep's\n");
        TinyRun.write(out.resolve("best.json"), "{\"mine\": true}\n");
        TinyRun.write(out.resolve("results.parquet/part-00000-mine.parquet"), "my table");
        Map<String, String> before = snapshot(out);

        Outcome o = sweep(spec(dir.resolve("specs/spec.yaml")), out);
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains("--output") && o.err().contains(out.toString()) && o.err().contains("sweep"), o.err());
        assertEquals(1, o.err().strip().lines().count(), "one line: " + o.err());
        assertEquals(before, snapshot(out), "nothing touched");
    }

    @Test
    void theSpecsOwnFolderAndAFolderHoldingItAreRefused() {
        Path specs = dir.resolve("specs");
        Path spec = spec(specs.resolve("spec.yaml"));
        Map<String, String> before = snapshot(dir);
        for (Path out : new Path[] {specs, dir}) {
            Outcome o = sweep(spec, out);
            assertEquals(2, o.code(), o.err());
            assertTrue(o.err().contains("the folder of the --spec"), o.err());
            assertEquals(before, snapshot(dir), "nothing touched");
        }
    }

    @Test
    void theWorkingDirectoryIsRefused() {
        SweepSpec s = SweepSpec.read(spec(dir.resolve("spec.yaml")).toString(), HADOOP);
        Path cwd = Path.of("").toAbsolutePath();
        for (Path out : new Path[] {cwd, cwd.getParent()}) {
            var e = assertThrows(OutputGuard.OutputRefusedException.class,
                    () -> SweepJob.checkOutput(s, SweepFiles.qualify(out.toString(), HADOOP), HADOOP));
            assertTrue(e.getMessage().contains("the working directory"), e.getMessage());
        }
    }

    @Test
    void aSweepOfOursIsContinuedButNotWithSomethingForeignBesideIt() throws IOException {
        SweepSpec s = SweepSpec.read(spec(dir.resolve("spec.yaml")).toString(), HADOOP);
        Path out = dir.resolve("out");
        org.apache.hadoop.fs.Path root = SweepFiles.qualify(out.toString(), HADOOP);
        SweepJob.checkOutput(s, root, HADOOP);   // new
        Files.createDirectories(out);
        SweepJob.checkOutput(s, root, HADOOP);   // empty
        TinyRun.write(out.resolve(SweepJob.SPEC_COPY), SweepFiles.yaml(SweepJob.specAsRun(s)));
        Files.createDirectories(out.resolve(SweepJob.TRIALS));
        TinyRun.write(out.resolve(SweepJob.RESULTS_CSV), "trial_id\n");
        TinyRun.write(out.resolve(".my-hidden-notes"), "kept\n");
        SweepJob.checkOutput(s, root, HADOOP);   // ours: a rerun continues it

        TinyRun.write(out.resolve("thesis.tex"), "\\documentclass{article}\n");
        var foreign = assertThrows(OutputGuard.OutputRefusedException.class, () -> SweepJob.checkOutput(s, root, HADOOP));
        assertTrue(foreign.getMessage().contains("thesis.tex"), foreign.getMessage());
        Files.delete(out.resolve("thesis.tex"));

        // a sweep.yaml that is not ours (a hand-written spec: its base is a file, not inlined) does not mark the directory
        TinyRun.write(out.resolve(SweepJob.SPEC_COPY), "name: mine\nbase: ../configs/x.yaml\n");
        var notOurs = assertThrows(OutputGuard.OutputRefusedException.class, () -> SweepJob.checkOutput(s, root, HADOOP));
        assertTrue(notOurs.getMessage().contains("not recognisably a sweep output"), notOurs.getMessage());
    }
}
