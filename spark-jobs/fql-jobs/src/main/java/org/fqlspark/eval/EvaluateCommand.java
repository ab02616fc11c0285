package org.fqlspark.eval;

import java.time.Duration;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.cli.BackendOption;
import org.fqlspark.launch.CommandSessions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code fql evaluate}: the command-line face of {@link EvaluateJob}. Exit codes: 0 when at least one episode completed
 * (failed episodes are listed), 1 when every episode failed, 2 for bad input.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Roll out a checkpoint's one-step policy, clip(mu(s, z)) with fresh noise every step, for E episodes "
                + "spread over Spark executors; write one Parquet row per episode, summary.json (success rate, mean return with "
                + "a 95%% confidence interval, normalized score) and, for the point-maze, trajectories.png.",
                "Results do not depend on --partitions: episode i's environment seed and noise derive from (--seed, i)."},
        footer = {"", "External environments: --env 'bridge:python3 envbridge/fql_env_server.py --env-id antmaze-large-navigate-singletask-v0'"
                + " starts that command on each executor and speaks the fql-env-bridge protocol (envbridge/README.md).",
                "Cluster: spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar evaluate --checkpoint hdfs:///runs/r1 ..."})
public final class EvaluateCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "PATH",
            description = "checkpoint file, or a training run directory (its checkpoint with the highest step); any Hadoop path")
    String checkpoint;

    @Option(names = "--env", required = true, paramLabel = "ID",
            description = "built-in environment (pointmaze-medium, pointmaze-large-task3, ...) or bridge:COMMAND for an external one")
    String env;

    @Option(names = "--episodes", defaultValue = "50", paramLabel = "E", description = "episodes to run (default: ${DEFAULT-VALUE}, as the paper)")
    int episodes;

    @Option(names = "--output", required = true, paramLabel = "PATH", description = "output directory (must not exist unless --overwrite)")
    String output;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "run seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "P",
            description = "Spark partitions to spread the episodes over (default: the default parallelism, at most E)")
    int partitions;

    @Option(names = "--overwrite", description = "replace an existing output directory (only once the new one is complete)")
    boolean overwrite;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master when not run through spark-submit (default: local[*])")
    String master;

    @Option(names = "--max-episode-steps", defaultValue = "0", paramLabel = "N",
            description = "cap on steps per episode (default: the environment's time limit)")
    int maxEpisodeSteps;

    @Option(names = "--bridge-timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "longest wait for each reset/step answer of an external environment (default: ${DEFAULT-VALUE})")
    double bridgeTimeout;

    @Option(names = "--bridge-startup-timeout", defaultValue = "300", paramLabel = "SECONDS",
            description = "longest wait for an external environment's handshake (default: ${DEFAULT-VALUE})")
    double bridgeStartupTimeout;

    @Option(names = "--policy", defaultValue = "one-step", paramLabel = "one-step|flow-bc",
            description = "who acts: FQL's one-step policy (default), or the BC flow policy (the flow-BC baseline)")
    String policy;

    @Mixin
    BackendOption backend;

    @Override
    public Integer call() {
        EvalOptions options = new EvalOptions(checkpoint, env, episodes, output, seed, partitions, overwrite, maxEpisodeSteps,
                seconds(bridgeStartupTimeout, "--bridge-startup-timeout"), seconds(bridgeTimeout, "--bridge-timeout"),
                Policy.parse(policy), backend.value());
        boolean sessionExisted = !CommandSessions.noneRunning();
        CommandSessions.Builder session = CommandSessions.builder("fql evaluate").master(master);
        BackendOption.requireAvailable(options.backend(), session);   // before the session starts and anything is written
        SparkSession spark = session.getOrCreate();
        try {
            EvalResult result = EvaluateJob.run(spark, options, System.err);
            EvaluateJob.report(System.out, result.summary(), result.output());
            return result.summary().episodesCompleted() == 0 ? 1 : 0;
        } finally {
            if (!sessionExisted) spark.stop();
        }
    }

    private static Duration seconds(double value, String flag) {
        long max = BridgeEnvironment.MAX_TIMEOUT.toSeconds();
        if (!(value > 0) || value > max) {
            throw new EvalInputException(flag + " must be a positive number of seconds, at most " + max + " (a day), was " + value);
        }
        return Duration.ofMillis(Math.max(1, Math.round(value * 1000)));
    }
}
