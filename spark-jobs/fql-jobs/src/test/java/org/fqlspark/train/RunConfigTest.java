package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.hadoop.conf.Configuration;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.QAgg;
import org.fqlspark.run.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json through its one owner: the bytes an earlier release wrote read back and written again unchanged. */
class RunConfigTest {

    @TempDir
    Path dir;

    private static byte[] fixture() throws IOException {
        try (InputStream in = RunConfigTest.class.getResourceAsStream("/run/config-0.1.0.json")) {
            return in.readAllBytes();
        }
    }

    private RunDirectory runWith(byte[] configJson) throws IOException {
        Files.write(dir.resolve(RunDirectory.CONFIG), configJson);
        return RunDirectory.at(dir.toString(), new Configuration());
    }

    @Test
    void aConfigWrittenByTheEarlierReleaseReadsBackTypedAndWritesTheSameBytes() throws IOException {
        RunDirectory run = runWith(fixture());
        RunConfig config = RunConfig.read(run);
        assertEquals(1e-3, config.fqlConfig().learningRate(), "the quick start's learning rate");
        assertEquals(QAgg.MEAN, config.fqlConfig().qAgg());
        assertEquals(2, config.train().workers());
        assertEquals(12_000, config.train().steps());
        assertEquals("driver", config.train().averaging());
        assertEquals(200_000, config.dataset().transitions());
        assertEquals(2, config.dataset().obsDim());
        assertFalse(config.train().onlineOptions().enabled());

        config.write(run);
        assertArrayEquals(fixture(), Files.readAllBytes(dir.resolve(RunDirectory.CONFIG)),
                "config.json keeps its keys, their order and their values");
    }

    @Test
    void restoringTheOptionsGivesBackWhatTheRunWasStartedWith() throws IOException {
        RunConfig config = RunConfig.read(runWith(fixture()));
        TrainOptions options = config.train().restore(TrainOptions.builder(null, dir.toString())).build();
        assertEquals("/data/quickstart/data", options.dataPath());
        assertEquals(2, options.workers());
        assertEquals(100, options.averagingFrequency());
        assertEquals(12_000, options.steps());
        assertEquals(20, options.checkpointEvery());
        assertEquals(3.0f, options.resolvedConfig().alpha());
        assertEquals(RunDirectory.JSON.valueToTree(config.fqlConfig()), RunDirectory.JSON.valueToTree(options.resolvedConfig()),
                "the overrides over the preset resolve to the recorded config");
        // and the record of those options is the one the file holds
        assertEquals(RunDirectory.JSON.valueToTree(config.train()),
                RunDirectory.JSON.valueToTree(RunConfig.Train.of(options).withRunDir(config.train().runDir())));
    }

    @Test
    void keysAnEarlierReleaseDidNotWriteTakeTheirDefaults() throws IOException {
        String old = new String(fixture(), StandardCharsets.UTF_8)
                .replaceAll("(?m)^\\s*\"(eval_every|eval_episodes|eval_env|samples)\" : [^\\n]*\\n", "")
                .replace(",\n    \"averaging\" : \"driver\"", "");
        assertFalse(old.contains("eval_episodes") || old.contains("\"averaging\""), old);
        RunConfig config = RunConfig.read(runWith(old.getBytes(StandardCharsets.UTF_8)));
        TrainOptions options = config.train().restore(TrainOptions.builder(null, dir.toString())).build();
        assertEquals(0, options.evalEvery());
        assertEquals(TrainOptions.DEFAULT_EVAL_EPISODES, options.evalEpisodes());
        assertFalse(options.peerAveraging());
    }

    @Test
    void aConfigThatIsNotATrainingRunsIsBadInputNamingTheFile() throws IOException {
        RunDirectory run = runWith("{\"format\": \"something-else\"}".getBytes(StandardCharsets.UTF_8));
        var e = assertThrows(RunDirectory.RunDirectoryException.class, () -> RunConfig.read(run));
        assertTrue(e.getMessage().contains(RunDirectory.CONFIG) && e.getMessage().contains("fql-train-config"), e.getMessage());
        RunDirectory torn = runWith("{\"format\": \"fql-train-config\", \"fql_co".getBytes(StandardCharsets.UTF_8));
        e = assertThrows(RunDirectory.RunDirectoryException.class, () -> RunConfig.read(torn));
        assertTrue(e.getMessage().contains(RunDirectory.CONFIG), e.getMessage());
    }
}
