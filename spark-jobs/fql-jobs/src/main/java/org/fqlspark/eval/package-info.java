/**
 * Evaluation rollouts across Spark executors ({@code fql evaluate}, docs/algorithm.md §7).
 *
 * <h2>Entry points</h2>
 * {@link org.fqlspark.eval.EvaluateJob#run(org.apache.spark.sql.SparkSession, org.fqlspark.eval.EvalOptions)} with a
 * validated {@link org.fqlspark.eval.EvalOptions} record, returning an {@link org.fqlspark.eval.EvalResult}; the
 * command line {@link org.fqlspark.eval.EvaluateCommand} ({@code ./fql evaluate}, or
 * {@code spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar evaluate ...}).
 *
 * <h2>How episodes run</h2>
 * The driver reads the checkpoint (a file, or the newest intact one of a training run directory:
 * {@link org.fqlspark.eval.CheckpointSource}), checks its observation and action dimensions against the environment,
 * broadcasts the checkpoint <em>bytes</em> and parallelizes the episode indices into P partitions. Each task
 * restores the agent once and plays its episodes with {@code clip(μ_ω(s, z))}, fresh z every step. Episode i's
 * environment seed and noise stream are functions of (seed, i) only ({@link org.fqlspark.eval.EpisodeSeeds}), so
 * rows are identical for any P. Success is the environment's flag at the final step.
 *
 * <h2>Environments</h2>
 * Built-in ids ({@code pointmaze-medium}, ...) run in Java; {@code bridge:COMMAND} starts an external environment
 * server per task and speaks the fql-env-bridge protocol with it ({@link org.fqlspark.eval.BridgeEnvironment},
 * {@code envbridge/README.md}). A crash, hang or garbage answer fails only that episode: its row has
 * {@code failed = true} and the message, and the next episode gets a new process.
 *
 * <h2>Output</h2>
 * {@code episodes.parquet/}, {@code summary.json} ({@link org.fqlspark.eval.EvalSummary}) and, for the point-maze,
 * {@code trajectories.png}; written to a hidden temporary sibling and renamed into place.
 */
package org.fqlspark.eval;
