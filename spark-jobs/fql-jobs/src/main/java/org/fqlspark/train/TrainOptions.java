package org.fqlspark.train;

import java.util.Objects;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.FqlPresets;
import org.fqlspark.tensor.Backends;

/**
 * Everything a training run is asked to do, validated on construction (flag names in messages).
 *
 * @param dataPath           dataset directory (Parquet shards + manifest.json), any Hadoop file system URI
 * @param runDir             run directory for config, provenance, checkpoints and metrics, any Hadoop file system URI
 * @param workers            W: data-parallel workers, one Spark task each
 * @param averagingFrequency K: local steps per worker between two parameter averages
 * @param steps              N: steps of the averaged model (every worker takes each step on its own batch of the
 *                           per-worker batch size, so a run consumes N · W · batch samples)
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
 * @param samples            the budget as samples, when it was given that way ({@code --samples}; 0: given as steps):
 *                           {@code steps} is then ceil(samples / (W · batch)), so W workers finish in 1/W of the steps
 * @param evalEvery          evaluate the averaged model every this many steps (and at the end) on executors; 0 = never
 * @param evalEpisodes       episodes per evaluation
 * @param evalEnv            the environment to evaluate in: a built-in id or {@code bridge:COMMAND} (with evalEvery)
 * @param online             the online phase after the N offline steps (docs/algorithm.md §5); {@link Online#NONE} for none
 * @param peerAveraging      {@code --averaging peer} (the default; it applies where W ≥ 2): offline rounds run in barrier
 *                           stages whose workers average among themselves over direct connections (same numbers);
 *                           false ({@code --averaging driver}): every round through the driver
 * @param backend            {@code --backend}: the workers' tensor backend, auto, cpu or opencl
 *                           ({@code Backends.forTask}). Not a hyper-parameter: config.json does not record it, and a run
 *                           trained on one backend resumes on another (checkpoints do not depend on it)
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
        boolean learningCurves,
        long samples,
        long evalEvery,
        int evalEpisodes,
        String evalEnv,
        Online online,
        boolean peerAveraging,
        String backend) {

    /**
     * Offline-to-online fine-tuning (docs/algorithm.md §5): M online steps after the offline ones, each one environment step and one
     * gradient step (update-to-data ratio 1), online transitions joining the dataset's buffer.
     *
     * @param steps          M, online environment steps (= gradient steps); 0: no online phase
     * @param env            the environment: a built-in id or {@code bridge:COMMAND}
     * @param mode           {@code exact}: one learner that is also the one actor, stepping the environment before every
     *                       gradient step (the paper's loop); {@code distributed}: E actors on executors collect R steps
     *                       each with a policy snapshot, then the learners take as many gradient steps
     * @param actors         E (distributed mode)
     * @param refreshEvery   R: environment steps per actor between policy refreshes (distributed mode)
     * @param bufferCapacity ring-buffer capacity; 0: the official code's max(2,000,000, N + 1) for an N-transition dataset
     */
    public record Online(long steps, String env, String mode, int actors, int refreshEvery, long bufferCapacity) {
        public static final String EXACT = org.fqlspark.train.online.OnlineWork.EXACT;
        public static final String DISTRIBUTED = org.fqlspark.train.online.OnlineWork.DISTRIBUTED;
        public static final int DEFAULT_REFRESH_EVERY = 100;
        public static final Online NONE = new Online(0, null, EXACT, 1, DEFAULT_REFRESH_EVERY, 0);

        public Online {
            mode = mode == null ? EXACT : mode.trim().toLowerCase(java.util.Locale.ROOT);
            require(steps >= 0, "--online-steps", steps, "0 (no online phase) or a positive number of environment steps");
            require(steps == 0 || (env != null && !env.isBlank()), "--env", env,
                    "a built-in environment id (e.g. pointmaze-medium) or bridge:COMMAND when --online-steps is given");
            require(mode.equals(EXACT) || mode.equals(DISTRIBUTED), "--online-mode", mode, "'exact' or 'distributed'");
            require(actors >= 1, "--actors", actors, "at least 1");
            require(mode.equals(DISTRIBUTED) || actors == 1, "--actors", actors,
                    "1 in the exact mode (one environment; use --online-mode distributed for more)");
            require(refreshEvery >= 1, "--refresh-every", refreshEvery, "at least 1 environment step");
            require(bufferCapacity >= 0, "--buffer-capacity", bufferCapacity, "0 (the official code's rule) or a positive count");
        }

        public boolean enabled() {
            return steps > 0;
        }

        public boolean exact() {
            return mode.equals(EXACT);
        }

        /** The official code's capacity for an N-transition dataset, unless one was given. */
        public long capacity(long datasetTransitions) {
            return bufferCapacity > 0 ? bufferCapacity : Math.max(2_000_000L, datasetTransitions + 1);
        }
    }


    /** Gradient steps of the whole run: N offline, then M online. */
    public long totalSteps() {
        return steps + online.steps();
    }

    public static final int DEFAULT_EVAL_EPISODES = 20;

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
        require(samples >= 0, "--samples", samples, "positive");
        require(evalEvery >= 0, "--eval-every", evalEvery, "0 (no evaluation) or a positive step count");
        require(evalEpisodes >= 1, "--eval-episodes", evalEpisodes, "at least 1");
        require(evalEvery == 0 || (evalEnv != null && !evalEnv.isBlank()), "--eval-env", evalEnv,
                "a built-in environment id (e.g. pointmaze-medium) or bridge:COMMAND when --eval-every is given");
        require(keepCheckpoints >= 0, "--keep-checkpoints", keepCheckpoints, "0 (keep all) or more");
        online = online == null ? Online.NONE : online;
        require(!online.enabled() || !online.exact() || workers == 1, "--workers", workers,
                "1 with --online-mode exact (one learner acting before every gradient step; use --online-mode distributed "
                        + "for W > 1)");
        overrides.applyTo(FqlPresets.get(preset).config());   // fails here, naming the key, on a bad override
        backend = Backends.check(backend == null ? Backends.AUTO : backend);
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
                .progressBar(progressBar).learningCurves(learningCurves).samples(samples > 0 ? samples : null)
                .evalEvery(evalEvery).evalEpisodes(evalEpisodes).evalEnv(evalEnv).online(online).peerAveraging(peerAveraging)
                .backend(backend);
    }

    // config.json records these options as RunConfig.Train (snake_case keys), its one writer and reader.

    /**
     * Builder with the defaults: 1 worker, K = 100, the preset's step count, seed 0, R = 50, 1 thread, depth 2, peer
     * averaging (where W ≥ 2), backend auto.
     */
    public static final class Builder {
        private String dataPath;
        private String runDir;
        private int workers = 1;
        private int averagingFrequency = DEFAULT_AVERAGING_FREQUENCY;
        private Long steps;
        private Long samples;
        private long evalEvery;
        private int evalEpisodes = DEFAULT_EVAL_EPISODES;
        private String evalEnv;
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
        private Online online = Online.NONE;
        private boolean peerAveraging = true;
        private String backend = Backends.AUTO;

        public Builder dataPath(String v) { dataPath = v; return this; }
        public Builder runDir(String v) { runDir = v; return this; }
        public Builder workers(int v) { workers = v; return this; }
        public Builder averagingFrequency(int v) { averagingFrequency = v; return this; }
        public Builder steps(long v) { steps = v; samples = null; return this; }
        /** The budget as samples (transitions) over all workers; null for a budget in steps. */
        public Builder samples(Long v) { samples = v; return this; }
        public Builder evalEvery(long v) { evalEvery = v; return this; }
        public Builder evalEpisodes(int v) { evalEpisodes = v; return this; }
        public Builder evalEnv(String v) { evalEnv = v; return this; }
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
        public Builder online(Online v) { online = v; return this; }
        public Builder peerAveraging(boolean v) { peerAveraging = v; return this; }
        public Builder backend(String v) { backend = v; return this; }

        public TrainOptions build() {
            long n = steps != null ? steps : FqlPresets.get(preset).offlineSteps();
            if (samples != null) {
                if (samples < 1) {
                    throw new IllegalArgumentException("--samples must be positive, was " + samples);
                }
                long perStep = (long) Math.max(1, workers) * overrides.applyTo(FqlPresets.get(preset).config()).batchSize();
                n = (samples + perStep - 1) / perStep;   // steps of the averaged model: W workers finish in 1/W the steps
            }
            return new TrainOptions(dataPath, runDir, workers, averagingFrequency, n, preset, overrides, seed, checkpointEvery,
                    resume, threadsPerWorker, aggregationDepth, keepCheckpoints, progressBar, learningCurves,
                    samples != null ? samples : 0, evalEvery, evalEpisodes, evalEnv, online, peerAveraging, backend);
        }
    }
}
