package org.fqlspark.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.eval.TrainingEvaluation;
import org.fqlspark.io.Lease;
import org.fqlspark.run.RunDirectory;
import org.fqlspark.train.online.OnlineRounds;
import org.fqlspark.train.peer.PeerAveragedRounds;
import org.fqlspark.train.worker.RoundContext;
import org.fqlspark.train.worker.RoundResult;
import org.fqlspark.train.worker.RoundSpec;
import org.fqlspark.train.worker.Rounds;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerOutcome;

/**
 * Data-parallel FQL training with parameter averaging (the algorithm of DL4J's {@code ParameterAveragingTrainingMaster},
 * written for FQL's state on Spark directly):
 * <ol>
 *   <li>where the run starts is resolved once ({@link RunStart}: a new run, or a resumed one checked against its
 *       {@link RunConfig} and its newest intact checkpoint);</li>
 *   <li>the dataset is split once into W worker shards, cached in the executors as contiguous float buffers
 *       ({@link ShardPlacement});</li>
 *   <li>each round one kind of {@link Rounds} takes K steps on every worker from the current average and averages the
 *       W results: through the driver ({@link DriverAveragedRounds}), among the workers ({@link PeerAveragedRounds}), or,
 *       in the online phase, with experience collected as it goes ({@link OnlineRounds});</li>
 *   <li>every R rounds the average is checkpointed atomically to the run directory ({@link CheckpointWriter}); each
 *       round's metrics go to metrics.csv.</li>
 * </ol>
 * With W = 1 this is plain sequential training (the average of one state is that state), and a resumed run equals an
 * uninterrupted one: all randomness is a function of (seed, worker, step) and rounds start at multiples of K.
 *
 * <p>On a cluster: {@code spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar train --data DATA --run-dir RUN
 * --workers W} (see {@link TrainCommand} for GPU settings).
 */
public final class TrainJob {

    private TrainJob() {
    }

    /** {@link #run(SparkSession, TrainOptions, PrintStream)} logging to standard output. */
    public static TrainResult run(SparkSession spark, TrainOptions options) {
        return run(spark, options, System.out);
    }

    /**
     * Trains as {@code options} says and returns what happened.
     *
     * @throws IllegalArgumentException for bad input: an existing run directory without {@code resume}, nothing to
     *     resume, a resume with different settings, a dataset that is missing or does not match its manifest
     * @throws TrainingDivergedException when a loss or an averaged parameter becomes NaN or infinite
     */
    public static TrainResult run(SparkSession spark, TrainOptions options, PrintStream log) {
        try {
            return execute(spark, options, log);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** One driver at a time on a run directory (see {@link Lease}); released when this invocation ends. */
    private static TrainResult execute(SparkSession spark, TrainOptions options, PrintStream log) throws IOException {
        if (spark.sparkContext().master().startsWith("local")) {
            // the executors are this machine: --backend opencl without an OpenCL device is refused before anything is written
            org.fqlspark.tensor.Backends.checkAvailable(options.backend());
        }
        RunDirectory dir = RunDirectory.at(options.runDir(), spark.sparkContext().hadoopConfiguration());
        FqlConfig config = options.resolvedConfig();
        List<String> placement = ShardPlacement.preferredLocations(spark, options.workers(), log);
        try (Lease lease = Lease.acquire(dir.fs(), dir.root(), "training run", note -> log.println("fql train: " + note))) {
            RunStart start = RunStart.resolve(spark, options, config, dir, lease, log);
            MetricsLog metrics = MetricsLog.open(dir, config, start.step());
            if (start.step() >= options.totalSteps()) {
                log.printf("fql train: already at step %d (--steps %d, --online-steps %d); nothing to do%n", start.step(),
                        options.steps(), options.online().steps());
                return new TrainResult(dir.root().toString(), start.step(), start.step(), 0, start.state(), Map.of(),
                        start.lastCheckpoint(), 0, 0, 0, 0, List.of(), 0, 0);
            }
            TrainOptions.Online online = options.online();
            log.printf("fql train: %s -> %s: W=%d, K=%d, steps %d..%d, batch %d, hidden %s, seed %d%s%n", start.dataset().dir(),
                    dir.root(), options.workers(), options.averagingFrequency(), start.step(), options.totalSteps(),
                    config.batchSize(), config.actorHiddenDims(), options.seed(), online.enabled()
                            ? String.format(Locale.ROOT, "; online from step %d: %d steps in %s (%s mode%s)", options.steps(),
                                    online.steps(), online.env(), online.mode(),
                                    online.exact() ? "" : ", E=" + online.actors() + ", R=" + online.refreshEvery())
                            : "");
            String runId = UUID.randomUUID().toString();
            try (ShardPlacement shards = ShardPlacement.load(spark, start.dataset(), options.workers(), config.horizonLength(), placement,
                    runId, log)) {
                return new Loop(spark, options, config, dir, lease, start, metrics, shards, runId, log).run();
            }
        }
    }

    /** The rounds of one invocation, from the resolved start to the run's end, and what they leave behind. */
    private static final class Loop {
        private final SparkSession spark;
        private final TrainOptions options;
        private final FqlConfig config;
        private final RunDirectory dir;
        private final Lease lease;
        private final RunStart start;
        private final MetricsLog metrics;
        private final ShardPlacement shards;
        private final PrintStream log;
        private final String runId;
        private final Schedule schedule;
        private final CheckpointWriter checkpoints;
        private final RoundContext ctx;
        private final Rounds offline;
        /** The online phase's rounds; null without one. */
        private final OnlineRounds online;

        private TrainingState state;
        private long step;
        private int round;
        private int rounds;
        private double trainSeconds;
        private double averagingSeconds;
        private Map<String, Double> last = Map.of();
        private String lastCheckpoint;
        private long lastLine;

        Loop(SparkSession spark, TrainOptions options, FqlConfig config, RunDirectory dir, Lease lease, RunStart start,
                MetricsLog metrics, ShardPlacement shards, String runId, PrintStream log) {
            this.spark = spark;
            this.options = options;
            this.config = config;
            this.dir = dir;
            this.lease = lease;
            this.start = start;
            this.metrics = metrics;
            this.shards = shards;
            this.log = log;
            this.runId = runId;
            this.schedule = new Schedule(options.checkpointEvery(), options.evalEvery(), start.evaluation() != null,
                    options.steps(), options.totalSteps());
            this.checkpoints = new CheckpointWriter(spark, dir, lease, config, start.dataset().obsDim(),
                    start.dataset().actionDim(), options.seed(), options.keepCheckpoints(), start.provenance(), metrics);
            RoundContext ctx = new RoundContext(spark, runId, RoundSpec.toJson(config), start.dataset().obsDim(),
                    start.dataset().actionDim(), options.seed(), options.threadsPerWorker(), options.workers(),
                    options.averagingFrequency(), shards::rdd, log, options.backend());
            this.ctx = ctx;
            this.offline = options.peerAveraging() && options.workers() > 1
                    ? new PeerAveragedRounds(ctx, options.steps(), schedule::driverWorkDue)
                    : new DriverAveragedRounds(ctx, options.steps(), options.aggregationDepth());
            this.online = start.envSide() == null ? null
                    : OnlineRounds.of(ctx, dir, start.envSide(), start.savedOnline(), options.steps(), options.totalSteps());
            this.state = start.state();
            this.step = start.step();
            this.round = (int) (step / options.averagingFrequency());
            this.lastCheckpoint = start.lastCheckpoint();
        }

        TrainResult run() throws IOException {
            long begin = System.nanoTime();
            try (Progress progress = new Progress(options.progressBar(), start.step(), schedule.total())) {
                while (step < schedule.total()) {
                    shards.placeAgainIfLost(step);
                    Rounds kind = step < schedule.offlineSteps() ? offline : online;
                    RoundResult r = kind.next(state, step, round);
                    refuseFailed(r);
                    recordDevices();
                    state = r.next() != null ? r.next() : state;
                    step += r.steps();
                    round++;
                    rounds++;
                    trainSeconds += r.seconds();
                    averagingSeconds += r.averagingSeconds();
                    Map<String, Double> row = row(r);
                    kind.metrics(row, r);
                    if (schedule.evaluationDue(step, r.steps())) {
                        evaluate(row);
                    }
                    row.put("elapsed_seconds", (System.nanoTime() - begin) / 1e9);
                    metrics.append(row);
                    last = row;
                    if (schedule.checkpointDue(round, step)) {
                        lastCheckpoint = checkpoints.write(state, round, online);
                    }
                    report(progress, row, r);
                }
            } finally {
                offline.release();
                if (online != null) {
                    online.release();
                }
                shards.releaseWorkers(runId);
            }
            return finish();
        }

        /**
         * The devices the workers built their agents on, as they reported them, into this invocation's provenance file
         * and the checkpoints from now on: once known, and again should they change (a worker rebuilt elsewhere).
         */
        private void recordDevices() throws IOException {
            String used = ctx.devicesUsed();
            if (used.isEmpty() || used.equals(start.provenance().get(Provenance.DEVICE))) {
                return;
            }
            start.provenance().put(Provenance.DEVICE, used);
            lease.check();
            start.writeProvenance(dir, options.resume());
            log.printf("fql train: workers on %s (--backend %s)%n", used, options.backend());
        }

        /** A round that lost a worker, or whose losses or average are not finite, ends the run. */
        private void refuseFailed(RoundResult r) {
            if (r.reported() != options.workers()) {
                throw new IllegalStateException("round " + (round + 1) + ": " + r.reported() + " of " + options.workers()
                        + " workers reported");
            }
            if (r.divergence() != null) {
                WorkerOutcome.Divergence d = r.divergence();
                throw diverged(String.format(Locale.ROOT, "training diverged: non-finite loss at step %d on worker %d (%s)",
                        d.step(), d.worker(), d.losses()), d.step());
            }
            if (r.nonFinite() != null) {
                throw diverged("training diverged: non-finite state after averaging at step " + (step + r.steps()) + " ("
                        + r.nonFinite() + ")", step + r.steps());
            }
        }

        /** The round's metrics.csv row: losses, throughput, and NaN where this round did not evaluate. */
        private Map<String, Double> row(RoundResult r) {
            int workers = options.workers();
            Map<String, Double> row = new LinkedHashMap<>();
            row.put("step", (double) step);
            row.put("round", (double) round);
            row.put("workers", (double) workers);
            row.putAll(r.metrics().mean().metrics(config.alpha()));
            row.put("steps_per_second", r.steps() / r.seconds());
            row.put("samples_per_second", (double) workers * r.steps() * config.batchSize() / r.seconds());
            row.put("round_seconds", r.seconds());
            row.put("compute_seconds", r.computeSeconds());
            row.put("averaging_seconds", r.averagingSeconds());
            row.put("eval/success_rate", Double.NaN);
            row.put("eval/mean_return", Double.NaN);
            row.put("eval_seconds", Double.NaN);
            return row;
        }

        /** Evaluates the current average on the executors into {@code row}. */
        private void evaluate(Map<String, Double> row) {
            TrainingEvaluation evaluation = start.evaluation();
            byte[] image = checkpoints.image(state);
            spark.sparkContext().setJobDescription("fql train: evaluate step " + step + " on " + evaluation);
            TrainingEvaluation.Score score = evaluation.evaluate(spark, image, options.seed());
            row.put("eval/success_rate", score.successRate());
            row.put("eval/mean_return", score.meanReturn());
            row.put("eval_seconds", score.seconds());
            log.printf(Locale.ROOT, "fql train: step %d: success rate %.3f, mean return %.2f over %d episodes of %s "
                    + "(%d failed, %.1f s)%n", step, score.successRate(), score.meanReturn(), score.completed(),
                    evaluation.envId(), score.failed(), score.seconds());
        }

        /** The progress bar on a console; elsewhere a plain line every ten seconds and at the end. */
        private void report(Progress progress, Map<String, Double> row, RoundResult r) {
            progress.update(step, String.format(Locale.ROOT, "| critic %.4g  actor %.4g  q %.4g",
                    row.get("critic/critic_loss"), row.get("actor/actor_loss"), row.get("critic/q_mean")));
            if (!progress.enabled() && (System.nanoTime() - lastLine > 10e9 || step == schedule.total())) {
                lastLine = System.nanoTime();
                log.printf(Locale.ROOT, "fql train: step %d/%d  critic_loss %.4g  actor_loss %.4g  q_mean %.4g  "
                                + "%.0f samples/s  averaging %.0f%%%n", step, schedule.total(), row.get("critic/critic_loss"),
                        row.get("actor/actor_loss"), row.get("critic/q_mean"), row.get("samples_per_second"),
                        100 * r.averagingSeconds() / r.seconds());
            }
        }

        /** Learning curves, result.json and the closing line. */
        private TrainResult finish() throws IOException {
            int workers = options.workers();
            if (options.learningCurves() && !metrics.rows().isEmpty()) {
                dir.writeAtomically(dir.file(RunDirectory.CURVES), LearningCurves.render(metrics.rows(),
                        "FQL " + options.preset() + ", W=" + workers + ", K=" + options.averagingFrequency() + ", seed "
                                + options.seed() + (online != null ? ", online " + options.online().mode() + " in "
                                        + options.online().env() : ""),
                        online != null ? schedule.offlineSteps() : -1));
            }
            double samplesPerSecond = trainSeconds > 0
                    ? (double) workers * (step - start.step()) * config.batchSize() / trainSeconds : 0;
            TrainResult result = new TrainResult(dir.root().toString(), start.step(), step, rounds, state, last, lastCheckpoint,
                    trainSeconds, shards.loadSeconds(), averagingSeconds, samplesPerSecond, List.copyOf(shards.rows()),
                    shards.executorsLost(), shards.failedTasks());
            dir.writeJson(RunDirectory.RESULT, resultJson(result));
            log.printf(Locale.ROOT, "fql train: done: step %d, %d rounds in %.1f s (%.0f samples/s, averaging %.1f%% of the "
                    + "time); checkpoint %s%n", step, rounds, trainSeconds, samplesPerSecond, 100 * result.averagingShare(),
                    lastCheckpoint);
            return result;
        }

        private Map<String, Object> resultJson(TrainResult r) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("start_step", r.startStep());
            m.put("final_step", r.finalStep());
            m.put("rounds", r.rounds());
            m.put("last_checkpoint", r.lastCheckpoint());
            m.put("train_seconds", r.trainSeconds());
            m.put("load_seconds", r.loadSeconds());
            m.put("averaging_seconds", r.averagingSeconds());
            m.put("averaging_share", r.averagingShare());
            m.put("samples_per_second", r.samplesPerSecond());
            m.put("worker_rows", r.workerRows());
            m.put("executors_lost", r.executorsLost());
            m.put("failed_tasks", r.failedTasks());
            m.put("shard_placements", shards.placements());
            m.put("placement", shards.placement());
            m.put("last_metrics", r.lastMetrics());
            if (online != null && online.started()) {
                m.put("online", online.summary());
            }
            return m;
        }

        private TrainingDivergedException diverged(String what, long at) {
            try {
                metrics.writeParquet(spark);
            } catch (IOException | RuntimeException e) {
                log.println("fql train: could not write metrics.parquet: " + e.getMessage());
            }
            String message = what + ". Training stopped; " + (lastCheckpoint != null
                    ? "the last good checkpoint is " + lastCheckpoint + " (nothing was written after it)"
                    : "no checkpoint had been written yet") + ". Lower the learning rate or check the dataset's rewards.";
            return new TrainingDivergedException(message, at, lastCheckpoint);
        }
    }
}
