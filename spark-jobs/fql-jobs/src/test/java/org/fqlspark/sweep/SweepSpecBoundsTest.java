package org.fqlspark.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;

import org.apache.hadoop.conf.Configuration;
import org.fqlspark.cli.FqlCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Hostile or mistaken sweep files: YAML anchors, aliases and tags are refused; a grid too large is refused unexpanded. */
class SweepSpecBoundsTest {

    private static final Configuration HADOOP = new Configuration();

    private static final String BASE = SweepSpecTest.BASE;

    @TempDir
    Path dir;

    private IllegalArgumentException refused(String yaml) {
        Path file = dir.resolve("spec.yaml");
        TinyRun.write(file, yaml);
        return assertThrows(IllegalArgumentException.class, () -> SweepSpec.read(file.toString(), HADOOP).trials());
    }

    private static void assertMentions(Exception e, String... words) {
        for (String w : words) assertTrue(e.getMessage().contains(w), "should mention '" + w + "': " + e.getMessage());
    }

    @Test
    void aliasesAndAnchorsAreRefusedNamingFileAndLine() {
        // Jackson would read '*fast' as the string "fast": here a variant value that silently became a file path.
        IllegalArgumentException alias = refused(BASE + """
                fast: &fast {train: {steps: 10}}
                variants:
                  speed: {quick: *fast}
                """);
        assertMentions(alias, "spec.yaml", "anchor '&fast'", "line 6");

        IllegalArgumentException bareAlias = refused(BASE.replace("data: /data/maze", "data: *nowhere"));
        assertMentions(bareAlias, "spec.yaml", "alias '*nowhere'", "line 2");

        IllegalArgumentException merge = refused(BASE + "agent:\n  <<: *defaults\n");
        assertMentions(merge, "spec.yaml", "alias '*defaults'");
    }

    @Test
    void tagsAreRefused() {
        assertMentions(refused(BASE.replace("train: {steps: 1000, workers: 2}",
                "train: !!python/object:os.system {steps: 1000}")), "spec.yaml", "tag", "python/object", "line 4");
        assertMentions(refused(BASE + "agent: {alpha: !!float 3}\n"), "spec.yaml", "tag", "float");
        assertMentions(refused(BASE.replace("name: base", "name: !custom base")), "spec.yaml", "tag", "custom");
    }

    @Test
    void anExperimentFileWithAnAliasIsNamed() {
        TinyRun.write(dir.resolve("configs/base.yaml"), BASE.replace("preset: antmaze-large-navigate",
                "preset: &p antmaze-large-navigate"));
        TinyRun.write(dir.resolve("sweeps/s.yaml"), "base: ../configs/base.yaml\ngrid: {train.seed: [0, 1]}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SweepSpec.read(dir.resolve("sweeps/s.yaml").toString(), HADOOP));
        assertMentions(e, "configs/base.yaml", "anchor '&p'");
    }

    @Test
    void aGridLargerThanTheCapIsRefusedBeforeExpansion() {
        // 5 axes of 40 values: 102,400,000 trials. Expanding them first would take minutes and gigabytes.
        StringBuilder yaml = new StringBuilder(BASE).append("grid:\n");
        for (String key : new String[] {"agent.alpha", "train.seed", "agent.discount", "evaluate.seed", "agent.tau"}) {
            yaml.append("  ").append(key).append(": [");
            for (int i = 0; i < 40; i++) yaml.append(i == 0 ? "" : ", ").append(key.endsWith("discount") || key.endsWith("tau")
                    ? String.valueOf(0.5 + i / 100.0) : String.valueOf(i + 1));
            yaml.append("]\n");
        }
        SweepSpec spec = SweepSpec.parse(yaml.toString(), null, HADOOP);
        assertEquals(102_400_000L, spec.trialCount());
        IllegalArgumentException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> assertThrows(IllegalArgumentException.class, spec::trials));
        assertMentions(e, "102400000 trials", "40 (agent.alpha) x 40 (train.seed)", "cap of " + SweepSpec.DEFAULT_MAX_TRIALS,
                "max_trials", "--max-trials");
    }

    @Test
    void theTrialCountCannotOverflow() {
        StringBuilder yaml = new StringBuilder(BASE).append("grid:\n");
        for (int axis = 0; axis < 22; axis++) {
            yaml.append("  agent.extra").append(axis).append(": [1, 2, 3, 4, 5, 6, 7, 8]\n");   // 8^22 = 2^66
        }
        IllegalArgumentException e = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> assertThrows(
                IllegalArgumentException.class, () -> SweepSpec.parse(yaml.toString(), null, HADOOP).trials()));
        assertMentions(e, "more than " + Long.MAX_VALUE + " trials");
    }

    @Test
    void theCapIsASpecKeyAndAFlag() {
        String grid = "grid: {agent.alpha: [1, 2, 3, 4, 5], train.seed: [0, 1, 2, 3, 4]}\n";
        assertEquals(25, SweepSpec.parse(BASE + grid, null, HADOOP).trials().size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SweepSpec.parse(BASE + grid + "max_trials: 20\n", null, HADOOP).trials());
        assertMentions(e, "25 trials", "cap of 20");
        assertEquals(25, SweepSpec.parse(BASE + grid + "max_trials: 20\n", null, HADOOP).withMaxTrials(25).trials().size());
        assertMentions(assertThrows(IllegalArgumentException.class, () -> SweepSpec.parse(BASE + "max_trials: 0\n", null, HADOOP)),
                "max_trials must be a positive integer");
    }

    /**
     * A spec or base: file larger than any sweep needs is refused by its size before it is read (issue 21, item 7); the
     * files are sparse, so the test costs no disk.
     */
    @Test
    void oversizedSpecAndBaseFilesAreRefusedBeforeTheyAreRead() throws Exception {
        long size = SweepFiles.MAX_YAML_BYTES + 1;
        Path spec = dir.resolve("huge-spec.yaml");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(spec.toFile(), "rw")) {
            f.setLength(size);
        }
        assertMentions(assertThrows(IllegalArgumentException.class, () -> SweepSpec.read(spec.toString(), HADOOP)),
                "huge-spec.yaml", size + " bytes", "at most " + SweepFiles.MAX_YAML_BYTES);

        Path base = dir.resolve("configs/huge-base.yaml");
        java.nio.file.Files.createDirectories(base.getParent());
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(base.toFile(), "rw")) {
            f.setLength(size);
        }
        TinyRun.write(dir.resolve("sweeps/s.yaml"), "base: ../configs/huge-base.yaml\ngrid: {train.seed: [0, 1]}\n");
        assertMentions(assertThrows(IllegalArgumentException.class,
                () -> SweepSpec.read(dir.resolve("sweeps/s.yaml").toString(), HADOOP)),
                "huge-base.yaml", size + " bytes", "at most " + SweepFiles.MAX_YAML_BYTES);
    }

    @Test
    void aHugeBridgeTimeoutInAConfigIsRefusedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SweepSpec.parse(
                BASE.replace("{env: pointmaze-medium}", "{env: pointmaze-medium, bridge_timeout_seconds: 1e10}"), null, HADOOP).trials());
        assertMentions(e, "evaluate.bridge_timeout_seconds", "at most 86400");
    }

    @Test
    void theCommandRefusesAnOversizedSweepWithExitTwo() {
        Path spec = dir.resolve("spec.yaml");
        TinyRun.write(spec, BASE + "grid: {agent.alpha: [1, 2], train.seed: [0, 1]}\n");
        CommandLine cli = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("sweep", "--spec", spec.toString(), "--output", dir.resolve("out").toString(), "--dry-run",
                "--max-trials", "3");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("4 trials") && err.toString().contains("cap of 3"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());

        TinyRun.write(spec, BASE.replace("data: /data/maze", "data: &d /data/maze"));
        err.getBuffer().setLength(0);
        code = cli.execute("sweep", "--spec", spec.toString(), "--output", dir.resolve("out").toString(), "--dry-run");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("spec.yaml") && err.toString().contains("anchor"), err.toString());
    }
}
