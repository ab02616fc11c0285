package org.fqlspark.train;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.cli.BackendOption;
import org.fqlspark.launch.CommandSessions;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import org.fqlspark.run.RunDirectory;
import picocli.CommandLine.Spec;

/**
 * {@code fql train}: picocli options → {@link TrainOptions} → {@link TrainJob#run}. Locally through {@code ./fql train},
 * on a cluster through {@code spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar train ...}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false, modelTransformer = TrainCommand.HyperParameters.class,
        description = {"Train FQL on a dataset with W data-parallel Spark workers and parameter averaging every K steps.",
                "Writes config.json, provenance.json, checkpoints/, metrics.csv, metrics.parquet/ and learning_curves.png "
                        + "into the run directory. Exit codes: 0 done, 1 training failed or diverged, 2 bad input."},
        footer = {"",
                "GPUs (CUDA backend builds, -Pcuda): let Spark schedule one GPU per worker task, e.g.",
                "  --conf spark.executor.resource.gpu.amount=1 --conf spark.task.resource.gpu.amount=1",
                "  --conf spark.executor.resource.gpu.discoveryScript=$SPARK_HOME/examples/src/main/scripts/getGpusResources.sh",
                "each task binds ND4J to the GPU in its TaskContext; without GPUs it runs on the CPU.",
                "Cluster: spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar train --data hdfs:///d --run-dir hdfs:///r --workers 8"})
public final class TrainCommand implements Callable<Integer> {

    /** The hyper-parameter flags, one per tunable setting of FqlConfig's table, listed after --preset. */
    static final List<SettingOptions.Flag> HYPER_PARAMETERS = SettingOptions.train();

    /** Adds {@link #HYPER_PARAMETERS} to the command's options (picocli calls it when it builds the command). */
    public static final class HyperParameters implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            SettingOptions.add(spec, HYPER_PARAMETERS, "--preset");
            return spec;
        }
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "PATH", description = "dataset directory (Parquet shards + manifest.json); "
            + "with --resume, defaults to the run's own")
    String data;

    @Option(names = "--run-dir", required = true, paramLabel = "PATH", description = "run directory (any Hadoop file system URI); "
            + "must not exist unless --resume")
    String runDir;

    @Option(names = "--workers", paramLabel = "W", description = "data-parallel workers, one Spark task each (default 1)")
    Integer workers;

    @Option(names = "--averaging-frequency", paramLabel = "K", description = "local steps between parameter averages (default "
            + TrainOptions.DEFAULT_AVERAGING_FREQUENCY + ")")
    Integer averagingFrequency;

    @Option(names = "--steps", paramLabel = "N", description = "steps of the averaged model; each worker takes N steps on its own "
            + "batches, so W workers consume W times the samples in about the same time (default: the preset's, e.g. 1000000)")
    Long steps;

    @Option(names = "--samples", paramLabel = "S", description = "budget as samples over all workers instead of --steps: "
            + "ceil(S / (W x batch)) steps, so W workers finish in 1/W of the steps (see README: learning rate and batch as W grows)")
    Long samples;

    @Option(names = "--eval-every", paramLabel = "N", description = "evaluate the averaged model every N steps and at the end, "
            + "on executors; success rate and return go into the metrics and learning_curves.png (default 0: never)")
    Long evalEvery;

    @Option(names = "--eval-episodes", paramLabel = "E", description = "episodes per evaluation (default "
            + TrainOptions.DEFAULT_EVAL_EPISODES + ")")
    Integer evalEpisodes;

    @Option(names = "--eval-env", paramLabel = "ID", description = "environment of the evaluations: a built-in id "
            + "(e.g. pointmaze-medium) or bridge:COMMAND, as fql evaluate --env")
    String evalEnv;

    @Option(names = "--online-steps", paramLabel = "M", description = "after the offline steps, M online steps (spec 5): act "
            + "with the one-step policy in --env, add each transition to the dataset's buffer, one gradient step per "
            + "environment step. With --resume this extends a finished offline run (default 0: offline only)")
    Long onlineSteps;

    @Option(names = "--env", paramLabel = "ID", description = "environment of the online phase: a built-in id "
            + "(e.g. pointmaze-medium) or bridge:COMMAND, as fql evaluate --env")
    String env;

    @Option(names = "--online-mode", paramLabel = "exact|distributed", description = "exact (default): one learner that acts "
            + "before every gradient step, the paper's loop (W = 1); distributed: E actors on executors collect R steps each "
            + "with a policy snapshot, then the W learners take as many gradient steps")
    String onlineMode;

    @Option(names = "--actors", paramLabel = "E", description = "online actors, one Spark task each (distributed mode; default 1)")
    Integer actors;

    @Option(names = "--refresh-every", paramLabel = "R", description = "environment steps per actor between policy refreshes "
            + "(distributed mode; default " + TrainOptions.Online.DEFAULT_REFRESH_EVERY + ")")
    Integer refreshEvery;

    @Option(names = "--buffer-capacity", paramLabel = "C", description = "replay buffer capacity over dataset and online rows, "
            + "oldest overwritten first (default: the official code's max(2000000, N+1))")
    Long bufferCapacity;

    @Option(names = "--averaging", paramLabel = "driver|peer", description = "peer (default, with 2 or more workers): the "
            + "workers of a barrier stage average among themselves over direct, authenticated connections for all rounds up to "
            + "the next checkpoint or evaluation (same numbers, no per-round job); driver: every round is a Spark job whose "
            + "states the driver averages")
    String averaging;

    @Option(names = "--preset", paramLabel = "NAME", description = "task preset with the paper's settings (default: default)")
    String preset;

    @Option(names = "--seed", description = "run seed (default 0)")
    Long seed;

    @Option(names = "--checkpoint-every", paramLabel = "R", description = "rounds between checkpoints (default "
            + TrainOptions.DEFAULT_CHECKPOINT_EVERY + "; one is always written at the end)")
    Integer checkpointEvery;

    @Option(names = "--keep-checkpoints", paramLabel = "N", description = "newest checkpoints to keep, 0 = all (default "
            + TrainOptions.DEFAULT_KEEP_CHECKPOINTS + ")")
    Integer keepCheckpoints;

    @Option(names = "--resume", description = "continue the run in --run-dir from its latest checkpoint; unset flags keep the run's values")
    boolean resume;

    @Option(names = "--resume-or-start", description = "resume the run in --run-dir if it has one (as --resume), else start it: "
            + "one command a scheduler can retry as it is")
    boolean resumeOrStart;

    @Option(names = "--threads-per-worker", paramLabel = "T", description = "CPU threads per worker (spark.task.cpus; default 1)")
    Integer threadsPerWorker;

    @Option(names = "--aggregation-depth", paramLabel = "D", description = "treeAggregate depth of the averaging (default 2)")
    Integer aggregationDepth;

    @Mixin
    BackendOption backend;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[W*T])")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "extra Spark setting (repeatable), as spark-submit's --conf")
    List<String> conf = new ArrayList<>();

    @Option(names = "--no-progress", description = "no progress bar; print a line every 10 s instead")
    boolean noProgress;

    @Override
    public Integer call() throws IOException {
        TrainOptions options = options(new Configuration());
        boolean ownSession = org.fqlspark.launch.CommandSessions.noneRunning();
        CommandSessions.Builder session = session(options);
        BackendOption.requireAvailable(options.backend(), session);   // before the session starts and the run directory is written
        SparkSession spark = session.getOrCreate();
        try {
            TrainJob.run(spark, options);
            return 0;
        } catch (TrainingDivergedException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        } finally {
            if (ownSession) {
                spark.stop();   // a session that was already running (embedding, tests) is left to its owner
            }
        }
    }

    /** The flags over the defaults, or over the saved run's options with --resume. */
    @SuppressWarnings("unchecked")
    TrainOptions options(Configuration hadoop) throws IOException {
        TrainOptions.Builder b = TrainOptions.builder(data, runDir);
        ConfigOverrides savedOverrides = ConfigOverrides.none();
        TrainOptions.Online savedOnline = TrainOptions.Online.NONE;
        boolean stepsKnown = false;
        RunConfig.Train stored = null;
        boolean resuming = resume;
        if (resumeOrStart) {
            if (resume) {
                throw new IllegalArgumentException("--resume and --resume-or-start exclude each other");
            }
            resuming = RunConfig.existsIn(RunDirectory.at(runDir, hadoop));
        }
        if (resuming) {
            RunDirectory dir = RunDirectory.at(runDir, hadoop);
            if (RunConfig.existsIn(dir)) {
                RunConfig.Train train = RunConfig.read(dir).train();
                stored = train;
                train.restore(b);
                savedOverrides = train.configOverrides();
                savedOnline = train.onlineOptions();
                stepsKnown = true;
            }
            else if (data == null) {
                throw new RunDirectory.RunDirectoryException("nothing to resume in " + dir.root() + ": it has no "
                        + RunDirectory.CONFIG + " (start without --resume, with --data)");
            }
            if (data != null) b.dataPath(data);
        } else if (data == null) {
            throw new IllegalArgumentException("--data is required (except with --resume)");
        }
        if (workers != null) b.workers(workers);
        if (averagingFrequency != null) b.averagingFrequency(averagingFrequency);
        if (steps != null && samples != null) {
            throw new IllegalArgumentException("--steps and --samples exclude each other (one budget: steps of the averaged "
                    + "model, or samples over all workers)");
        }
        if (steps != null) b.steps(steps);
        if (preset != null) b.preset(preset);
        if (seed != null) b.seed(seed);
        if (checkpointEvery != null) b.checkpointEvery(checkpointEvery);
        if (keepCheckpoints != null) b.keepCheckpoints(keepCheckpoints);
        if (threadsPerWorker != null) b.threadsPerWorker(threadsPerWorker);
        if (aggregationDepth != null) b.aggregationDepth(aggregationDepth);
        if (evalEvery != null) b.evalEvery(evalEvery);
        if (averaging != null) {
            switch (averaging.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "driver" -> b.peerAveraging(false);
                case "peer" -> b.peerAveraging(true);
                default -> throw new IllegalArgumentException("--averaging must be 'driver' or 'peer', was '" + averaging + "'");
            }
        }
        if (evalEpisodes != null) b.evalEpisodes(evalEpisodes);
        if (evalEnv != null) b.evalEnv(evalEnv);
        b.backend(backend.value());   // not recorded in config.json: a resume runs where this command line says
        ConfigOverrides given = SettingOptions.overrides(spec, HYPER_PARAMETERS);
        b.overrides(savedOverrides.overriddenBy(given));
        boolean onlineGiven = onlineSteps != null || env != null || onlineMode != null || actors != null || refreshEvery != null
                || bufferCapacity != null;
        if (onlineGiven) {
            if (onlineSteps == null && savedOnline.steps() == 0) {
                throw new IllegalArgumentException("--env, --online-mode, --actors, --refresh-every and --buffer-capacity need "
                        + "--online-steps M");
            }
            b.online(new TrainOptions.Online(onlineSteps != null ? onlineSteps : savedOnline.steps(),
                    env != null ? env : savedOnline.env(), onlineMode != null ? onlineMode : savedOnline.mode(),
                    actors != null ? actors : savedOnline.actors(),
                    refreshEvery != null ? refreshEvery : savedOnline.refreshEvery(),
                    bufferCapacity != null ? bufferCapacity : savedOnline.bufferCapacity()));
        } else {
            b.online(savedOnline);
        }
        if (samples != null) b.samples(samples);   // after workers and overrides: the step count depends on W and batch
        b.resume(resuming).progressBar(!noProgress && System.console() != null);
        TrainOptions options = b.build();
        if (stored != null) {
            refuseStoredCommands(stored, options, RunDirectory.at(runDir, hadoop));
        }
        if (!stepsKnown && steps == null && samples == null && preset == null) {
            System.err.println("fql train: no --steps and no --preset: training the default preset's step count");
        }
        return options;
    }

    /**
     * A resume starts no command that this command line did not give: a {@code bridge:} environment that only the run
     * directory's config.json names (whoever wrote it) must be restated with {@code --eval-env} or {@code --env}.
     * Checked before anything is started or written; one where the resumed run would not use it (no evaluations, no
     * online phase) is not in the way.
     */
    private void refuseStoredCommands(RunConfig.Train stored, TrainOptions options, RunDirectory dir) {
        if (evalEnv == null && options.evalEvery() > 0 && isBridge(options.evalEnv())) {
            throw storedCommand(dir, "--eval-env", "evaluation", options.evalEnv());
        }
        if (env == null && options.online().enabled() && isBridge(options.online().env())) {
            throw storedCommand(dir, "--env", "online phase", options.online().env());
        }
    }

    private static boolean isBridge(String envText) {
        return envText != null && envText.trim().startsWith(org.fqlspark.eval.EnvSpec.BRIDGE_PREFIX);
    }

    private static IllegalArgumentException storedCommand(RunDirectory dir, String flag, String what, String command) {
        return new IllegalArgumentException(dir.file(RunDirectory.CONFIG) + " names a command for the " + what + ", "
                + flag + " " + printable(command) + "; a resume runs no command this command line does not give: "
                + "restate it with " + flag + " (or give another environment) to resume");
    }

    /** The command as one line: control characters (a newline in a hand-edited config) shown as escapes. */
    private static String printable(String command) {
        StringBuilder b = new StringBuilder("'");
        command.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) b.append(String.format("\\u%04x", c));
            else b.appendCodePoint(c);
        });
        return b.append('\'').toString();
    }

    /** The session for the run: {@link CommandSessions}' rules, local[W*T] by default, and the defaults here. */
    CommandSessions.Builder session(TrainOptions options) {
        int threads = options.threadsPerWorker();
        return CommandSessions.builder("fql train " + options.runDir()).master(master).conf(conf)
                .defaultMaster("local[" + options.workers() * threads + "]").threadsPerTask(threads)
                // Each worker returns its whole state (4 arrays of the parameter count) to the averaging; 1g, Spark's default
                // cap on results collected by the driver, is about 20 paper-size workers.
                .setDefault("spark.driver.maxResultSize", "8g")
                .logLevel("WARN");
    }
}
