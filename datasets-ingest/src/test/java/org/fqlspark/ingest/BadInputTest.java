package org.fqlspark.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.fqlspark.data.DatasetException;
import org.fqlspark.data.DatasetReader;
import org.fqlspark.data.Fixtures;
import org.fqlspark.data.Hdf5Writer;
import org.fqlspark.data.NpzWriter;
import org.fqlspark.data.TestSpark;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * One test per kind of bad input, through the command as a user runs it: exit code 2, a message naming the
 * file, the key and what was expected, and nothing at (or beside) the output path.
 */
class BadInputTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void spark() {
        TestSpark.session(); // the command picks up this session instead of starting its own
    }

    private record Run(int exit, String out, String err) {}

    private Run ingest(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new IngestCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int exit = cmd.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** Runs the command on {@code input} and checks the bad-input contract; returns the error text. */
    private String refused(Path input, String... extra) throws IOException {
        Path output = dir.resolve("out");
        List<String> args = new ArrayList<>(List.of("--input", input.toString(), "--output", output.toString()));
        args.addAll(Arrays.asList(extra));
        Run r = ingest(args.toArray(new String[0]));
        assertEquals(DatasetException.EXIT_CODE, r.exit, "exit code; stderr: " + r.err);
        assertTrue(r.err.contains(input.getFileName().toString()), "names the file: " + r.err);
        assertFalse(Files.exists(output), "no output");
        try (Stream<Path> s = Files.list(dir)) {
            List<String> hidden = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("."))
                    .collect(Collectors.toList());
            assertEquals(List.of(), hidden, "no temporary leftovers");
        }
        return r.err;
    }

    private static void assertMentions(String text, String... parts) {
        for (String p : parts) assertTrue(text.contains(p), "'" + p + "' in: " + text);
    }

    private static float[] seq(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = i * 0.25f;
        return a;
    }

    /** A valid raw-form npz with one tweak. */
    private NpzWriter raw() {
        return new NpzWriter()
                .f32("observations", seq(8), 4, 2)
                .f32("actions", seq(4), 4, 1)
                .f32("terminals", new float[] {0, 0, 0, 1});
    }

    @Test
    void missingPath() throws IOException {
        String err = refused(dir.resolve("nope.npz"));
        assertMentions(err, "does not exist", "expected");
    }

    @Test
    void unreadablePathADirectoryThatIsNoDataset() throws IOException {
        Path d = Files.createDirectories(dir.resolve("just-a-dir"));
        String err = refused(d);
        assertMentions(err, "is a directory", "expected a file");
    }

    @Test
    void truncatedNpz() throws IOException {
        Path good = raw().write(dir.resolve("good.npz"));
        byte[] bytes = Files.readAllBytes(good);
        Path cut = Files.write(dir.resolve("cut.npz"), Arrays.copyOf(bytes, bytes.length / 2));
        Files.delete(good);
        assertMentions(refused(cut), "truncated or corrupt");
    }

    @Test
    void corruptArrayInsideAnIntactArchive() throws IOException {
        // The zip is fine, but the observations payload is shorter than its header's shape says.
        Path f = new NpzWriter()
                .raw("observations", "<f4", false, new int[] {4, 2}, new byte[12])
                .f32("actions", seq(4), 4, 1)
                .f32("terminals", new float[] {0, 0, 0, 1})
                .write(dir.resolve("short.npz"));
        assertMentions(refused(f), "key 'observations'", "truncated or corrupt");
    }

    @Test
    void truncatedHdf5() throws IOException {
        Path good = Hdf5Writer.d4rl(dir.resolve("good.hdf5"), seq(8), 2, seq(4), 1, seq(4), new boolean[4],
                new boolean[4]);
        byte[] bytes = Files.readAllBytes(good);
        Path cut = Files.write(dir.resolve("cut.hdf5"), Arrays.copyOf(bytes, bytes.length * 2 / 3));
        Files.delete(good);
        assertMentions(refused(cut, "--format", "d4rl"), "truncated or corrupt");
    }

    @Test
    void missingKey() throws IOException {
        Path f = new NpzWriter().f32("observations", seq(8), 4, 2).f32("terminals", new float[] {0, 0, 0, 1})
                .write(dir.resolve("noactions.npz"));
        assertMentions(refused(f), "key 'actions'", "is missing", "observations");
    }

    @Test
    void missingKeyInHdf5() throws IOException {
        Path f = dir.resolve("notimeouts.hdf5");
        try (WritableHdfFile h = HdfFile.write(f)) {
            h.putDataset("observations", Hdf5Writer.rows(seq(8), 2));
            h.putDataset("actions", Hdf5Writer.rows(seq(4), 1));
            h.putDataset("rewards", seq(4));
            h.putDataset("terminals", new boolean[4]);
        }
        assertMentions(refused(f), "key 'timeouts'", "is missing");
    }

    @Test
    void mismatchedLengths() throws IOException {
        Path f = new NpzWriter().f32("observations", seq(8), 4, 2).f32("actions", seq(3), 3, 1)
                .f32("terminals", new float[] {0, 0, 0, 1}).write(dir.resolve("lengths.npz"));
        assertMentions(refused(f), "key 'actions'", "3 rows", "4", "mismatched lengths");
    }

    @Test
    void wrongRank() throws IOException {
        Path f = new NpzWriter().f32("observations", seq(4)).f32("actions", seq(4), 4, 1)
                .f32("terminals", new float[] {0, 0, 0, 1}).write(dir.resolve("rank.npz"));
        assertMentions(refused(f), "key 'observations'", "rank 1", "expected rank 2");
    }

    @Test
    void wrongDtype() throws IOException {
        Path f = new NpzWriter().i32("observations", new int[8], 4, 2).f32("actions", seq(4), 4, 1)
                .f32("terminals", new float[] {0, 0, 0, 1}).write(dir.resolve("dtype.npz"));
        assertMentions(refused(f), "key 'observations'", "int32", "expected a floating-point dtype");
    }

    @Test
    void unsupportedDtype() throws IOException {
        Path f = raw().raw("actions", "<f2", false, new int[] {4, 1}, new byte[8]).write(dir.resolve("half.npz"));
        assertMentions(refused(f), "key 'actions'", "<f2", "expected one of float32");
    }

    @Test
    void nanIsAnErrorByDefault() throws IOException {
        float[] obs = seq(8);
        obs[5] = Float.NaN; // row 2, feature 1: the observation of transition 2 and next observation of 1
        Path f = raw().f32("observations", obs, 4, 2).write(dir.resolve("nan.npz"));
        assertMentions(refused(f), "key 'observations'", "row 2", "NaN", "expected finite values", "--drop-invalid");
    }

    @Test
    void infIsAnErrorByDefault() throws IOException {
        float[] act = seq(4);
        act[1] = Float.NEGATIVE_INFINITY;
        Path f = raw().f32("actions", act, 4, 1).write(dir.resolve("inf.npz"));
        assertMentions(refused(f), "key 'actions'", "row 1", "-Infinity", "expected finite values");
    }

    @Test
    void dropInvalidDropsAndCountsThem() throws IOException {
        float[] obs = seq(8);
        obs[5] = Float.NaN; // spoils transitions 1 (as next) and 2 (as current)
        Path f = raw().f32("observations", obs, 4, 2).write(dir.resolve("nan.npz"));
        Path out = dir.resolve("out");
        Run r = ingest("--input", f.toString(), "--output", out.toString(), "--drop-invalid");
        assertEquals(0, r.exit, r.err);
        assertMentions(r.out, "dropped 2 transitions");
        var loaded = DatasetReader.read(TestSpark.session(), out.toString());
        assertEquals(2, loaded.manifest().counts().droppedInvalid());
        assertEquals(1, loaded.data().size());
        assertEquals(true, (Boolean) loaded.manifest().ingestOptions().get("drop_invalid"));
    }

    @Test
    void emptyDataset() throws IOException {
        Path f = new NpzWriter().f32("observations", new float[0], 0, 2).f32("actions", new float[0], 0, 1)
                .f32("terminals", new float[0]).write(dir.resolve("empty.npz"));
        assertMentions(refused(f), "no transitions", "empty dataset");
    }

    @Test
    void objectArrayIsRefusedNotUnpickled() throws IOException {
        // The payload is a pickle stream; it must never reach an unpickler.
        byte[] pickle = {(byte) 0x80, 0x02, ']', 'q', 0x00, '.'};
        Path f = raw().raw("observations", "|O", false, new int[] {4, 2}, pickle).write(dir.resolve("object.npz"));
        assertMentions(refused(f), "key 'observations'", "object array", "never unpickled", "expected a numeric");
    }

    @Test
    void numpyWrittenObjectArrayIsRefused() throws IOException {
        Path f = Files.copy(Fixtures.committed("object-array.npz"), dir.resolve("object-array.npz"));
        assertMentions(refused(f), "key 'observations'", "object array", "refused");
    }

    @Test
    void existingOutputIsRefusedUnlessOverwrite() throws IOException {
        Path f = raw().write(dir.resolve("ok.npz"));
        Path out = Files.createDirectories(dir.resolve("taken"));
        Files.writeString(out.resolve("precious.txt"), "keep me");
        Run r = ingest("--input", f.toString(), "--output", out.toString());
        assertEquals(DatasetException.EXIT_CODE, r.exit);
        assertMentions(r.err, "taken", "already exists", "--overwrite");
        assertEquals("keep me", Files.readString(out.resolve("precious.txt"), StandardCharsets.UTF_8));

        // --overwrite replaces only this project's own output: a directory holding a user's file is refused
        Run again = ingest("--input", f.toString(), "--output", out.toString(), "--overwrite");
        assertEquals(DatasetException.EXIT_CODE, again.exit, again.err);
        assertMentions(again.err, "taken", "not recognisably a dataset", "nothing was touched");
        assertEquals("keep me", Files.readString(out.resolve("precious.txt"), StandardCharsets.UTF_8));
        assertEquals(List.of("precious.txt"), names(out));
    }

    @Test
    void overwriteOfTheInputsOwnDirectoryIsRefusedAndNothingIsTouched() throws IOException {
        // reproduced from the issue: --output DIR with the input DIR/data.npz and an unrelated file in DIR
        Path project = Files.createDirectories(dir.resolve("project"));
        Path f = raw().write(project.resolve("data.npz"));
        Files.writeString(project.resolve("notes.txt"), "mine");
        byte[] input = Files.readAllBytes(f);
        Run r = ingest("--input", f.toString(), "--output", project.toString(), "--overwrite");
        assertEquals(DatasetException.EXIT_CODE, r.exit, r.err);
        assertMentions(r.err, "contains the input", "nothing was touched");
        assertEquals(1, r.err.strip().lines().count(), "one line: " + r.err);
        assertEquals(List.of("data.npz", "notes.txt"), names(project));
        assertArrayEquals(input, Files.readAllBytes(f));
        // the parent of the input's directory is refused as well
        Run parent = ingest("--input", f.toString(), "--output", dir.toString(), "--overwrite");
        assertEquals(DatasetException.EXIT_CODE, parent.exit, parent.err);
        assertMentions(parent.err, "contains the input");
        assertTrue(Files.exists(f));
    }

    @Test
    void overwriteReplacesOurOwnDatasetButLeavesAUsersHiddenFilesAlone() throws IOException {
        Path f = raw().write(dir.resolve("ok.npz"));
        Path out = dir.resolve("ds");
        assertEquals(0, ingest("--input", f.toString(), "--output", out.toString()).exit);
        Files.writeString(out.resolve(".notes"), "a user's hidden file");
        Run again = ingest("--input", f.toString(), "--output", out.toString(), "--overwrite");
        assertEquals(0, again.exit, again.err);
        assertEquals("a user's hidden file", Files.readString(out.resolve(".notes")));
        assertEquals(3, DatasetReader.readManifest(TestSpark.session(), out.toString()).counts().transitions());
        // a file the user put among the shards makes it not ours any more
        Files.writeString(out.resolve("results.xlsx"), "x");
        Run third = ingest("--input", f.toString(), "--output", out.toString(), "--overwrite");
        assertEquals(DatasetException.EXIT_CODE, third.exit);
        assertMentions(third.err, "results.xlsx", "did not write");
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void unknownFormatIsAUsageError() throws IOException {
        Path f = raw().write(dir.resolve("ok.npz"));
        Run r = ingest("--input", f.toString(), "--output", dir.resolve("o").toString(), "--format", "csv");
        assertEquals(2, r.exit);
        assertMentions(r.err, "unknown format 'csv'");
    }
}
