package org.fqlspark.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.Checkpoint;
import org.fqlspark.io.Lease;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.data.DatasetManifest;
import org.fqlspark.data.DatasetSchema;
import org.fqlspark.eval.TrainingEvaluation;
import org.fqlspark.tensor.JavaTensorOps;

/**
 * Data-parallel FQL training with parameter averaging (the algorithm of DL4J's {@code ParameterAveragingTrainingMaster},
 * written for FQL's state on Spark directly):
 * <ol>
 *   <li>the dataset is split once into W worker shards, cached in the executors as contiguous float buffers
 *       ({@link ShardLoader});</li>
 *   <li>each round the driver broadcasts the current state (parameters, target critic, Adam moments, step); every
 *       worker (one task per cached shard) loads it into its live agent ({@link WorkerRegistry}) and takes K steps on
 *       batches it samples from its shard;</li>
 *   <li>a {@code treeAggregate} of depth {@code aggregationDepth} sums the W resulting states
 *       ({@link ParameterAverager}); their mean is the next round's state (updater-state averaging included);</li>
 *   <li>every R rounds the average is checkpointed atomically to the run directory; each round's metrics go to
 *       metrics.csv.</li>
 * </ol>
 * With W = 1 this is exactly {@link LocalTrainer} (the average of one state is that state), and a resumed run equals
 * an uninterrupted one: all randomness is a function of (seed, worker, step) and rounds start at multiples of K.
 *
 * <p>On a cluster: {@code spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar train --data DATA --run-dir RUN
 * --workers W} (see {@link TrainCommand} for GPU settings).
 */
public final class TrainJob {

    /** How long the driver waits for executors to offer W task slots (at the start, and after a loss). */
    static final Duration PLACEMENT_TIMEOUT = Duration.ofSeconds(60);

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
            return new Run(spark, options, log).execute();
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** One invocation: the state that lives on the driver. */
    private static final class Run {
        private final SparkSession spark;
        private final TrainOptions options;
        private final PrintStream log;
        private final Configuration hadoop;
        private final RunDirectory dir;
        private final FqlConfig config;
        private final String runId = UUID.randomUUID().toString();

        Run(SparkSession spark, TrainOptions options, PrintStream log) {
            this.spark = spark;
            this.options = options;
            this.log = log;
            this.hadoop = spark.sparkContext().hadoopConfiguration();
            this.dir = RunDirectory.at(options.runDir(), hadoop);
            this.config = options.resolvedConfig();
        }

        /** One driver at a time on a run directory (see {@link Lease}); released when this invocation ends. */
        TrainResult execute() throws IOException {
            // Before anything is written, the lease included: a cluster that cannot hold W workers side by side is
            // refused (exit code 2).
            placement = ExecutorPlacement.preferredLocations(spark.sparkContext(), options.workers(), PLACEMENT_TIMEOUT, log);
            try (Lease held = Lease.acquire(dir.fs(), dir.root(), "training run")) {
                this.lease = held;
                return executeLeased();
            }
        }

        private Lease lease;
        private TrainingEvaluation evaluation;
        /** The online phase (spec §5), from the moment it starts (or is resumed); null while offline. */
        private OnlinePhase online;
        private OnlineWork.EnvSide envSide;
        private OnlinePhase.Saved savedOnline;
        /** The resumed run's W and N as config.json has them (W may change only where that run had finished). */
        private int savedWorkers;
        private long savedSteps;
        /** The cached worker shards and where they are meant to live (empty in local mode). */
        private JavaRDD<WorkerShard> shards;
        private List<String> placement = List.of();
        private Path dataDir;
        private DatasetManifest manifest;
        /** Executors lost (as the listener counted them) when the shards were last placed. */
        private int lostAtPlacement;
        private int placements = 1;
        private long waitedForSlotsSince = -1;

        /**
         * After an executor holding a shard was lost, Spark recomputes that shard wherever a slot is free, usually beside
         * another worker, and locality then keeps both there: rounds run at half speed from then on. So once the cluster
         * offers W slots again (the replacement executor registered), the shards are loaded again with the lost workers
         * placed on executors with free slots; surviving workers keep their executor. Until then rounds go on, the round
         * after a loss waiting up to {@link #PLACEMENT_TIMEOUT} for the replacement. Numbers do not change: the shards
         * are the same rows in the same order and every round starts from the broadcast average.
         */
        private void placeAgainIfLost(RunListener listener, long step, List<Integer> rows) {
            int lost = listener.executorsLost.get();
            if (placement.isEmpty() || lost == lostAtPlacement) {
                return;
            }
            SparkContext sc = spark.sparkContext();
            if (ExecutorPlacement.allAlive(sc, placement)) {
                lostAtPlacement = lost;   // an executor without a shard: nothing to move
                return;
            }
            if (waitedForSlotsSince < 0) {
                waitedForSlotsSince = System.nanoTime();
                log.printf("fql train: an executor holding a shard was lost before step %d; waiting up to %d s for a "
                        + "replacement to place it again%n", step, PLACEMENT_TIMEOUT.toSeconds());
            }
            long deadline = waitedForSlotsSince + PLACEMENT_TIMEOUT.toNanos();
            while (!ExecutorPlacement.ready(sc, options.workers()) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (!ExecutorPlacement.ready(sc, options.workers())) {
                return;   // still short of slots: workers share until a replacement registers (checked every round)
            }
            long t0 = System.nanoTime();
            List<String> fresh = ExecutorPlacement.replace(sc, placement);
            sc.setJobDescription("fql train: place " + options.workers() + " worker shards again");
            JavaRDD<WorkerShard> moved = ShardLoader.load(spark, dataDir, manifest, options.workers(), fresh);
            List<Integer> sizes = moved.map(WorkerShard::size).collect();
            if (!sizes.equals(rows)) {
                moved.unpersist(false);
                throw new IllegalStateException("reloading the shards gave " + sizes + " rows per worker, first load " + rows);
            }
            shards.unpersist(false);
            shards = moved;
            log.printf(Locale.ROOT, "fql train: shards placed again at step %d on %s (was %s), in %.1f s%n", step, fresh,
                    placement, (System.nanoTime() - t0) / 1e9);
            placement = fresh;
            lostAtPlacement = lost;
            placements++;
            waitedForSlotsSince = -1;
        }

        private TrainResult executeLeased() throws IOException {
            if (!options.resume() && dir.existsNonEmpty()) {
                throw new RunDirectory.RunDirectoryException("run directory " + dir.root() + " already exists and is not empty; "
                        + "pass --resume to continue that run, or choose a new --run-dir");
            }
            if (options.resume() && !dir.exists(RunDirectory.CONFIG)) {
                throw new RunDirectory.RunDirectoryException("nothing to resume in " + dir.root() + ": it has no "
                        + RunDirectory.CONFIG + " (start without --resume)");
            }

            Path dataDir = qualify(options.dataPath());
            FileSystem dataFs = dataDir.getFileSystem(hadoop);
            DatasetManifest manifest = DatasetManifest.read(dataFs, dataDir);
            String manifestSha = Provenance.sha256(RunDirectory.readBytes(dataFs, new Path(dataDir, DatasetSchema.MANIFEST_FILE)));
            if (options.workers() > manifest.counts().transitions()) {
                throw new IllegalArgumentException("--workers " + options.workers() + " is more than the dataset's "
                        + manifest.counts().transitions() + " transitions");
            }
            int obsDim = manifest.obsDim();
            int actionDim = manifest.actionDim();
            this.dataDir = dataDir;
            this.manifest = manifest;
            if (options.evalEvery() > 0) {   // a bad --eval-env fails here, before the run directory gets anything
                evaluation = TrainingEvaluation.prepare(spark, options.evalEnv(), options.evalEpisodes(), 0, obsDim, actionDim);
            }
            if (options.online().enabled()) {   // a bad --env fails here too, before anything is written
                try {
                    TrainingEvaluation.prepare(spark, options.online().env(), 1, 0, obsDim, actionDim);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(e.getMessage().replace("--eval-env", "--env"), e);
                }
                envSide = new OnlineWork.EnvSide(options.online().env(), options.online().actors(),
                        options.onlineRewardShift(), options.online().capacity(manifest.counts().transitions()),
                        manifest.counts().transitions());
            }
            Map<String, String> provenance = Provenance.collect(spark, options, dataDir.toString(), manifest, manifestSha);

            TrainingState state;
            long startStep;
            String lastCheckpoint = null;
            if (options.resume()) {
                checkResumable(manifestSha, obsDim, actionDim);
                dir.deleteStaleTemporaries();
                Optional<RunDirectory.Loaded> latest = dir.latestCheckpoint(log);
                if (latest.isPresent()) {
                    Checkpoint cp = latest.get().checkpoint();
                    checkCheckpoint(cp, obsDim, actionDim, latest.get().path());
                    state = TrainingState.of(cp.state());
                    lastCheckpoint = latest.get().path().toString();
                    if (options.workers() != savedWorkers && state.step() != savedSteps) {
                        throw new RunDirectory.RunDirectoryException("cannot resume " + dir.root() + " with workers "
                                + options.workers() + ": the run was started with " + savedWorkers + " and is at step "
                                + state.step() + " of " + savedSteps + " (W may change only once a run has finished, e.g. to "
                                + "add an online phase; pass the same value, or start a new --run-dir)");
                    }
                    String saved = cp.provenance().get(OnlinePhase.CHECKPOINT_KEY);
                    if (saved != null) {
                        savedOnline = OnlinePhase.parse(saved, lastCheckpoint);
                        checkOnlineResumable(savedOnline, lastCheckpoint);
                    }
                    log.printf("fql train: resuming %s from %s (step %d)%n", dir.root(), lastCheckpoint, state.step());
                } else {
                    if (options.workers() != savedWorkers) {
                        throw new RunDirectory.RunDirectoryException("cannot resume " + dir.root() + " with workers "
                                + options.workers() + ": the run was started with " + savedWorkers
                                + " (pass the same value, or start a new --run-dir)");
                    }
                    state = initialState(obsDim, actionDim);
                    log.printf("fql train: %s has no complete checkpoint; starting it again from step 0%n", dir.root());
                }
                startStep = state.step();
                Map<String, String> p = new LinkedHashMap<>(provenance);
                p.put("resumed_from_step", Long.toString(startStep));
                dir.writeJson("provenance-resume-step-" + startStep + ".json", p);
            } else {
                dir.create();
                dir.writeJson(RunDirectory.CONFIG, configJson(dataDir, manifest, manifestSha));
                dir.writeJson(RunDirectory.PROVENANCE, provenance);
                state = initialState(obsDim, actionDim);
                startStep = 0;
            }
            if (options.resume()) {
                recordOnlineOptions();   // a finished offline run extended with an online phase, or its budget grown
            }
            MetricsLog metrics = MetricsLog.open(dir, config, startStep);
            if (startStep >= options.totalSteps()) {
                log.printf("fql train: already at step %d (--steps %d, --online-steps %d); nothing to do%n", startStep,
                        options.steps(), options.online().steps());
                return new TrainResult(dir.root().toString(), startStep, startStep, 0, state, Map.of(), lastCheckpoint,
                        0, 0, 0, 0, List.of(), 0, 0);
            }

            log.printf("fql train: %s -> %s: W=%d, K=%d, steps %d..%d, batch %d, hidden %s, seed %d%s%n", dataDir, dir.root(),
                    options.workers(), options.averagingFrequency(), startStep, options.totalSteps(), config.batchSize(),
                    config.actorHiddenDims(), options.seed(), options.online().enabled()
                            ? String.format(Locale.ROOT, "; online from step %d: %d steps in %s (%s mode%s)", options.steps(),
                                    options.online().steps(), options.online().env(), options.online().mode(),
                                    options.online().exact() ? "" : ", E=" + options.online().actors() + ", R="
                                            + options.online().refreshEvery())
                            : "");
            long t0 = System.nanoTime();
            shards = ShardLoader.load(spark, dataDir, manifest, options.workers(), placement);
            RunListener listener = new RunListener(runId);
            spark.sparkContext().setLocalProperty(RunListener.RUN_PROPERTY, runId);
            spark.sparkContext().addSparkListener(listener);
            boolean loaded = false;
            try {
                spark.sparkContext().setJobDescription("fql train: load " + options.workers() + " worker shards");
                List<Integer> rows;
                try {
                    rows = shards.map(WorkerShard::size).collect();
                } catch (Exception e) {   // Spark rethrows task failures as the checked SparkException
                    throw badDataOr(e);
                }
                long total = rows.stream().mapToLong(Integer::longValue).sum();
                if (total != manifest.counts().transitions()) {
                    throw new IllegalArgumentException(dataDir + ": read " + total + " transitions, the manifest says "
                            + manifest.counts().transitions());
                }
                loaded = true;
                double loadSeconds = (System.nanoTime() - t0) / 1e9;
                log.printf(Locale.ROOT, "fql train: %d transitions in %d worker shards %s, loaded in %.1f s%s%n", total,
                        rows.size(), rows, loadSeconds, placement.isEmpty() ? "" : ", placed on " + placement);
                return train(state, startStep, lastCheckpoint, metrics, provenance, obsDim, actionDim, rows, loadSeconds,
                        listener);
            } finally {
                spark.sparkContext().setJobDescription(null);
                if (loaded) {
                    releaseWorkers();
                }
                shards.unpersist(false);
                spark.sparkContext().removeSparkListener(listener);
                spark.sparkContext().setLocalProperty(RunListener.RUN_PROPERTY, null);
            }
        }

        private TrainResult train(TrainingState start, long startStep, String lastCheckpoint,
                MetricsLog metrics, Map<String, String> provenance, int obsDim, int actionDim, List<Integer> rows,
                double loadSeconds, RunListener listener) throws IOException {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            String configJson = RoundSpec.toJson(config);
            int k = options.averagingFrequency();
            int workers = options.workers();
            TrainingState state = start;
            long step = startStep;
            int round = (int) (startStep / k);
            int rounds = 0;
            double trainSeconds = 0;
            double averagingSeconds = 0;
            Map<String, Double> last = Map.of();
            long lastLine = 0;
            long begin = System.nanoTime();
            long total = options.totalSteps();
            long offlineSteps = options.steps();
            boolean peerAveraging = options.peerAveraging() && workers > 1;
            try (Progress progress = new Progress(options.progressBar(), startStep, total)) {
                while (step < total) {
                    placeAgainIfLost(listener, step, rows);
                    boolean onlineRound = step >= offlineSteps;
                    double collectSeconds = 0;
                    long r0 = System.nanoTime();
                    if (onlineRound && online == null) {
                        online = startOnline(obsDim, actionDim);
                    }
                    if (onlineRound && !online.options.exact() && step - offlineSteps >= online.count()) {
                        collectSeconds = collect(state, obsDim, actionDim, configJson, total - step);
                    }
                    // Rounds end at multiples of K (counted from the start of each phase), so a resumed run averages at
                    // the same steps as an uninterrupted one.
                    long done = onlineRound ? step - offlineSteps : step;
                    long phaseEnd = onlineRound ? total : offlineSteps;
                    int steps = (int) Math.min(k - done % k, phaseEnd - step);
                    if (onlineRound && !online.options.exact()) {
                        steps = (int) Math.min(steps, online.count() - done);   // update-to-data ratio 1 over what was collected
                    }
                    RoundSpec spec = new RoundSpec(runId, configJson, obsDim, actionDim, options.seed(), step, steps,
                            options.threadsPerWorker(), workers);
                    if (!onlineRound && peerAveraging && pending.isEmpty()) {
                        runPeerRounds(state, step, round, spec, offlineSteps, total);
                    }
                    RoundMetrics roundMetrics;
                    double computeSeconds;
                    int reported;
                    WorkerOutcome.Divergence divergence;
                    TrainingState next;
                    String bad;
                    double roundSeconds;
                    if (!onlineRound && !pending.isEmpty()) {   // a round the workers averaged among themselves
                        BarrierRounds.RoundSummary r = pending.poll();
                        steps = r.steps();
                        roundMetrics = r.metrics();
                        computeSeconds = r.maxComputeSeconds();
                        reported = r.reported();
                        divergence = r.divergence();
                        next = pending.isEmpty() ? pendingFinal : null;   // the stage returns only its last average
                        bad = r.nonFinite();
                        roundSeconds = r.seconds() + (pendingOverhead > 0 ? pendingOverhead : 0);
                        pendingOverhead = 0;   // the stage's driver-side cost goes to its first round
                    } else {
                        spark.sparkContext().setJobDescription("fql train: " + (onlineRound ? "online " : "") + "round "
                                + (round + 1) + ", steps " + step + ".." + (step + steps));
                        ParameterAverager sum;
                        if (onlineRound) {
                            sum = learnOnline(state, spec);
                        } else {
                            Broadcast<TrainingState> broadcast = jsc.broadcast(state);
                            try {
                                sum = shards.mapPartitions(it -> WorkerRound.run(it, spec, broadcast))
                                        .treeAggregate(new ParameterAverager(), ParameterAverager::merge, ParameterAverager::merge,
                                                options.aggregationDepth());
                            } finally {
                                broadcast.destroy();
                            }
                        }
                        roundMetrics = sum.metrics();
                        computeSeconds = sum.maxComputeSeconds();
                        reported = sum.count();
                        divergence = sum.divergence();
                        next = divergence == null && sum.count() == workers ? sum.average() : null;
                        bad = next == null ? null : next.firstNonFinite();
                        roundSeconds = (System.nanoTime() - r0) / 1e9;
                    }
                    if (reported != workers) {
                        throw new IllegalStateException("round " + (round + 1) + ": " + reported + " of " + workers
                                + " workers reported");
                    }
                    if (divergence != null) {
                        WorkerOutcome.Divergence d = divergence;
                        throw diverged(String.format(Locale.ROOT, "training diverged: non-finite loss at step %d on worker %d (%s)",
                                d.step(), d.worker(), d.losses()), d.step(), lastCheckpoint, metrics);
                    }
                    if (bad != null) {
                        throw diverged("training diverged: non-finite state after averaging at step " + (step + steps) + " (" + bad + ")",
                                step + steps, lastCheckpoint, metrics);
                    }
                    if (next != null) {
                        state = next;
                    }
                    step += steps;
                    round++;
                    rounds++;
                    trainSeconds += roundSeconds;
                    double averaging = Math.max(0, roundSeconds - collectSeconds - computeSeconds);
                    averagingSeconds += averaging;

                    Map<String, Double> row = new LinkedHashMap<>();
                    row.put("step", (double) step);
                    row.put("round", (double) round);
                    row.put("workers", (double) workers);
                    row.putAll(roundMetrics.mean().metrics(config.alpha()));
                    row.put("steps_per_second", steps / roundSeconds);
                    row.put("samples_per_second", (double) workers * steps * config.batchSize() / roundSeconds);
                    row.put("round_seconds", roundSeconds);
                    row.put("compute_seconds", computeSeconds);
                    row.put("averaging_seconds", averaging);
                    row.put("eval/success_rate", Double.NaN);
                    row.put("eval/mean_return", Double.NaN);
                    row.put("eval_seconds", Double.NaN);
                    if (online != null && onlineRound) {
                        online.metrics(row, collectSeconds);
                    } else {
                        OnlinePhase.offlineMetrics(row);
                    }
                    if (evaluationDue(step, steps, total, offlineSteps)) {
                        byte[] image = new Checkpoint(config, obsDim, actionDim, options.seed(), state.toAgentState(), provenance).toBytes();
                        spark.sparkContext().setJobDescription("fql train: evaluate step " + step + " on " + evaluation);
                        TrainingEvaluation.Score score = evaluation.evaluate(spark, image, options.seed());
                        row.put("eval/success_rate", score.successRate());
                        row.put("eval/mean_return", score.meanReturn());
                        row.put("eval_seconds", score.seconds());
                        log.printf(Locale.ROOT, "fql train: step %d: success rate %.3f, mean return %.2f over %d episodes of %s "
                                + "(%d failed, %.1f s)%n", step, score.successRate(), score.meanReturn(), score.completed(),
                                evaluation.envId(), score.failed(), score.seconds());
                    }
                    row.put("elapsed_seconds", (System.nanoTime() - begin) / 1e9);
                    metrics.append(row);
                    last = row;

                    if (checkpointDue(round, step, total, offlineSteps)) {
                        Map<String, String> p = new LinkedHashMap<>(provenance);
                        p.put("round", Integer.toString(round));
                        if (online != null) {   // the online rows go to online/ first: the checkpoint then refers to them
                            OnlineDataset.commit(spark, dir, online.all, online.committed, online.count(), onlineDetails());
                            online.committed = online.count();
                            p.put(OnlinePhase.CHECKPOINT_KEY, online.stateJson());
                        }
                        Checkpoint cp = new Checkpoint(config, obsDim, actionDim, options.seed(), state.toAgentState(), p);
                        lease.check();   // never write over a run another driver has taken over
                        lastCheckpoint = dir.saveCheckpoint(cp, options.keepCheckpoints()).toString();
                        metrics.writeParquet(spark);
                    }
                    progress.update(step, String.format(Locale.ROOT, "| critic %.4g  actor %.4g  q %.4g",
                            row.get("critic/critic_loss"), row.get("actor/actor_loss"), row.get("critic/q_mean")));
                    if (!progress.enabled() && (System.nanoTime() - lastLine > 10e9 || step == total)) {
                        lastLine = System.nanoTime();
                        log.printf(Locale.ROOT, "fql train: step %d/%d  critic_loss %.4g  actor_loss %.4g  q_mean %.4g  "
                                        + "%.0f samples/s  averaging %.0f%%%n", step, total, row.get("critic/critic_loss"),
                                row.get("actor/actor_loss"), row.get("critic/q_mean"), row.get("samples_per_second"),
                                100 * averaging / roundSeconds);
                    }
                }
            }
            if (options.learningCurves() && !metrics.rows().isEmpty()) {
                dir.writeAtomically(dir.file(RunDirectory.CURVES), LearningCurves.render(metrics.rows(),
                        "FQL " + options.preset() + ", W=" + workers + ", K=" + k + ", seed " + options.seed()
                                + (options.online().enabled() ? ", online " + options.online().mode() + " in " + envSide.env() : ""),
                        options.online().enabled() ? offlineSteps : -1));
            }
            double samplesPerSecond = trainSeconds > 0 ? (double) workers * (step - startStep) * config.batchSize() / trainSeconds : 0;
            TrainResult result = new TrainResult(dir.root().toString(), startStep, step, rounds, state, last, lastCheckpoint,
                    trainSeconds, loadSeconds, averagingSeconds, samplesPerSecond, List.copyOf(rows),
                    listener.executorsLost.get(), listener.failedTasks.get());
            dir.writeJson(RunDirectory.RESULT, resultJson(result));
            log.printf(Locale.ROOT, "fql train: done: step %d, %d rounds in %.1f s (%.0f samples/s, averaging %.1f%% of the time); "
                    + "checkpoint %s%n", step, rounds, trainSeconds, samplesPerSecond, 100 * result.averagingShare(), lastCheckpoint);
            return result;
        }

        /** Whether the round ending at {@code step} (the {@code round}-th) writes a checkpoint. */
        private boolean checkpointDue(int round, long step, long total, long offlineSteps) {
            return round % options.checkpointEvery() == 0 || step == total || step == offlineSteps;
        }

        /** Whether the round of {@code steps} steps ending at {@code step} ends with a periodic evaluation. */
        private boolean evaluationDue(long step, int steps, long total, long offlineSteps) {
            long every = options.evalEvery();
            return evaluation != null && (step / every > (step - steps) / every || step == total || step == offlineSteps);
        }

        /** Rounds a peer-averaging stage ran that the loop has not booked yet, the stage's last average, its overhead. */
        private final java.util.ArrayDeque<BarrierRounds.RoundSummary> pending = new java.util.ArrayDeque<>();
        private TrainingState pendingFinal;
        private double pendingOverhead;

        /**
         * {@code --averaging peer}: one barrier stage runs the rounds from {@code step} up to the first round end where the
         * driver has work (a checkpoint, an evaluation, the end of the offline phase), the workers averaging among
         * themselves; the rounds go to {@link #pending}, the last average to {@link #pendingFinal}.
         */
        private void runPeerRounds(TrainingState state, long step, int round, RoundSpec template, long offlineSteps,
                long total) {
            int k = options.averagingFrequency();
            long s = step;
            int r = round;
            while (s < offlineSteps) {
                int n = (int) Math.min(k - s % k, offlineSteps - s);
                s += n;
                r++;
                if (checkpointDue(r, s, total, offlineSteps) || evaluationDue(s, n, total, offlineSteps)) {
                    break;
                }
            }
            long end = s;
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            spark.sparkContext().setJobDescription("fql train: rounds " + (round + 1) + ".." + r + ", steps " + step + ".." + end
                    + " (workers average among themselves)");
            long t0 = System.nanoTime();
            Broadcast<TrainingState> broadcast = jsc.broadcast(state);
            List<BarrierRounds.Outcome> outcomes;
            try {
                outcomes = PeerStage.run(shards, template, k, end, broadcast);
            } finally {
                broadcast.destroy();
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            BarrierRounds.Outcome first = outcomes.stream().filter(o -> o.worker() == 0).findFirst()
                    .orElseThrow(() -> new IllegalStateException("worker 0 did not report from the peer-averaging stage"));
            pending.addAll(first.rounds());
            pendingFinal = first.finalState();
            pendingOverhead = wall - first.rounds().stream().mapToDouble(BarrierRounds.RoundSummary::seconds).sum();
        }

        /** The online phase from its start, or as the resumed checkpoint left it. */
        private OnlinePhase startOnline(int obsDim, int actionDim) throws IOException {
            if (envSide == null) {
                throw new IllegalStateException("online round without an online phase configured");
            }
            if (savedOnline == null) {
                log.printf("fql train: offline phase done at step %d; online phase: %d steps in %s%n", options.steps(),
                        options.online().steps(), options.online().env());
                return OnlinePhase.fresh(options.online(), envSide, obsDim, actionDim);
            }
            spark.sparkContext().setJobDescription("fql train: read the online transitions");
            OnlineTransitions rows = OnlineDataset.read(spark, dir, savedOnline.transitions(), obsDim, actionDim, onlineDetails());
            log.printf("fql train: online phase resumed with %d transitions, %d episodes%n", rows.size(), savedOnline.episodes());
            return OnlinePhase.resume(options.online(), envSide, savedOnline, rows);
        }

        private Map<String, String> onlineDetails() {
            return Map.of("env", options.online().env(), "mode", options.online().mode(), "run", dir.root().toString(),
                    "actors", Integer.toString(options.online().actors()));
        }

        /**
         * The distributed mode's collection: E actor tasks step their environments R times each (fewer at the end of
         * the budget) with the current averaged policy; their rows join the buffer in actor order. Returns its seconds.
         */
        private double collect(TrainingState state, int obsDim, int actionDim, String configJson, long remaining) {
            long t0 = System.nanoTime();
            int actors = online.options.actors();
            int perActor = (int) Math.min(online.options.refreshEvery(), (remaining + actors - 1) / actors);
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            OnlineWork.CollectInput input = new OnlineWork.CollectInput(runId, configJson, obsDim, actionDim, options.seed(),
                    state, List.copyOf(online.actors), online.count(), perActor, envSide);
            spark.sparkContext().setJobDescription("fql train: collect " + actors + " x " + perActor + " environment steps");
            Broadcast<OnlineWork.CollectInput> bc = jsc.broadcast(input);
            List<OnlineWork.CollectOutcome> outcomes;
            try {
                List<Integer> ids = java.util.stream.IntStream.range(0, actors).boxed().toList();
                outcomes = new java.util.ArrayList<>(jsc.parallelize(ids, actors).mapPartitions(it -> OnlineWork.collect(it, bc)).collect());
            } finally {
                bc.destroy();
            }
            outcomes.sort(java.util.Comparator.comparingInt(OnlineWork.CollectOutcome::actor));
            for (OnlineWork.CollectOutcome o : outcomes) {
                online.add(o.rows(), o.ends());
                online.actors.set(o.actor(), o.state());
                if (o.replayDiverged()) {
                    log.printf("fql train: actor %d's environment did not replay to its saved state (not deterministic?); "
                            + "it started a new episode%n", o.actor());
                }
            }
            return (System.nanoTime() - t0) / 1e9;
        }

        /**
         * One online learner round: the learners get the rows they lack and take the round's steps on the union of
         * their shard and online rows; in the exact mode the one learner also acts before each step. A learner that lost
         * its rows (a new executor) asks for all of them, and the round runs again from the same start, which changes
         * no number.
         */
        private ParameterAverager learnOnline(TrainingState state, RoundSpec spec) {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            boolean everything = online.learnersHave == 0;
            for (int attempt = 0; ; attempt++) {
                OnlineWork.LearnInput input = new OnlineWork.LearnInput(state, online.unsent(everything),
                        online.options.exact() ? online.actors.get(0) : null, envSide);
                Broadcast<OnlineWork.LearnInput> bc = jsc.broadcast(input);
                List<OnlineWork.LearnOutcome> outcomes;
                try {
                    outcomes = shards.mapPartitions(it -> OnlineWork.learn(it, spec, bc)).collect();
                } finally {
                    bc.destroy();
                }
                if (outcomes.stream().anyMatch(OnlineWork.LearnOutcome::resync)) {
                    if (attempt > 0) {
                        throw new IllegalStateException("a learner still lacked online rows after it was sent all of them");
                    }
                    everything = true;
                    continue;
                }
                online.learnersHave = online.count();
                ParameterAverager sum = new ParameterAverager();
                for (OnlineWork.LearnOutcome o : outcomes) {
                    sum.add(o.outcome());
                    if (o.collected() != null) {   // exact mode: the learner was the actor
                        online.add(o.collected(), o.ends());
                        online.actors.set(0, o.actor());
                        online.learnersHave = online.count();
                        if (o.replayDiverged()) {
                            log.println("fql train: the environment did not replay to its saved state (not deterministic?); "
                                    + "a new episode was started");
                        }
                    }
                }
                return sum;
            }
        }

        /** A resumed online phase must keep its environment and how it collects; its step budget may grow. */
        private void checkOnlineResumable(OnlinePhase.Saved saved, String where) {
            TrainOptions.Online o = options.online();
            if (!o.enabled()) {
                throw new RunDirectory.RunDirectoryException("cannot resume " + dir.root() + " without its online phase: " + where
                        + " is in the online phase in " + saved.env() + " (pass --online-steps and --env, or resume without "
                        + "changing them)");
            }
            if (!saved.env().equals(o.env()) || !saved.mode().equals(o.mode()) || saved.actors() != o.actors()
                    || saved.refreshEvery() != o.refreshEvery() || saved.capacity() != envSide.capacity()) {
                throw new RunDirectory.RunDirectoryException("cannot resume " + dir.root() + "'s online phase with different "
                        + "settings: it ran in " + saved.env() + ", mode " + saved.mode() + ", E=" + saved.actors() + ", R="
                        + saved.refreshEvery() + ", capacity " + saved.capacity() + "; this command asks for " + o.env() + ", mode "
                        + o.mode() + ", E=" + o.actors() + ", R=" + o.refreshEvery() + ", capacity " + envSide.capacity());
            }
        }

        /** config.json records the online options this run now trains with (they may extend a finished offline run). */
        @SuppressWarnings("unchecked")
        private void recordOnlineOptions() throws IOException {
            Map<String, Object> saved = dir.readJson(RunDirectory.CONFIG);
            Map<String, Object> train = new LinkedHashMap<>((Map<String, Object>) saved.get("train"));
            Object ours = RunDirectory.JSON.convertValue(options.online().asMap(), Map.class);
            Object theirs = RunDirectory.JSON.convertValue(train.get("online"), Map.class);
            boolean workersChanged = ((Number) train.get("workers")).intValue() != options.workers();
            if (!ours.equals(theirs) || workersChanged) {
                train.put("online", options.online().asMap());
                train.put("workers", options.workers());
                Map<String, Object> updated = new LinkedHashMap<>(saved);
                updated.put("train", train);
                lease.check();
                dir.writeJson(RunDirectory.CONFIG, updated);
            }
        }

        private TrainingDivergedException diverged(String what, long step, String lastCheckpoint, MetricsLog metrics) {
            try {
                metrics.writeParquet(spark);
            } catch (IOException | RuntimeException e) {
                log.println("fql train: could not write metrics.parquet: " + e.getMessage());
            }
            String message = what + ". Training stopped; " + (lastCheckpoint != null
                    ? "the last good checkpoint is " + lastCheckpoint + " (nothing was written after it)"
                    : "no checkpoint had been written yet") + ". Lower the learning rate or check the dataset's rewards.";
            return new TrainingDivergedException(message, step, lastCheckpoint);
        }

        /** A data error raised inside a load task, unwrapped so it reads as bad input (exit code 2). */
        private static RuntimeException badDataOr(Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException bad) {
                    return new IllegalArgumentException(bad.getMessage(), e);
                }
            }
            return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
        }

        private TrainingState initialState(int obsDim, int actionDim) {
            // Plain Java tensors: the driver never initialises ND4J (no GPU, no CUDA backend needed here); the initial state
            // is the same bits on every backend (it is drawn in Java and uploaded).
            return TrainingState.of(new FqlAgent(config, obsDim, actionDim, Seeds.workerNoiseSeed(options.seed(), 0),
                    new JavaTensorOps()).state());
        }

        private Path qualify(String path) throws IOException {
            Path p = new Path(path);
            return p.getFileSystem(hadoop).makeQualified(p);
        }

        private Map<String, Object> configJson(Path dataDir, DatasetManifest manifest, String manifestSha) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", "fql-train-config");
            m.put("format_version", 1);
            m.put("fql_config", config);
            m.put("train", options.asMap());
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("path", dataDir.toString());
            data.put("manifest_sha256", manifestSha);
            data.put("transitions", manifest.counts().transitions());
            data.put("obs_dim", manifest.obsDim());
            data.put("action_dim", manifest.actionDim());
            m.put("dataset", data);
            return m;
        }

        /** A resume must train the same model on the same data with the same split: anything else is refused. */
        @SuppressWarnings("unchecked")
        private void checkResumable(String manifestSha, int obsDim, int actionDim) throws IOException {
            Map<String, Object> saved = dir.readJson(RunDirectory.CONFIG);
            JsonNode savedConfig = RunDirectory.JSON.valueToTree(saved.get("fql_config"));
            JsonNode ourConfig = RunDirectory.JSON.valueToTree(config);
            if (!ourConfig.equals(savedConfig)) {
                throw new RunDirectory.RunDirectoryException("cannot resume " + dir.root() + " with a different FQL config: it was "
                        + savedConfig + ", this command resolves to " + ourConfig);
            }
            Map<String, Object> train = (Map<String, Object>) saved.get("train");
            savedWorkers = ((Number) train.get("workers")).intValue();
            savedSteps = ((Number) train.get("steps")).longValue();
            mustMatch(train, "averaging_frequency", options.averagingFrequency());
            mustMatch(train, "seed", options.seed());
            Map<String, Object> data = (Map<String, Object>) saved.get("dataset");
            if (!manifestSha.equals(data.get("manifest_sha256"))) {
                throw new RunDirectory.RunDirectoryException("cannot resume " + dir.root() + " on a different dataset: its manifest "
                        + "SHA-256 was " + data.get("manifest_sha256") + ", " + options.dataPath() + " has " + manifestSha);
            }
            if (((Number) data.get("obs_dim")).intValue() != obsDim || ((Number) data.get("action_dim")).intValue() != actionDim) {
                throw new RunDirectory.RunDirectoryException("cannot resume " + dir.root() + ": dataset dimensions changed");
            }
        }

        private void mustMatch(Map<String, Object> saved, String key, long ours) {
            long theirs = ((Number) saved.get(key)).longValue();
            if (theirs != ours) {
                throw new RunDirectory.RunDirectoryException("cannot resume " + dir.root() + " with " + key.replace('_', '-') + " "
                        + ours + ": the run was started with " + theirs + " (pass the same value, or start a new --run-dir)");
            }
        }

        private void checkCheckpoint(Checkpoint cp, int obsDim, int actionDim, Path path) {
            if (cp.obsDim() != obsDim || cp.actionDim() != actionDim || cp.seed() != options.seed()
                    || !RunDirectory.JSON.valueToTree(cp.config()).equals(RunDirectory.JSON.valueToTree(config))) {
                throw new RunDirectory.RunDirectoryException(path + " does not belong to this run (config, seed or dimensions differ)");
            }
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
            m.put("shard_placements", placements);
            m.put("placement", placement);
            m.put("last_metrics", r.lastMetrics());
            if (online != null) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("mode", online.options.mode());
                o.put("env", online.options.env());
                o.put("env_steps", online.count());
                o.put("episodes", online.episodes);
                o.put("successes", online.successes);
                o.put("failed_episodes", online.failedEpisodes);
                o.put("dataset", OnlineDataset.dir(dir).toString());
                m.put("online", o);
            }
            return m;
        }

        /** Drops the live agents of this run in every executor that holds a shard (best effort), and here. */
        private void releaseWorkers() {
            String id = runId;
            try {
                spark.sparkContext().setJobDescription("fql train: release worker agents");
                shards.foreachPartition(it -> WorkerRegistry.release(id));
                if (online != null && !online.options.exact()) {
                    int actors = online.options.actors();
                    JavaSparkContext.fromSparkContext(spark.sparkContext())
                            .parallelize(java.util.stream.IntStream.range(0, actors).boxed().toList(), actors)
                            .foreachPartition(it -> OnlineWork.releaseActors(id));
                }
            } catch (RuntimeException e) {
                log.println("fql train: could not release worker agents on every executor: " + e.getMessage());
            }
            WorkerRegistry.release(id);
            OnlineWork.releaseActors(id);
        }
    }

}
