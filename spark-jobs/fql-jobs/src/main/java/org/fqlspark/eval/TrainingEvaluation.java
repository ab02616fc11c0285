package org.fqlspark.eval;

import java.io.Serializable;
import java.util.List;
import java.util.stream.IntStream;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * Evaluation during training, as the official code does every {@code eval_interval} steps: E episodes of the current
 * averaged model on executors, with the same rollouts as {@code fql evaluate} ({@link EpisodeRollouts}: the one-step
 * policy, episode i seeded from (seed, i), built-in or bridge environments), reduced to the success rate and the mean
 * return. Nothing is written; the trainer puts the numbers into its metrics.
 *
 * <p>{@link #prepare} checks the environment once (a built-in id on the driver, a bridge by starting it on an
 * executor) and that its dimensions match the dataset's, so a bad {@code --eval-env} fails before training starts.
 */
public final class TrainingEvaluation implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The outcome of one evaluation: rates over completed episodes; failed episodes (a crashed bridge) count apart. */
    public record Score(double successRate, double meanReturn, long completed, long failed, double seconds) implements Serializable {
    }

    private final String envText;
    private final EnvSpec spec;
    private final String envId;
    private final int episodes;
    private final int stepLimit;
    private final int partitions;
    private final EvalOptions options;

    private TrainingEvaluation(String envText, EnvSpec spec, String envId, int episodes, int stepLimit, int partitions, EvalOptions options) {
        this.envText = envText;
        this.spec = spec;
        this.envId = envId;
        this.episodes = episodes;
        this.stepLimit = stepLimit;
        this.partitions = partitions;
        this.options = options;
    }

    /**
     * Checks the environment and sizes the evaluation.
     *
     * @param env             built-in id or {@code bridge:COMMAND} (flag {@code --eval-env})
     * @param episodes        episodes per evaluation (flag {@code --eval-episodes})
     * @param maxEpisodeSteps cap on steps per episode, 0 = the environment's limit
     * @param backend         the tensor backend the rollouts act on (the run's {@code --backend}; see {@link EvalOptions})
     * @throws IllegalArgumentException naming the flag, for an unknown or failing environment or mismatched dimensions
     */
    public static TrainingEvaluation prepare(SparkSession spark, String env, int episodes, int maxEpisodeSteps, int obsDim,
            int actionDim, String backend) {
        EvalOptions options;
        EnvSpec spec;
        EvaluateJob.EnvDescription description;
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        try {
            options = EvalOptions.of("(training)", env, episodes, "(none)").withMaxEpisodeSteps(maxEpisodeSteps).withBackend(backend);
            spec = EnvSpec.parse(options.env());
            description = EvaluateJob.describe(spec, options, jsc);
        } catch (EvalInputException e) {
            throw new IllegalArgumentException(e.getMessage().replace("--env", "--eval-env").replace("--episodes", "--eval-episodes")
                    .replace("--max-episode-steps", "--eval-max-episode-steps"), e);
        }
        if (description.observationDim() != obsDim || description.actionDim() != actionDim) {
            throw new IllegalArgumentException("--eval-env " + env + " has observation dim " + description.observationDim()
                    + " and action dim " + description.actionDim() + ", the dataset " + obsDim + " and " + actionDim);
        }
        int stepLimit;
        try {
            stepLimit = EvaluateJob.stepLimit(description, options);
        } catch (EvalInputException e) {
            throw new IllegalArgumentException(e.getMessage().replace("--env", "--eval-env"), e);
        }
        int partitions = Math.max(1, Math.min(episodes, jsc.defaultParallelism()));
        return new TrainingEvaluation(env, spec, description.id(), episodes, stepLimit, partitions, options);
    }

    public String envId() {
        return envId;
    }

    public int episodes() {
        return episodes;
    }

    /** Runs the episodes for the model in {@code checkpointBytes} (a {@code Checkpoint.toBytes()} image) on executors. */
    public Score evaluate(SparkSession spark, byte[] checkpointBytes, long seed) {
        long t0 = System.nanoTime();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<byte[]> bytes = jsc.broadcast(checkpointBytes);
        try {
            EpisodeRollouts work = new EpisodeRollouts(bytes, "training state", spec, seed, stepLimit, 0,
                    options.bridgeStartupTimeout(), options.bridgeRequestTimeout(), null, null, Policy.ONE_STEP, options.backend());
            List<Integer> indices = IntStream.range(0, episodes).boxed().toList();
            List<EpisodeRollouts.Rollout> rollouts = jsc.parallelize(indices, partitions).mapPartitions(work).collect();
            EpisodeStatistics s = EpisodeStatistics.of(rollouts.stream().map(EpisodeRollouts.Rollout::result).toList());
            return new Score(s.successRate(), s.meanReturn(), s.completed(), s.failed(), (System.nanoTime() - t0) / 1e9);
        } finally {
            bytes.destroy();
        }
    }

    @Override
    public String toString() {
        return envText + " (" + episodes + " episodes, limit " + stepLimit + " steps)";
    }
}
