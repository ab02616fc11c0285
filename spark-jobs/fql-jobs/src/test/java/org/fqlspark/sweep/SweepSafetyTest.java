package org.fqlspark.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.fqlspark.ingest.IngestJob;
import org.fqlspark.ingest.IngestOptions;
import org.fqlspark.io.Lease;
import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sweeps tell the truth: failed evaluation episodes, a re-ingested dataset, and a second driver on one output. */
class SweepSafetyTest {

    private static final Configuration HADOOP = new Configuration();

    @TempDir
    Path dir;

    private static String spec(Path dataset, String env) {
        return TinyRun.spec("safety", dataset, 10, "{env: \"" + env + "\", episodes: 2, max_episode_steps: 12, partitions: 1}", "");
    }

    private SweepResult sweep(String specText, Path output, ByteArrayOutputStream log) {
        Path file = dir.resolve("spec-" + Math.abs(specText.hashCode()) + ".yaml");
        TinyRun.write(file, specText);
        return SweepJob.run(TestSpark.session(), SweepSpec.read(file.toString(), HADOOP), output.toString(), 1,
                new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    private static String lineServer() {
        try {
            return Path.of(SweepSafetyTest.class.getResource("/eval/line_env_server.py").toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean python() {
        try {
            return new ProcessBuilder("python3", "--version").start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void failedEpisodesLeaveTheTrialIncompleteAndTheNextRunRetriesItsEvaluation() throws IOException {
        assumeTrue(python(), "python3 is needed for the bridge test server");
        Path fault = Files.writeString(dir.resolve("fault-on"), "");
        String env = "bridge:python3 '" + lineServer() + "' --max-steps 12 --fault crash --fault-step 1 --fault-file '" + fault + "'";
        Path out = dir.resolve("sweep");
        String text = spec(TinyRun.get().dataset, env);

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SweepResult first = sweep(text, out, log);
        SweepJob.Outcome o = first.outcomes().get(0);
        assertEquals(SweepJob.Status.INCOMPLETE, o.status(), log.toString(StandardCharsets.UTF_8));
        assertFalse(first.allComplete());
        Path trial = out.resolve("trials").resolve(o.trial().id());
        assertFalse(Files.exists(trial.resolve(SweepJob.COMPLETE)), "a trial with failed episodes is not complete");
        assertTrue(Files.readString(trial.resolve(SweepJob.ERROR)).contains("2 of 2 evaluation episodes failed"));
        assertEquals(0.0, ((Number) o.row().get("success_rate")).doubleValue(), "failed episodes count as unsuccessful");
        assertEquals(2L, ((Number) o.row().get("episodes_failed")).longValue());
        String csv = Files.readString(out.resolve(SweepJob.RESULTS_CSV));
        assertTrue(csv.contains("incomplete") && csv.contains("episodes_failed"), csv);

        Files.delete(fault);   // the environment works again
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        SweepResult second = sweep(text, out, again);
        String log2 = again.toString(StandardCharsets.UTF_8);
        assertEquals(SweepJob.Status.COMPLETED, second.outcomes().get(0).status(), log2);
        assertTrue(log2.contains("training already reached step 10"), log2);
        assertTrue(Files.exists(trial.resolve(SweepJob.COMPLETE)));
        assertFalse(Files.exists(trial.resolve(SweepJob.ERROR)));
        assertEquals(0L, ((Number) second.outcomes().get(0).row().get("episodes_failed")).longValue());
    }

    @Test
    void aReingestedDatasetRunsTheTrialAgainAndKeepsTheEarlierResults() throws IOException {
        TinyRun tiny = TinyRun.get();
        Path npz = tiny.root.resolve("pointmaze-medium-stitch.npz");
        Path data = dir.resolve("data");
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        IngestJob.run(TestSpark.session(), IngestOptions.of(npz.toString(), data.toString()), quiet);
        Path out = dir.resolve("sweep");
        String text = spec(data, "pointmaze-medium");

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        assertEquals(SweepJob.Status.COMPLETED, sweep(text, out, log).outcomes().get(0).status(), log.toString(StandardCharsets.UTF_8));
        assertEquals(SweepJob.Status.SKIPPED, sweep(text, out, new ByteArrayOutputStream()).outcomes().get(0).status());

        IngestJob.run(TestSpark.session(), IngestOptions.of(npz.toString(), data.toString()).withShards(2).withOverwrite(true), quiet);
        ByteArrayOutputStream rerun = new ByteArrayOutputStream();
        SweepResult third = sweep(text, out, rerun);
        String text3 = rerun.toString(StandardCharsets.UTF_8);
        assertEquals(SweepJob.Status.COMPLETED, third.outcomes().get(0).status(), text3);
        assertTrue(text3.contains("the dataset changed"), text3);
        Path trial = out.resolve("trials").resolve(third.outcomes().get(0).trial().id());
        try (Stream<Path> s = Files.list(trial)) {
            List<Path> superseded = s.filter(p -> p.getFileName().toString().startsWith("superseded-")).toList();
            assertEquals(1, superseded.size());
            assertTrue(Files.exists(superseded.get(0).resolve(SweepJob.COMPLETE)), "the earlier results are kept");
            assertTrue(Files.isDirectory(superseded.get(0).resolve("run/checkpoints")));
        }
        assertEquals(third.outcomes().get(0).row().get(ResultsTable.DATASET_SHA),
                SweepFiles.manifestSha256(data.toUri().toString(), HADOOP));
    }

    @Test
    void aSecondDriverOnTheSameSweepOutputIsRefusedAndTouchesNothing() throws IOException {
        Path out = dir.resolve("sweep");
        try (Lease first = Lease.acquire(FileSystem.getLocal(HADOOP), new org.apache.hadoop.fs.Path(out.toUri()), "sweep output")) {
            var e = assertThrows(Lease.HeldException.class,
                    () -> sweep(spec(TinyRun.get().dataset, "pointmaze-medium"), out, new ByteArrayOutputStream()));
            assertTrue(e.getMessage().contains("in use by another driver"), e.getMessage());
            try (Stream<Path> s = Files.list(out)) {
                assertEquals(List.of(Lease.FILE), s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).toList());
            }
            first.check();
        }
    }

    @Test
    void concurrentTrialsMayNotSetTheProcessWideThreadCountForEachOther() {
        String text = spec(TinyRun.get().dataset, "pointmaze-medium") + "grid:\n  train.threads_per_worker: [1, 2]\n";
        Path file = dir.resolve("threads.yaml");
        TinyRun.write(file, text);
        SweepSpec spec = SweepSpec.read(file.toString(), HADOOP);
        var e = assertThrows(IllegalArgumentException.class, () -> SweepJob.run(TestSpark.session(), spec,
                dir.resolve("out").toString(), 2, new PrintStream(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().contains("threads_per_worker") && e.getMessage().contains("--max-concurrent 1"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("out")), "refused before anything is written");
    }
}
