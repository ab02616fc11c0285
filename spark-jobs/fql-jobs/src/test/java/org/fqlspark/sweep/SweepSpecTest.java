package org.fqlspark.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.FqlPresets;
import org.fqlspark.agent.QAgg;
import org.fqlspark.train.TrainOptions;
import org.junit.jupiter.api.Test;

/** Spec parsing, grid expansion, trial ids and config resolution; no Spark. */
class SweepSpecTest {

    private static final Configuration HADOOP = new Configuration();

    /** A minimal valid spec's base, shared with SweepSpecBoundsTest. */
    static final String BASE = """
            name: base
            data: /data/maze
            preset: antmaze-large-navigate
            train: {steps: 1000, workers: 2}
            evaluate: {env: pointmaze-medium}
            """;

    private static SweepSpec parse(String yaml) {
        return SweepSpec.parse(yaml, null, HADOOP);
    }

    @Test
    void expandsVariantsThenGridAxesInOrderLastFastest() {
        SweepSpec spec = parse(BASE + """
                variants:
                  dataset:
                    medium: {data: /data/medium}
                    large: {data: /data/large, evaluate: {env: pointmaze-large}}
                grid:
                  agent.alpha: [3, 10]
                  train.seed: [0, 1]
                """);
        List<SweepSpec.Trial> trials = spec.trials();
        assertEquals(8, trials.size());
        assertEquals(Map.of("dataset", "medium", "agent.alpha", 3, "train.seed", 0), trials.get(0).parameters());
        assertEquals(List.of("dataset", "agent.alpha", "train.seed"), List.copyOf(trials.get(0).parameters().keySet()));
        assertEquals(Map.of("dataset", "medium", "agent.alpha", 3, "train.seed", 1), trials.get(1).parameters());
        assertEquals(Map.of("dataset", "large", "agent.alpha", 10, "train.seed", 1), trials.get(7).parameters());
        ExperimentConfig last = trials.get(7).config();
        assertEquals("/data/large", last.data());
        assertEquals("pointmaze-large", last.evaluate().env());
        assertEquals(10.0, last.agent().get("alpha"));
        assertEquals(1L, last.train().seed());
        assertEquals(2, last.train().workers());
        assertEquals("base dataset=large alpha=10 seed=1", last.name());
        assertEquals(List.of("dataset"), trials.get(0).variantAxes());
        assertEquals(8, trials.stream().map(SweepSpec.Trial::id).distinct().count());
    }

    @Test
    void trialIdsHashTheResolvedConfigNotHowItWasWritten() {
        String a = parse(BASE + "grid: {agent.alpha: [10]}\n").trials().get(0).id();
        // The preset's own α and its default values spelled out, another name, a grid over one value: the same trial.
        String b = parse("""
                name: other
                data: /data/maze
                preset: antmaze-large-navigate
                agent: {alpha: 10.0, q_agg: MIN, discount: 0.99, layer_norm: true}
                train: {steps: 1000, workers: 2, averaging_frequency: 100, seed: 0}
                evaluate: {env: pointmaze-medium, episodes: 50}
                """).trials().get(0).id();
        assertEquals(a, b);
        assertTrue(a.matches("[0-9a-f]{12}"), a);
        String c = parse(BASE + "agent: {alpha: 11}\n").trials().get(0).id();
        assertNotEquals(a, c);
        String d = parse(BASE.replace("pointmaze-medium", "pointmaze-large")).trials().get(0).id();
        assertNotEquals(a, d);
    }

    @Test
    void trialIdsOfExistingSweepsAreKept() {
        // ids as computed before the settings table: a changed id would re-run every finished trial of a sweep
        assertEquals("cc2d46e3ae77", parse(BASE).trials().get(0).id());
        assertEquals("082fafa12ad2", parse(BASE + "agent: {alpha: 30, actor_hidden_dims: [64, 64], value_hidden_dims: [64, 64]}\n")
                .trials().get(0).id());
        assertEquals("cd7582c3bf25", parse(BASE + "agent: {actor_hidden_dims: [8], value_hidden_dims: [16]}\n").trials().get(0).id());
        assertEquals("79cc72833684", parse(BASE + "agent: {q_agg: mean, lr: 1e-3, tau: 0.1, batch_size: 64, flow_steps: 5, "
                + "normalize_q_loss: true, discount: 0.995}\n").trials().get(0).id());
    }

    @Test
    void resolvesToThePresetWithOverridesAndTheTrainersDefaults() {
        ExperimentConfig c = parse(BASE + "agent: {alpha: 30, actor_hidden_dims: [64, 64], value_hidden_dims: [64, 64]}\n")
                .trials().get(0).config();
        FqlConfig expected = FqlPresets.get("antmaze-large-navigate").config().with(FqlConfig.ALPHA, 30.0).withHiddenDims(64, 64);
        assertEquals(expected, c.fqlConfig());
        assertEquals(QAgg.MIN, c.fqlConfig().qAgg());
        assertEquals("min", c.agent().get("q_agg"));
        TrainOptions t = c.trainOptions("/runs/x", true);
        assertEquals(expected, t.resolvedConfig());
        assertEquals(1000, t.steps());
        assertEquals(2, t.workers());
        assertEquals(TrainOptions.DEFAULT_AVERAGING_FREQUENCY, t.averagingFrequency());
        assertTrue(t.resume());
        assertEquals(ExperimentConfig.DEFAULT_EPISODES, c.evalOptions("/runs/x", "/eval/x").episodes());
        assertTrue(c.evalOptions("/runs/x", "/eval/x").overwrite());
        assertEquals(org.fqlspark.eval.Policy.ONE_STEP, c.evalOptions("/runs/x", "/eval/x").policy());
        ExperimentConfig flow = parse(BASE.replace("{env: pointmaze-medium}", "{env: pointmaze-medium, policy: flow-bc}")).trials().get(0).config();
        assertEquals(org.fqlspark.eval.Policy.FLOW_BC, flow.evalOptions("/runs/x", "/eval/x").policy());
        // Without steps: the preset's step count.
        assertEquals(FqlPresets.get("antmaze-large-navigate").offlineSteps(),
                parse(BASE.replace("steps: 1000, ", "")).trials().get(0).config().train().steps());
    }

    @Test
    void actorAndCriticWidthsMayDiffer() {
        FqlConfig base = FqlPresets.get("antmaze-large-navigate").config();
        ExperimentConfig both = parse(BASE + "agent: {actor_hidden_dims: [8], value_hidden_dims: [16]}\n").trials().get(0).config();
        assertEquals(List.of(8), both.fqlConfig().actorHiddenDims());
        assertEquals(List.of(16), both.fqlConfig().valueHiddenDims());
        assertEquals(both.fqlConfig(), both.trainOptions("/runs/x", false).resolvedConfig());
        ExperimentConfig critic = parse(BASE + "agent: {value_hidden_dims: [16]}\n").trials().get(0).config();
        assertEquals(base.actorHiddenDims(), critic.trainOptions("/runs/x", false).resolvedConfig().actorHiddenDims());
        assertEquals(List.of(16), critic.trainOptions("/runs/x", false).resolvedConfig().valueHiddenDims());
        ExperimentConfig actor = parse(BASE + "agent: {actor_hidden_dims: [8]}\n").trials().get(0).config();
        assertEquals(List.of(8), actor.trainOptions("/runs/x", false).resolvedConfig().actorHiddenDims());
        assertEquals(base.valueHiddenDims(), actor.trainOptions("/runs/x", false).resolvedConfig().valueHiddenDims());
    }

    @Test
    void refusesWhatTrainingWouldNotDoAndNamesTheKey() {
        assertMessage("agent.layer_norm", parse(BASE + "agent: {layer_norm: false}\n"));
        assertMessage("agent.q_agg", parse(BASE + "agent: {q_agg: max}\n"));
        assertMessage("discount", parse(BASE + "agent: {discount: 2}\n"));
        assertMessage("--workers", parse(BASE.replace("workers: 2", "workers: 0")));
        assertMessage("evaluate.env", parse(BASE.replace("evaluate: {env: pointmaze-medium}", "")));
        assertMessage("preset", parse(BASE.replace("antmaze-large-navigate", "no-such-task")));
        assertMessage("evaluate.policy", parse(BASE.replace("{env: pointmaze-medium}", "{env: pointmaze-medium, policy: greedy}")));
        assertMessage("same experiment", parse(BASE + "grid: {agent.alpha: [10, 10.0]}\n"));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> parse(BASE + "agent: {alfa: 3}\n"));
        assertTrue(unknown.getMessage().contains("unknown key 'agent.alfa'"), unknown.getMessage());
        IllegalArgumentException emptyAxis = assertThrows(IllegalArgumentException.class, () -> parse(BASE + "grid: {agent.alpha: []}\n"));
        assertTrue(emptyAxis.getMessage().contains("grid.agent.alpha"), emptyAxis.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> parse(BASE + "train: {seed: 1}\n"));
        assertTrue(twice.getMessage().contains("Duplicate field 'train'"), twice.getMessage());
        IllegalArgumentException notYaml = assertThrows(IllegalArgumentException.class, () -> parse("grid: [unclosed"));
        assertTrue(notYaml.getMessage().contains("not valid YAML"), notYaml.getMessage());
    }

    @Test
    void trainBackendReachesTheTrainerButNotTheTrialId() {
        SweepSpec onCpu = parse(BASE.replace("workers: 2", "workers: 2, backend: CPU"));
        assertEquals("cpu", onCpu.trials().get(0).config().trainOptions("/runs/x", false).backend());
        assertEquals("auto", parse(BASE).trials().get(0).config().trainOptions("/runs/x", false).backend());
        assertEquals(parse(BASE).trials().get(0).id(), onCpu.trials().get(0).id(), "where a trial trains is not what it is");
        assertMessage("train.backend must be auto, cpu or opencl, was 'gpu'", parse(BASE.replace("workers: 2", "workers: 2, backend: gpu")));
    }

    @Test
    void readsTheBaseFromAFileRelativeToTheSpec(@org.junit.jupiter.api.io.TempDir Path dir) {
        TinyRun.write(dir.resolve("configs/base.yaml"), BASE);
        TinyRun.write(dir.resolve("sweeps/s.yaml"), """
                name: relative
                base: ../configs/base.yaml
                train: {steps: 500}
                grid: {train.seed: [0, 1, 2]}
                max_concurrent: 3
                """);
        SweepSpec spec = SweepSpec.read(dir.resolve("sweeps/s.yaml").toString(), HADOOP);
        assertEquals("relative", spec.name());
        assertEquals(3, spec.maxConcurrent());
        List<SweepSpec.Trial> trials = spec.trials();
        assertEquals(3, trials.size());
        assertEquals(500L, trials.get(2).config().train().steps());
        assertEquals(2, trials.get(2).config().train().workers(), "keys of the base the spec does not change are kept");
        // An experiment config is a spec of one trial.
        assertEquals(1, SweepSpec.read(dir.resolve("configs/base.yaml").toString(), HADOOP).trials().size());
    }

    @Test
    void variantsMayBeExperimentFilesAndGridValuesApplyLast(@org.junit.jupiter.api.io.TempDir Path dir) {
        TinyRun.write(dir.resolve("configs/a.yaml"), BASE);
        TinyRun.write(dir.resolve("configs/b.yaml"), BASE.replace("antmaze-large-navigate", "cube-double-play")
                .replace("/data/maze", "/data/cube"));
        TinyRun.write(dir.resolve("sweeps/s.yaml"), """
                name: datasets
                variants:
                  dataset: {antmaze: ../configs/a.yaml, cube: ../configs/b.yaml}
                train: {steps: 77}
                grid: {agent.alpha: [1, 2], train.workers: [3]}
                """);
        List<SweepSpec.Trial> trials = SweepSpec.read(dir.resolve("sweeps/s.yaml").toString(), HADOOP).trials();
        assertEquals(4, trials.size());
        ExperimentConfig cube = trials.get(3).config();
        assertEquals("/data/cube", cube.data());
        assertEquals(FqlPresets.get("cube-double-play").config().with(FqlConfig.ALPHA, 2.0), cube.fqlConfig());
        assertEquals(1000L, cube.train().steps(), "the variant file's train.steps applies over the spec's own keys");
        assertEquals(3, cube.train().workers(), "grid values apply last");
        assertEquals("datasets dataset=cube alpha=2 workers=3", cube.name());
    }

    @Test
    void theSpecIsReadWithTheHadoopSettingsSparkWillUse() {
        SweepCommand command = new SweepCommand();
        command.conf = List.of("spark.hadoop.fs.s3a.endpoint=http://minio:9000", "spark.executor.cores=2");
        Configuration hadoop = command.hadoopConfiguration();
        assertEquals("http://minio:9000", hadoop.get("fs.s3a.endpoint"));
        assertEquals(null, hadoop.get("executor.cores"));
    }

    private static void assertMessage(String expected, SweepSpec spec) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, spec::trials);
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }
}
