package org.fqlspark.cli;

import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.train.SettingOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The quick start end to end on a tiny budget: every stage runs and leaves its outputs where it says. */
class QuickstartCommandTest {

    @Test
    void runsEveryStageAndReportsWhereResultsAre(@TempDir Path dir) throws Exception {
        QuickstartCommand q = new QuickstartCommand();
        new CommandLine(q).parseArgs("--dataset-episodes", "6", "--steps", "8", "--averaging-frequency", "4",
                "--hidden", "8,8", "--value-hidden", "12,12", "--episodes", "2", "--workers", "2", "--eval-every", "4", "--eval-episodes", "2",
                "--output", dir.resolve("qs").toString());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Path out = dir.resolve("qs");
        Files.createDirectories(out);
        QuickstartCommand.Result r = q.run(TestSpark.session(), out, log);
        r.print(log);
        String text = bytes.toString(StandardCharsets.UTF_8);
        for (String stage : List.of("[1/4]", "[2/4]", "[3/4]", "[4/4]", "FQL one-step policy", "flow-BC policy", "learning curves")) {
            assertTrue(text.contains(stage), "missing '" + stage + "' in:\n" + text);
        }
        // written to a stream, not a terminal: plain progress lines, no bar frame
        assertTrue(text.contains("fql train: step 8/8  critic_loss"), "a readable progress line in:\n" + text);
        assertTrue(!text.contains("train  ") && !text.contains("%|"), "no progress-bar frame in a log:\n" + text);
        assertTrue(Files.exists(out.resolve("data/manifest.json")));
        assertTrue(Files.exists(out.resolve("data-trajectories.png")));
        assertTrue(Files.exists(out.resolve("run/metrics.csv")));
        assertTrue(Files.exists(out.resolve("run/learning_curves.png")));
        assertTrue(Files.exists(out.resolve("eval-fql/summary.json")));
        assertTrue(Files.exists(out.resolve("eval-flow-bc/trajectories.png")));
        JsonNode flow = new ObjectMapper().readTree(out.resolve("eval-flow-bc/summary.json").toFile());
        assertEquals("flow-bc", flow.get("policy").asText());
        assertEquals(org.fqlspark.eval.Policy.FLOW_BC, r.flowBc().summary().policy());
        assertEquals(org.fqlspark.eval.Policy.ONE_STEP, r.fql().summary().policy());
        JsonNode summary = new ObjectMapper().readTree(out.resolve("quickstart.json").toFile());
        assertEquals(8, summary.get("steps").asLong());
        // --hidden sizes the policy and the flow, --value-hidden the critic alone
        JsonNode config = new ObjectMapper().readTree(out.resolve("run/config.json").toFile());
        assertEquals("[8,8]", config.findValue("actorHiddenDims").toString());
        assertEquals("[12,12]", config.findValue("valueHiddenDims").toString());
        assertEquals(2, r.fql().episodes().size());
        // evaluated while training (--eval-every 4: at steps 4 and 8), so learning_curves.png has the success rate
        assertTrue(text.contains("fql train: step 4: success rate"), "a periodic evaluation in:\n" + text);
        assertTrue(text.contains("fql train: step 8: success rate"), "the final evaluation in:\n" + text);
        List<String> csv = Files.readAllLines(out.resolve("run/metrics.csv"));
        int col = List.of(csv.get(0).split(",")).indexOf("eval/success_rate");
        assertTrue(col >= 0, csv.get(0));
        assertTrue(Double.isFinite(Double.parseDouble(csv.get(csv.size() - 1).split(",")[col])), csv.get(csv.size() - 1));
    }

    @Test
    void aBadFlagWritesNothing(@TempDir Path dir) {
        Path out = dir.resolve("never");
        assertEquals(2, FqlCli.commandLine().execute("quickstart", "--steps", "-3", "--output", out.toString()));
        assertEquals(2, FqlCli.commandLine().execute("quickstart", "--env", "pointmaze-nowhere", "--output", out.toString()));
        assertEquals(2, FqlCli.commandLine().execute("quickstart", "--episodes", "0", "--output", out.toString()));
        assertTrue(!Files.exists(out), "nothing may be written for a bad flag");
    }

    @Test
    void refusesAnExistingOutputWithoutOverwrite(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("something.txt"), "x");   // an empty directory would be written into
        int code = FqlCli.commandLine().execute("quickstart", "--output", dir.toString());
        assertEquals(2, code);
        assertEquals(List.of(dir.resolve("something.txt")), Files.list(dir).toList());
    }

    @Test
    void overwriteNeverDeletesAUsersDirectoryOrTheWorkingDirectory(@TempDir Path dir) throws Exception {
        Path mine = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(mine.resolve("thesis.tex"), "years of work");
        assertEquals(2, FqlCli.commandLine().execute("quickstart", "--output", mine.toString(), "--overwrite"));
        assertEquals("years of work", Files.readString(mine.resolve("thesis.tex")));
        // the working directory (here: a quick start's own output, so only the cwd rule can refuse it)
        Path cwd = Path.of("").toAbsolutePath();
        var e = org.junit.jupiter.api.Assertions.assertThrows(org.fqlspark.io.OutputGuard.OutputRefusedException.class,
                () -> QuickstartCommand.prepareOutput(cwd, true));
        assertTrue(e.getMessage().contains("the working directory"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(org.fqlspark.io.OutputGuard.OutputRefusedException.class,
                () -> QuickstartCommand.prepareOutput(cwd.getParent(), true));
        assertTrue(e.getMessage().contains("the working directory"), e.getMessage());
    }

    @Test
    void overwriteReplacesOnlyWhatAnEarlierQuickStartWrote(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("qs");
        QuickstartCommand.prepareOutput(out, false);   // marks it as a quick start's, then (as after a crash) stop
        Files.createDirectories(out.resolve("run/checkpoints"));
        Files.writeString(out.resolve("run/checkpoints/step-000000000001.fqlckpt"), "old");
        Files.writeString(out.resolve(".envrc"), "a user's hidden file");
        QuickstartCommand.prepareOutput(out, true);
        assertTrue(!Files.exists(out.resolve("run")), "the earlier run is replaced");
        assertEquals("a user's hidden file", Files.readString(out.resolve(".envrc")));
        assertTrue(Files.readString(out.resolve("quickstart.json")).contains("fql-quickstart"));
        Files.writeString(out.resolve("notes.md"), "mine");
        assertEquals(2, FqlCli.commandLine().execute("quickstart", "--output", out.toString(), "--overwrite"));
        assertEquals("mine", Files.readString(out.resolve("notes.md")));
    }

    @Test
    void hyperParameterFlagsComeFromTheSettingsTableWithTheQuickStartsDefaults() {
        QuickstartCommand q = new QuickstartCommand();
        CommandLine cl = new CommandLine(q);
        cl.parseArgs();
        FqlConfig c = SettingOptions.overrides(q.spec, QuickstartCommand.HYPER_PARAMETERS).applyTo(FqlConfig.defaults());
        assertEquals(List.of(64, 64, 64), c.actorHiddenDims());
        assertEquals(List.of(128, 128, 128), c.valueHiddenDims());
        assertEquals(3.0, c.alpha());
        assertEquals(1e-3, c.learningRate());
        assertEquals(0.1, c.tau());
        assertEquals(FqlConfig.defaults().batchSize(), c.batchSize(), "what the quick start does not set is the preset's");
        String help = cl.setUsageHelpWidth(1000).getUsageMessage();
        for (SettingOptions.Flag f : QuickstartCommand.HYPER_PARAMETERS) {
            assertTrue(help.contains(f.setting().doc() + " (default: " + f.defaultValue() + ")"), f.name() + " in:\n" + help);
        }
        QuickstartCommand given = new QuickstartCommand();
        new CommandLine(given).parseArgs("--hidden", "8,8", "--alpha", "30", "--value-hidden", "12");
        c = SettingOptions.overrides(given.spec, QuickstartCommand.HYPER_PARAMETERS).applyTo(FqlConfig.defaults());
        assertEquals(List.of(8, 8), c.actorHiddenDims(), "a given list replaces the default, not appends to it");
        assertEquals(List.of(12), c.valueHiddenDims());
        assertEquals(30.0, c.alpha());
        assertEquals(0.1, c.tau());
    }
}
