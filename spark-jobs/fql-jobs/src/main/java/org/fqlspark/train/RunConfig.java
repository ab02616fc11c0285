package org.fqlspark.train;

import java.io.IOException;
import java.util.Map;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.run.RunDirectory;

/**
 * A training run's {@code config.json}, typed: the only code that reads or writes that file. It records what the run
 * trains (the resolved {@link FqlConfig}), how (the options of {@link TrainOptions}, as snake_case keys) and on what
 * (the dataset's path, manifest digest and dimensions), so that {@code --resume} can restore the options and refuse a
 * resume that would train something else.
 *
 * <p>Keys that older runs did not record ({@code samples}, the {@code eval_*} keys, {@code averaging}) are nullable and
 * take their defaults when missing, so a run directory written by an earlier release still resumes. The keys are the
 * components' names in snake_case, in the components' order.
 *
 * @param format        always {@value #FORMAT}
 * @param formatVersion {@value #FORMAT_VERSION}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record RunConfig(
        String format,
        int formatVersion,
        FqlConfig fqlConfig,
        Train train,
        Dataset dataset) {

    public static final String FORMAT = "fql-train-config";
    public static final int FORMAT_VERSION = 1;
    /** The largest config.json read (1 MiB; this project writes a few KiB), checked before reading it. */
    static final int MAX_BYTES = 1 << 20;

    /** The run's options as {@link TrainOptions} has them (flag names in snake_case). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Train(
            String data,
            String runDir,
            int workers,
            int averagingFrequency,
            long steps,
            Long samples,
            String preset,
            Map<String, Object> overrides,
            long seed,
            int checkpointEvery,
            int threadsPerWorker,
            int aggregationDepth,
            int keepCheckpoints,
            Long evalEvery,
            Integer evalEpisodes,
            String evalEnv,
            Online online,
            String averaging) {

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
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Online(
            long onlineSteps,
            String env,
            String onlineMode,
            int actors,
            int refreshEvery,
            long bufferCapacity) {

        static Online of(TrainOptions.Online o) {
            return new Online(o.steps(), o.env(), o.mode(), o.actors(), o.refreshEvery(), o.bufferCapacity());
        }

        TrainOptions.Online options() {
            return onlineSteps > 0 ? new TrainOptions.Online(onlineSteps, env, onlineMode, actors, refreshEvery, bufferCapacity)
                    : TrainOptions.Online.NONE;
        }
    }

    /** The dataset the run trains on: where it was, its manifest's SHA-256, its size and dimensions. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Dataset(
            String path,
            String manifestSha256,
            long transitions,
            int obsDim,
            int actionDim) {
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
