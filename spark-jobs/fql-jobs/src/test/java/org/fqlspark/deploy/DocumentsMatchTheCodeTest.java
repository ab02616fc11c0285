package org.fqlspark.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.fqlspark.io.HadoopFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Statements in the documents that once contradicted the code (issue 21, item 11), each beside the behaviour it
 * describes: failed evaluation episodes count as unsuccessful in the success rate (EpisodeStatisticsTest pins that);
 * a dump without the multi-step Adam state passes with a note (ConformanceNotVacuousTest); and hidden files a user
 * keeps in an output of ours survive a replacement at the output's top level only (pinned here).
 */
class DocumentsMatchTheCodeTest {

    @TempDir
    Path dir;

    private static String read(String relative) {
        return DeployFiles.read(DeployFiles.repositoryRoot().resolve(relative));
    }

    /** Joins a Markdown or Javadoc paragraph's lines, so that a phrase broken across lines is found. */
    private static String flat(String text) {
        return text.replaceAll("\\s*\\n\\s*(\\*\\s*)?", " ");
    }

    @Test
    void failedEpisodesAreDocumentedAsUnsuccessful() {
        String javadoc = flat(read("spark-jobs/fql-jobs/src/main/java/org/fqlspark/eval/EvalSummary.java"));
        assertFalse(javadoc.contains("Rates and means are over completed episodes"), "EvalSummary's javadoc");
        assertTrue(javadoc.contains("count as unsuccessful"), "EvalSummary's javadoc says how failed episodes count");
        String episode = flat(read("spark-jobs/fql-jobs/src/main/java/org/fqlspark/eval/EpisodeResult.java"));
        assertFalse(episode.contains("the episode is left out of the summary statistics"), "EpisodeResult's javadoc");
        String bridge = flat(read("envbridge/README.md"));
        assertFalse(bridge.contains("left out of the summary statistics"), "envbridge/README.md");
        assertTrue(bridge.contains("count as unsuccessful"), "envbridge/README.md says how failed episodes count");
    }

    @Test
    void goldenDumpSaysWhatConformanceDoesWithTheOlderFormat() {
        String source = flat(read("spark-jobs/fql-agent/src/main/java/org/fqlspark/conformance/GoldenDump.java"));
        assertFalse(source.contains("which {@link Conformance} then fails"), "GoldenDump's comment on multiAdam");
        assertTrue(source.contains("passes with a note"), "GoldenDump's comment on multiAdam");
    }

    @Test
    void hiddenFilesAreKeptAtTheTopLevelOnly() throws Exception {
        String readme = flat(read("README.md"));
        assertFalse(readme.contains("Hidden files (`.name`) a user keeps in an output of ours are left in place."),
                "README: hidden files inside the directories a command writes are replaced with them");
        assertTrue(readme.contains("at its top level"), "README says where hidden files are kept");

        // the behaviour: an evaluation-like output replaced over an old one
        FileSystem fs = FileSystem.getLocal(new Configuration());
        Path target = dir.resolve("eval");
        Files.createDirectories(target.resolve("episodes.parquet"));
        Files.writeString(target.resolve("summary.json"), "old");
        Files.writeString(target.resolve("episodes.parquet/part-0.parquet"), "old");
        Files.writeString(target.resolve(".top-level-notes"), "mine");
        Files.writeString(target.resolve("episodes.parquet/.inner-notes"), "mine");
        Path staging = dir.resolve(".eval.tmp");
        Files.createDirectories(staging.resolve("episodes.parquet"));
        Files.writeString(staging.resolve("summary.json"), "new");
        Files.writeString(staging.resolve("episodes.parquet/part-1.parquet"), "new");
        HadoopFiles.publishDirectory(fs, new org.apache.hadoop.fs.Path(staging.toUri()), new org.apache.hadoop.fs.Path(target.toUri()),
                "summary.json", Set.of("summary.json", "episodes.parquet")::contains);
        assertEquals("new", Files.readString(target.resolve("summary.json")));
        assertTrue(Files.exists(target.resolve(".top-level-notes")), "a hidden file at the top level is kept");
        assertFalse(Files.exists(target.resolve("episodes.parquet/.inner-notes")),
                "a hidden file inside a directory the command writes goes with it");
    }
}
