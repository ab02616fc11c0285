package org.fqlspark.train;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.QAgg;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import org.fqlspark.run.RunDirectory;

/**
 * {@code fql train}: picocli options → {@link TrainOptions} → {@link TrainJob#run}. Locally through {@code ./fql train},
 * on a cluster through {@code spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar train ...}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
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

    @Option(names = "--alpha", description = "distillation (BC) coefficient")
    Double alpha;

    @Option(names = "--discount", description = "discount factor")
    Double discount;

    @Option(names = "--q-agg", paramLabel = "mean|min", description = "aggregation of the two critics in the TD target")
    String qAgg;

    @Option(names = "--normalize-q-loss", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
            description = "divide the actor's Q loss by mean |Q|")
    Boolean normalizeQLoss;

    @Option(names = "--hidden-dims", split = ",", paramLabel = "H,H,...", description = "hidden widths of every network (e.g. 512,512,512,512)")
    List<Integer> hiddenDims;

    @Option(names = "--value-hidden-dims", split = ",", paramLabel = "H,H,...",
            description = "hidden widths of the critic alone (after --hidden-dims; the official value_hidden_dims)")
    List<Integer> valueHiddenDims;

    @Option(names = "--batch-size", description = "batch size per worker")
    Integer batchSize;

    @Option(names = "--flow-steps", description = "Euler steps of the BC flow")
    Integer flowSteps;

    @Option(names = "--lr", description = "Adam learning rate")
    Double learningRate;

    @Option(names = "--tau", description = "target critic Polyak rate")
    Double tau;

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

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[W*T])")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "extra Spark setting (repeatable), as spark-submit's --conf")
    List<String> conf = new ArrayList<>();

    @Option(names = "--no-progress", description = "no progress bar; print a line every 10 s instead")
    boolean noProgress;

    @Override
    public Integer call() throws IOException {
        TrainOptions options = options(new Configuration());
        boolean ownSession = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        SparkSession spark = session(options);
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
        ConfigOverrides given = new ConfigOverrides(alpha, discount, parseQAgg(qAgg), normalizeQLoss, hiddenDims, batchSize,
                flowSteps, learningRate, tau, valueHiddenDims);
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
        if (!stepsKnown && steps == null && samples == null && preset == null) {
            System.err.println("fql train: no --steps and no --preset: training the default preset's step count");
        }
        return b.build();
    }

    private static QAgg parseQAgg(String s) {
        if (s == null) {
            return null;
        }
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "mean" -> QAgg.MEAN;
            case "min" -> QAgg.MIN;
            default -> throw new IllegalArgumentException("--q-agg must be 'mean' or 'min', was '" + s + "'");
        };
    }

    /** A session for the run: spark-submit's settings win, then --master/--conf, then the defaults here. */
    SparkSession session(TrainOptions options) {
        SparkConf submitted = new SparkConf();   // spark.* system properties set by spark-submit
        SparkSession.Builder b = SparkSession.builder().appName("fql train " + options.runDir());
        List<String[]> extra = new ArrayList<>();
        for (String kv : conf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--conf expects KEY=VALUE, was '" + kv + "'");
            }
            extra.add(new String[] {kv.substring(0, eq), kv.substring(eq + 1)});
        }
        java.util.function.Predicate<String> given = k -> submitted.contains(k) || extra.stream().anyMatch(e -> e[0].equals(k));
        int threads = options.threadsPerWorker();
        if (master != null) {
            b.master(master);
        } else if (!given.test("spark.master")) {
            b.master("local[" + options.workers() * threads + "]");
        }
        if (!given.test("spark.task.cpus")) b.config("spark.task.cpus", Integer.toString(threads));
        if (!given.test("spark.executorEnv.OMP_NUM_THREADS")) b.config("spark.executorEnv.OMP_NUM_THREADS", Integer.toString(threads));
        if (!given.test("spark.executorEnv.OMP_WAIT_POLICY")) b.config("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE");
        if (!given.test("spark.ui.showConsoleProgress")) b.config("spark.ui.showConsoleProgress", "false");
        // Each worker returns its whole state (4 arrays of the parameter count) to the averaging; 1g, Spark's default
        // cap on results collected by the driver, is about 20 paper-size workers.
        if (!given.test("spark.driver.maxResultSize")) b.config("spark.driver.maxResultSize", "8g");
        for (String[] e : extra) {
            b.config(e[0], e[1]);
        }
        SparkSession spark = b.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        return spark;
    }
}
