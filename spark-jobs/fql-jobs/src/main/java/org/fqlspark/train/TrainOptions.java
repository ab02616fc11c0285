package org.fqlspark.train;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.FqlPresets;

/**
 * Everything a training run is asked to do, validated on construction (flag names in messages).
 *
 * @param dataPath           dataset directory (Parquet shards + manifest.json), any Hadoop file system URI
 * @param runDir             run directory for config, provenance, checkpoints and metrics, any Hadoop file system URI
 * @param workers            W: data-parallel workers, one Spark task each
 * @param averagingFrequency K: local steps per worker between two parameter averages
 * @param steps              N: total gradient steps (global; every worker takes each step on its own batch)
 * @param preset             an {@link FqlPresets} name giving the base config
 * @param overrides          hyper-parameters over the preset
 * @param seed               run seed: initial weights, batches and noise are pure functions of it
 * @param checkpointEvery    R: rounds between checkpoints (a checkpoint is also written when the run ends)
 * @param resume             continue the run in {@code runDir} from its latest checkpoint
 * @param threadsPerWorker   CPU threads each worker's ND4J uses ({@code spark.task.cpus})
 * @param aggregationDepth   depth of the {@code treeAggregate} that sums worker states (DL4J's default is 2)
 * @param keepCheckpoints    how many recent checkpoints to keep (0 = all)
 * @param progressBar        draw a console progress bar with ETA
 * @param learningCurves     render learning_curves.png when the run ends
 */
public record TrainOptions(
        String dataPath,
        String runDir,
        int workers,
        int averagingFrequency,
        long steps,
        String preset,
        ConfigOverrides overrides,
        long seed,
        int checkpointEvery,
        boolean resume,
        int threadsPerWorker,
        int aggregationDepth,
        int keepCheckpoints,
        boolean progressBar,
        boolean learningCurves) {

    public static final int DEFAULT_AVERAGING_FREQUENCY = 100;
    public static final int DEFAULT_CHECKPOINT_EVERY = 50;
    public static final int DEFAULT_KEEP_CHECKPOINTS = 3;

    public TrainOptions {
        require(dataPath != null && !dataPath.isBlank(), "--data", dataPath, "a dataset directory");
        require(runDir != null && !runDir.isBlank(), "--run-dir", runDir, "a directory path");
        require(workers >= 1, "--workers", workers, "at least 1");
        require(averagingFrequency >= 1, "--averaging-frequency", averagingFrequency, "at least 1");
        require(steps >= 1, "--steps", steps, "at least 1");
        require(preset != null, "--preset", preset, "a preset name");
        FqlPresets.get(preset);
        overrides = overrides == null ? ConfigOverrides.none() : overrides;
        require(checkpointEvery >= 1, "--checkpoint-every", checkpointEvery, "at least 1 round");
        require(threadsPerWorker >= 1, "--threads-per-worker", threadsPerWorker, "at least 1");
        require(aggregationDepth >= 1, "--aggregation-depth", aggregationDepth, "at least 1");
        require(keepCheckpoints >= 0, "--keep-checkpoints", keepCheckpoints, "0 (keep all) or more");
        overrides.applyTo(FqlPresets.get(preset).config());   // fails here, naming the key, on a bad override
    }

    private static void require(boolean ok, String flag, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException(flag + " must be " + expected + ", was " + value);
        }
    }

    /** The preset's config with the overrides applied: the config every worker trains with. */
    public FqlConfig resolvedConfig() {
        return overrides.applyTo(FqlPresets.get(preset).config());
    }

    public static Builder builder(String dataPath, String runDir) {
        return new Builder().dataPath(dataPath).runDir(runDir);
    }

    public Builder toBuilder() {
        return new Builder().dataPath(dataPath).runDir(runDir).workers(workers).averagingFrequency(averagingFrequency)
                .steps(steps).preset(preset).overrides(overrides).seed(seed).checkpointEvery(checkpointEvery).resume(resume)
                .threadsPerWorker(threadsPerWorker).aggregationDepth(aggregationDepth).keepCheckpoints(keepCheckpoints)
                .progressBar(progressBar).learningCurves(learningCurves);
    }

    /** The options as recorded in config.json (snake_case). */
    Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", dataPath);
        m.put("run_dir", runDir);
        m.put("workers", workers);
        m.put("averaging_frequency", averagingFrequency);
        m.put("steps", steps);
        m.put("preset", preset);
        m.put("overrides", overrides.asMap());
        m.put("seed", seed);
        m.put("checkpoint_every", checkpointEvery);
        m.put("threads_per_worker", threadsPerWorker);
        m.put("aggregation_depth", aggregationDepth);
        m.put("keep_checkpoints", keepCheckpoints);
        return m;
    }

    /** Builder with the defaults: 1 worker, K = 100, the preset's step count, seed 0, R = 50, 1 thread, depth 2. */
    public static final class Builder {
        private String dataPath;
        private String runDir;
        private int workers = 1;
        private int averagingFrequency = DEFAULT_AVERAGING_FREQUENCY;
        private Long steps;
        private String preset = "default";
        private ConfigOverrides overrides = ConfigOverrides.none();
        private long seed;
        private int checkpointEvery = DEFAULT_CHECKPOINT_EVERY;
        private boolean resume;
        private int threadsPerWorker = 1;
        private int aggregationDepth = 2;
        private int keepCheckpoints = DEFAULT_KEEP_CHECKPOINTS;
        private boolean progressBar;
        private boolean learningCurves = true;

        public Builder dataPath(String v) { dataPath = v; return this; }
        public Builder runDir(String v) { runDir = v; return this; }
        public Builder workers(int v) { workers = v; return this; }
        public Builder averagingFrequency(int v) { averagingFrequency = v; return this; }
        public Builder steps(long v) { steps = v; return this; }
        public Builder preset(String v) { preset = Objects.requireNonNull(v, "preset"); return this; }
        public Builder overrides(ConfigOverrides v) { overrides = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        public Builder resume(boolean v) { resume = v; return this; }
        public Builder threadsPerWorker(int v) { threadsPerWorker = v; return this; }
        public Builder aggregationDepth(int v) { aggregationDepth = v; return this; }
        public Builder keepCheckpoints(int v) { keepCheckpoints = v; return this; }
        public Builder progressBar(boolean v) { progressBar = v; return this; }
        public Builder learningCurves(boolean v) { learningCurves = v; return this; }

        public TrainOptions build() {
            long n = steps != null ? steps : FqlPresets.get(preset).offlineSteps();
            return new TrainOptions(dataPath, runDir, workers, averagingFrequency, n, preset, overrides, seed, checkpointEvery,
                    resume, threadsPerWorker, aggregationDepth, keepCheckpoints, progressBar, learningCurves);
        }
    }
}
