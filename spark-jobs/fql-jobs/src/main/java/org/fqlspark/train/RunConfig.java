package org.fqlspark.train;

import java.io.IOException;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.run.RunDirectory;

/**
 * A training run's {@code config.json}, typed: the only code that reads or writes that file. It records what the run
 * trains (the resolved {@link FqlConfig}), how (the options of {@link TrainOptions}, as snake_case keys) and on what
 * (the dataset's path, manifest digest and dimensions), so that {@code --resume} can restore the options and refuse a
 * resume that would train something else.
 *
 * <p>Keys that older runs did not record ({@code samples}, the {@code eval_*} keys, {@code averaging}) are nullable and
 * take their defaults when missing, so a run directory written by an earlier release still resumes.
 *
 * @param format        always {@value #FORMAT}
 * @param formatVersion {@value #FORMAT_VERSION}
 */
@JsonPropertyOrder({"format", "format_version", "fql_config", "train", "dataset"})
public record RunConfig(
        @JsonProperty("format") String format,
        @JsonProperty("format_version") int formatVersion,
        @JsonProperty("fql_config") FqlConfig fqlConfig,
        @JsonProperty("train") Train train,
        @JsonProperty("dataset") Dataset dataset) {

    public static final String FORMAT = "fql-train-config";
    public static final int FORMAT_VERSION = 1;
    /** The largest config.json read (1 MiB; this project writes a few KiB), checked before reading it. */
    static final int MAX_BYTES = 1 << 20;

    /** The run's options as {@link TrainOptions} has them (flag names in snake_case). */
    @JsonPropertyOrder({"data", "run_dir", "workers", "averaging_frequency", "steps", "samples", "preset", "overrides", "seed",
            "checkpoint_every", "threads_per_worker", "aggregation_depth", "keep_checkpoints", "eval_every", "eval_episodes",
            "eval_env", "online", "averaging"})
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Train(
            @JsonProperty("data") String data,
            @JsonProperty("run_dir") String runDir,
            @JsonProperty("workers") int workers,
            @JsonProperty("averaging_frequency") int averagingFrequency,
            @JsonProperty("steps") long steps,
            @JsonProperty("samples") Long samples,
            @JsonProperty("preset") String preset,
            @JsonProperty("overrides") Map<String, Object> overrides,
            @JsonProperty("seed") long seed,
            @JsonProperty("checkpoint_every") int checkpointEvery,
            @JsonProperty("threads_per_worker") int threadsPerWorker,
            @JsonProperty("aggregation_depth") int aggregationDepth,
            @JsonProperty("keep_checkpoints") int keepCheckpoints,
            @JsonProperty("eval_every") Long evalEvery,
            @JsonProperty("eval_episodes") Integer evalEpisodes,
            @JsonProperty("eval_env") String evalEnv,
            @JsonProperty("online") Online online,
            @JsonProperty("averaging") String averaging) {

        static Train of(TrainOptions o) {
            return new Train(o.dataPath(), o.runDir(), o.workers(), o.averagingFrequency(), o.steps(), o.samples(), o.preset(),
                    o.overrides().asMap(), o.seed(), o.checkpointEvery(), o.threadsPerWorker(), o.aggregationDepth(),
                    o.keepCheckpoints(), o.evalEvery(), o.evalEpisodes(), o.evalEnv(), Online.of(o.online()),
                    o.peerAveraging() ? "peer" : "driver");
        }

        /** These options as a run in {@code dir} records them. */
        Train withRunDir(String dir) {
            return new Train(data, dir, workers, averagingFrequency, steps, samples, preset, overrides, seed, checkpointEvery,
                    threadsPerWorker, aggregationDepth, keepCheckpoints, evalEvery, evalEpisodes, evalEnv, online, averaging);
        }

        /** The hyper-parameters the run set over its preset. */
        public ConfigOverrides configOverrides() {
            return RunDirectory.JSON.convertValue(overrides, ConfigOverrides.class);
        }

        /** The online phase the run was given ({@link TrainOptions.Online#NONE} when none). */
        public TrainOptions.Online onlineOptions() {
            return online == null ? TrainOptions.Online.NONE : online.options();
        }

        /** Sets every option this record holds on {@code b} (the budget as steps; the overrides and online phase too). */
        public TrainOptions.Builder restore(TrainOptions.Builder b) {
            b.dataPath(data).workers(workers).averagingFrequency(averagingFrequency).steps(steps).preset(preset).seed(seed)
                    .checkpointEvery(checkpointEvery).threadsPerWorker(threadsPerWorker).aggregationDepth(aggregationDepth)
                    .keepCheckpoints(keepCheckpoints).overrides(configOverrides()).online(onlineOptions())
                    .peerAveraging("peer".equals(averaging));
            if (evalEvery != null) b.evalEvery(evalEvery);
            if (evalEpisodes != null) b.evalEpisodes(evalEpisodes);
            if (evalEnv != null) b.evalEnv(evalEnv);
            return b;
        }
    }

    /** {@link TrainOptions.Online} as recorded. */
    @JsonPropertyOrder({"online_steps", "env", "online_mode", "actors", "refresh_every", "buffer_capacity"})
    public record Online(
            @JsonProperty("online_steps") long steps,
            @JsonProperty("env") String env,
            @JsonProperty("online_mode") String mode,
            @JsonProperty("actors") int actors,
            @JsonProperty("refresh_every") int refreshEvery,
            @JsonProperty("buffer_capacity") long bufferCapacity) {

        static Online of(TrainOptions.Online o) {
            return new Online(o.steps(), o.env(), o.mode(), o.actors(), o.refreshEvery(), o.bufferCapacity());
        }

        TrainOptions.Online options() {
            return steps > 0 ? new TrainOptions.Online(steps, env, mode, actors, refreshEvery, bufferCapacity)
                    : TrainOptions.Online.NONE;
        }
    }

    /** The dataset the run trains on: where it was, its manifest's SHA-256, its size and dimensions. */
    @JsonPropertyOrder({"path", "manifest_sha256", "transitions", "obs_dim", "action_dim"})
    public record Dataset(
            @JsonProperty("path") String path,
            @JsonProperty("manifest_sha256") String manifestSha256,
            @JsonProperty("transitions") long transitions,
            @JsonProperty("obs_dim") int obsDim,
            @JsonProperty("action_dim") int actionDim) {
    }

    public RunConfig {
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException(RunDirectory.CONFIG + ": format '" + format + "', expected '" + FORMAT + "'");
        }
        if (fqlConfig == null || train == null || dataset == null) {
            throw new IllegalArgumentException(RunDirectory.CONFIG + ": missing " + (fqlConfig == null ? "fql_config"
                    : train == null ? "train" : "dataset"));
        }
    }

    static RunConfig of(FqlConfig config, TrainOptions options, Dataset dataset) {
        return new RunConfig(FORMAT, FORMAT_VERSION, config, Train.of(options), dataset);
    }

    /** This config with the run's options replaced (an online phase added to a finished run, its W changed). */
    RunConfig withTrain(Train t) {
        return new RunConfig(format, formatVersion, fqlConfig, t, dataset);
    }

    /** Whether {@code dir} has a config.json (a run to resume). */
    public static boolean existsIn(RunDirectory dir) throws IOException {
        return dir.exists(RunDirectory.CONFIG);
    }

    /** Reads {@code dir}'s config.json; an unreadable one is bad input naming the file. */
    public static RunConfig read(RunDirectory dir) throws IOException {
        try {
            return RunDirectory.JSON.readValue(org.fqlspark.io.HadoopFiles.readBounded(dir.fs(), dir.file(RunDirectory.CONFIG),
                    MAX_BYTES, "a training run's config"), RunConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException bad ? bad : e;
            String why = cause == e ? e.getOriginalMessage() : cause.getMessage();
            throw new RunDirectory.RunDirectoryException(dir.file(RunDirectory.CONFIG) + " does not parse as a training run's "
                    + "config: " + why);
        }
    }

    /** Writes config.json atomically. */
    void write(RunDirectory dir) throws IOException {
        dir.writeJson(RunDirectory.CONFIG, this);
    }
}
