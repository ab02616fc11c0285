package org.fqlspark.sweep;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.eval.EvalResult;
import org.fqlspark.eval.EvalSummary;
import org.fqlspark.eval.EvaluateJob;
import org.fqlspark.io.Lease;
import org.fqlspark.io.OutputGuard;
import org.fqlspark.sweep.SweepSpec.Trial;
import org.fqlspark.run.RunDirectory;
import org.fqlspark.train.RunConfig;
import org.fqlspark.train.TrainJob;
import org.fqlspark.train.TrainResult;

/**
 * Runs a {@link SweepSpec}: every trial is a training run ({@link TrainJob}) followed by an evaluation of its last
 * checkpoint ({@link EvaluateJob}), up to {@code maxConcurrent} trials at a time as threads of this driver sharing one
 * SparkSession (each thread submits its own Spark jobs, tagged with the trial's job group and, under
 * {@code spark.scheduler.mode=FAIR}, a pool of its own).
 *
 * <p>Output layout:
 * <pre>
 *   sweep.yaml                    the spec as run, base inlined (re-runnable on its own)
 *   trials/&lt;id&gt;/trial.json        the trial's parameters and resolved config (written first)
 *   trials/&lt;id&gt;/run/              the training run directory (config, checkpoints, metrics.parquet, curves)
 *   trials/&lt;id&gt;/eval/             the evaluation output (episodes.parquet, summary.json, trajectories.png)
 *   _LEASE.json                   the driver running the sweep now (one at a time; see {@link Lease})
 *   trials/&lt;id&gt;/_COMPLETE.json     the trial's results row with the dataset manifest's SHA-256; written last, only when
 *                                 every evaluation episode ran, so its presence means "finished on that dataset"
 *   trials/&lt;id&gt;/superseded-&lt;time&gt;/  an earlier run, evaluation and marker made on a dataset that has since changed
 *   trials/&lt;id&gt;/error.txt          why the last attempt failed (removed when the trial completes)
 *   results.parquet/, results.csv one row per trial of this spec: parameters and final metrics
 *   best.json, best.yaml          the best trial (success rate, then mean return) and its config as a base for more
 * </pre>
 *
 * <p>Running the same spec again skips trials with a {@code _COMPLETE.json} for the current dataset; a trial whose
 * dataset was ingested again runs again; an unfinished trial resumes: training
 * continues from its latest checkpoint (as {@code train --resume}), or is skipped when its run already reached the
 * step count, and the evaluation is redone. Since trial ids hash the resolved config, extending a grid reuses every
 * point already done.
 */
public final class SweepJob {

    public static final String SPEC_COPY = "sweep.yaml";
    public static final String TRIALS = "trials";
    public static final String TRIAL_JSON = "trial.json";
    public static final String COMPLETE = "_COMPLETE.json";
    public static final String ERROR = "error.txt";
    public static final String RUN = "run";
    public static final String EVAL = "eval";
    public static final String RESULTS_PARQUET = "results.parquet";
    public static final String RESULTS_CSV = "results.csv";
    public static final String BEST_JSON = "best.json";
    public static final String BEST_YAML = "best.yaml";
    /** Written by {@link TrainJob} at the end of every training invocation. */
    static final String TRAIN_RESULT = "result.json";

    /** What happened to one trial in this invocation. */
    public enum Status {
        /** trained and evaluated now */
        COMPLETED,
        /** already finished by an earlier invocation; its row was reused */
        SKIPPED,
        /** trained and evaluated, but some evaluation episodes failed: not complete, the next run retries the evaluation */
        INCOMPLETE,
        /** failed now; see {@code error} */
        FAILED
    }

    /** One trial's outcome; {@code row} is its results-table row (null when it failed). */
    public record Outcome(Trial trial, Status status, Map<String, Object> row, String error) {
    }

    private SweepJob() {
    }

    /**
     * Runs every trial of {@code spec} not yet finished under {@code output}, then writes the results table and
     * {@code best.json}. A failed trial is reported and the others go on.
     *
     * @param maxConcurrent trials at a time (1 = one after the other)
     * @throws IllegalArgumentException for a spec that does not resolve (nothing is run then)
     */
    public static SweepResult run(SparkSession spark, SweepSpec spec, String output, int maxConcurrent, PrintStream log) {
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("--max-concurrent must be at least 1, was " + maxConcurrent);
        }
        if (output == null || output.isBlank()) {
            throw new IllegalArgumentException("--output: a sweep directory is required");
        }
        List<Integer> threadCounts = spec.trials().stream()   // a spec that does not resolve fails here, before anything is written
                .map(t -> t.config().train().threadsPerWorker()).distinct().sorted().toList();
        if (maxConcurrent > 1 && threadCounts.size() > 1) {
            // ND4J's and OpenBLAS's thread counts are per process: concurrent trials on one executor would set them
            // for each other, and each trial's timings would describe another trial's setting
            throw new IllegalArgumentException("train.threads_per_worker differs between trials " + threadCounts + ", which "
                    + "cannot run concurrently (it is a per-process setting on the executors); run with --max-concurrent 1 "
                    + "or give every trial the same value");
        }
        if (spark.sparkContext().master().startsWith("local")) {   // the trials train on this machine: it must have their devices
            spec.trials().stream().map(t -> t.config().train().backend()).filter(java.util.Objects::nonNull).distinct()
                    .forEach(org.fqlspark.tensor.Backends::checkAvailable);
        }
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        Path root = SweepFiles.qualify(output, hadoop);
        checkOutput(spec, root, hadoop);   // before the lease: a directory that is not ours gets nothing, not even a lease file
        try (Lease lease = SweepFiles.lease(root, "sweep output", hadoop, log)) {
            return runLeased(spark, spec, root, maxConcurrent, hadoop, lease, log);
        }
    }

    private static SweepResult runLeased(SparkSession spark, SweepSpec spec, Path root, int maxConcurrent, Configuration hadoop,
            Lease lease, PrintStream log) {
        List<Trial> trials = spec.trials();
        // the marker first: a sweep stopped right after it is still recognisably ours on the next run
        SweepFiles.writeAtomically(new Path(root, SPEC_COPY), SweepFiles.yaml(specAsRun(spec)), hadoop);
        SweepFiles.mkdirs(new Path(root, TRIALS), hadoop);
        log.printf(Locale.ROOT, "fql sweep: %s: %d trial(s) into %s, %d at a time%n", spec.name(), trials.size(), root,
                Math.min(maxConcurrent, trials.size()));

        long t0 = System.nanoTime();
        List<Outcome> outcomes = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(maxConcurrent, trials.size()), threads());
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (Trial trial : trials) {
                futures.add(pool.submit(() -> {
                    lease.check();   // another driver took the sweep over: start nothing more
                    return runTrial(spark, trial, root, hadoop, log);
                }));
            }
            for (Future<Outcome> f : futures) {
                try {
                    outcomes.add(f.get());
                } catch (ExecutionException e) {
                    throw new IllegalStateException("sweep worker thread failed: " + e.getCause(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    pool.shutdownNow();
                    throw new IllegalStateException("sweep interrupted; run it again to resume", e);
                }
            }
        } finally {
            pool.shutdown();
        }

        List<Map<String, Object>> rows = new ArrayList<>();
        for (Outcome o : outcomes) {
            rows.add(o.row() != null ? o.row() : ResultsTable.failedRow(o.trial(), o.error()));
        }
        lease.check();
        ResultsTable.write(spark, rows, new Path(root, RESULTS_PARQUET), new Path(root, RESULTS_CSV));
        Map<String, Object> best = ResultsTable.best(outcomes);
        SweepFiles.writeAtomically(new Path(root, BEST_JSON), SweepFiles.json(best), hadoop);
        Trial bestTrial = outcomes.stream().filter(o -> o.trial().id().equals(best.get("trial_id"))).map(Outcome::trial)
                .findFirst().orElse(null);
        if (bestTrial != null) {
            SweepFiles.writeAtomically(new Path(root, BEST_YAML), "# Best trial " + bestTrial.id() + " of sweep " + spec.name()
                    + " (" + best.get("selected_by") + "); usable as a base: or as a --spec of its own.\n"
                    + SweepFiles.yaml(bestTrial.config()), hadoop);
        } else {
            SweepFiles.delete(new Path(root, BEST_YAML), hadoop);
        }

        SweepResult result = new SweepResult(root.toString(), outcomes, best, (System.nanoTime() - t0) / 1e9);
        log.printf(Locale.ROOT, "fql sweep: done in %.1f s: %d completed now, %d already complete, %d incomplete (failed "
                        + "evaluation episodes; retried on the next run), %d failed; results %s, best %s%n",
                result.seconds(), result.count(Status.COMPLETED), result.count(Status.SKIPPED), result.count(Status.INCOMPLETE),
                result.count(Status.FAILED),
                new Path(root, RESULTS_PARQUET), best.get("trial_id") == null ? "none (no trial completed)"
                        : best.get("trial_id") + " " + best.get("parameters") + " success_rate " + best.get("success_rate"));
        for (Outcome o : outcomes) {
            if (o.status() == Status.FAILED || o.status() == Status.INCOMPLETE) {
                log.printf("fql sweep: trial %s %s failed: %s%n", o.trial().id(), o.trial().parameters(), o.error());
            }
        }
        return result;
    }

    /**
     * A sweep output as {@link OutputGuard} recognises it: {@value #SPEC_COPY} as this class writes it (a {@code name}
     * and the base inlined as a map) and only the entries a sweep writes.
     */
    static final OutputGuard.Kind OUTPUT_KIND = new OutputGuard.Kind("sweep", SPEC_COPY,
            java.util.Set.of(SPEC_COPY, TRIALS, RESULTS_PARQUET, RESULTS_CSV, BEST_JSON, BEST_YAML)::contains,
            SweepJob::isOurSpecCopy);

    private static boolean isOurSpecCopy(byte[] bytes) {
        try {
            com.fasterxml.jackson.databind.JsonNode tree = SweepFiles.YAML.readTree(bytes);
            return tree != null && tree.path("name").isTextual() && tree.path("base").isObject();
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The overwrite rule of every command, for {@code --output}: a new or empty directory, or a sweep output of ours
     * (which this run continues: that is what a sweep output is for, so no {@code --overwrite} is needed) holding
     * nothing else. Never the spec's own folder or one holding it, the working directory or one holding it, or a
     * trial's dataset. A directory holding only a lease (a sweep that stopped before writing anything) is left to the
     * lease to decide.
     *
     * @throws OutputGuard.OutputRefusedException naming the directory and why; nothing was touched
     */
    static void checkOutput(SweepSpec spec, Path root, Configuration hadoop) {
        List<OutputGuard.Keep> keep = new ArrayList<>();
        Path specFile = specLocation(spec);
        if (specFile != null && specFile.getParent() != null) {
            keep.add(new OutputGuard.Keep("the folder of the --spec", specFile.getParent().toString()));
        }
        keep.add(new OutputGuard.Keep("the working directory", new java.io.File("").getAbsoluteFile().toURI().toString()));
        java.util.Set<String> data = new java.util.LinkedHashSet<>();
        for (Trial t : spec.trials()) data.add(t.config().data());
        for (String d : data) keep.add(new OutputGuard.Keep("the dataset " + d, d));
        FileSystem fs;
        try {
            fs = root.getFileSystem(hadoop);
        } catch (java.io.IOException e) {
            throw new OutputGuard.OutputRefusedException(root.toString(), "--output", "could not be checked (" + e.getMessage() + ")");
        }
        if (onlyALease(fs, root)) {
            OutputGuard.checkKeep(fs, root, "--output", keep);
        } else {
            OutputGuard.check(fs, root, "--output", OUTPUT_KIND, true, keep);
        }
    }

    /** True when {@code dir} holds nothing but a lease file (and its checksum). */
    private static boolean onlyALease(FileSystem fs, Path dir) {
        try {
            if (!fs.isDirectory(dir)) return false;
            org.apache.hadoop.fs.FileStatus[] children = fs.listStatus(dir);
            boolean lease = false;
            for (org.apache.hadoop.fs.FileStatus c : children) {
                String name = c.getPath().getName();
                if (name.equals(Lease.FILE) && c.isFile()) lease = true;
                else if (!name.equals("." + Lease.FILE + ".crc")) return false;
            }
            return lease;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The spec file, where the spec was read from one (null for text parsed without a location). */
    private static Path specLocation(SweepSpec spec) {
        try {
            Path p = new Path(spec.source());
            return p.toUri().getScheme() != null && p.isAbsolute() ? p : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** One trial, start to finish, resuming whatever an earlier invocation left. */
    static Outcome runTrial(SparkSession spark, Trial trial, Path root, Configuration hadoop, PrintStream sweepLog) {
        Path dir = new Path(new Path(root, TRIALS), trial.id());
        Path marker = new Path(dir, COMPLETE);
        PrintStream log = new PrintStream(new LinePrefixer("[trial " + trial.id() + "] ", sweepLog), true, StandardCharsets.UTF_8);
        String datasetSha;
        try {
            datasetSha = SweepFiles.manifestSha256(trial.config().data(), hadoop);
        } catch (RuntimeException e) {
            String message = e.getClass().getSimpleName() + ": " + e.getMessage();
            log.println("failed: " + message);
            log.close();
            try {
                SweepFiles.mkdirs(dir, hadoop);
                SweepFiles.writeAtomically(new Path(dir, ERROR), message + "\n", hadoop);
            } catch (RuntimeException ignored) {
                // still reported in the results table and the log
            }
            return new Outcome(trial, Status.FAILED, null, message);
        }
        if (SweepFiles.exists(marker, hadoop)) {
            Map<String, Object> row = ResultsTable.readRow(marker, hadoop);
            if (datasetSha.equals(row.get(ResultsTable.DATASET_SHA))) {
                log.printf("already complete (%s), skipped%n", trial.parameters());
                log.close();
                return new Outcome(trial, Status.SKIPPED, row, null);
            }
            log.printf("the dataset changed since this trial completed (manifest SHA-256 %s, now %s): running it again; "
                    + "the earlier results move to %s%n", row.get(ResultsTable.DATASET_SHA), datasetSha, supersede(dir, hadoop));
        } else if (trainedOnOtherData(new Path(dir, RUN), datasetSha, hadoop)) {
            log.printf("the dataset changed since this trial's training started: starting it again; the earlier run moves "
                    + "to %s%n", supersede(dir, hadoop));
        }
        String group = "fql-sweep-" + trial.id();
        spark.sparkContext().setJobGroup(group, "fql sweep trial " + trial.id() + " " + trial.parameters(), false);
        spark.sparkContext().setLocalProperty("spark.scheduler.pool", Thread.currentThread().getName());
        try {
            SweepFiles.mkdirs(dir, hadoop);
            Map<String, Object> trialJson = new LinkedHashMap<>();
            trialJson.put("trial_id", trial.id());
            trialJson.put("trial_index", trial.index());
            trialJson.put("parameters", trial.parameters());
            trialJson.put("config", trial.config());
            SweepFiles.writeAtomically(new Path(dir, TRIAL_JSON), SweepFiles.json(trialJson), hadoop);

            Path run = new Path(dir, RUN);
            Path eval = new Path(dir, EVAL);
            ExperimentConfig config = trial.config();
            long t0 = System.nanoTime();
            Map<String, Object> training = finishedTraining(run, config.train().totalSteps(), hadoop);
            if (training != null) {
                log.printf("training already reached step %s, not run again%n", training.get("final_step"));
            } else {
                boolean resume = SweepFiles.exists(new Path(run, RunDirectory.CONFIG), hadoop);
                if (!resume) {
                    SweepFiles.delete(run, hadoop);   // an attempt that stopped before writing its config left nothing to keep
                }
                log.printf("%s training %s%n", resume ? "resuming" : "starting", trial.parameters());
                TrainResult trained = TrainJob.run(spark, config.trainOptions(run.toString(), resume), log);
                training = ResultsTable.trainingSummary(trained);
            }
            double trainSeconds = (System.nanoTime() - t0) / 1e9;
            long e0 = System.nanoTime();
            EvalResult evaluated = EvaluateJob.run(spark, config.evalOptions(run.toString(), eval.toString()), log);
            double evalSeconds = (System.nanoTime() - e0) / 1e9;
            EvalSummary summary = evaluated.summary();

            Map<String, Object> row = ResultsTable.row(trial, training, summary, run.toString(), evaluated.output(), trainSeconds,
                    evalSeconds, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), datasetSha);
            if (summary.episodesFailed() > 0) {
                String message = summary.episodesFailed() + " of " + summary.episodes() + " evaluation episodes failed (see "
                        + evaluated.output() + "/summary.json); counted as unsuccessful, and the trial is not complete: the next "
                        + "run of this sweep evaluates it again";
                SweepFiles.writeAtomically(new Path(dir, ERROR), message + "\n", hadoop);
                log.println("incomplete: " + message);
                return new Outcome(trial, Status.INCOMPLETE, row, message);
            }
            SweepFiles.delete(new Path(dir, ERROR), hadoop);
            SweepFiles.writeAtomically(marker, SweepFiles.json(row), hadoop);
            log.printf(Locale.ROOT, "complete: success rate %s, mean return %s (train %.1f s, evaluate %.1f s)%n",
                    summary.successRate(), summary.meanReturn(), trainSeconds, evalSeconds);
            return new Outcome(trial, Status.COMPLETED, row, null);
        } catch (RuntimeException | Error e) {
            String message = e.getClass().getSimpleName() + ": " + e.getMessage();
            log.println("failed: " + message);
            try {
                java.io.StringWriter trace = new java.io.StringWriter();
                e.printStackTrace(new java.io.PrintWriter(trace));
                SweepFiles.writeAtomically(new Path(dir, ERROR), trace.toString(), hadoop);
            } catch (RuntimeException ignored) {
                // the error is still reported in the results table and the log
            }
            if (e instanceof VirtualMachineError vm) {
                throw vm;
            }
            return new Outcome(trial, Status.FAILED, null, message);
        } finally {
            spark.sparkContext().clearJobGroup();
            spark.sparkContext().setLocalProperty("spark.scheduler.pool", null);
            log.close();
        }
    }

    /** True when {@code run} holds a training run whose config records another dataset manifest. */
    static boolean trainedOnOtherData(Path run, String datasetSha, Configuration hadoop) {
        try {
            RunDirectory dir = RunDirectory.at(run.toString(), hadoop);
            return RunConfig.existsIn(dir) && !datasetSha.equals(RunConfig.read(dir).dataset().manifestSha256());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + run + "/" + RunDirectory.CONFIG + ": " + e.getMessage(), e);
        }
    }

    /**
     * Moves a trial's earlier run, evaluation and marker into {@code superseded-<time>/} inside the trial: results of
     * an older dataset are kept, not deleted, and no longer count.
     */
    static Path supersede(Path trialDir, Configuration hadoop) {
        Path aside = new Path(trialDir, "superseded-" + Instant.now().toString().replace(":", "").replace(".", ""));
        SweepFiles.mkdirs(aside, hadoop);
        for (String name : List.of(RUN, EVAL, COMPLETE, ERROR)) {
            SweepFiles.rename(new Path(trialDir, name), new Path(aside, name), hadoop);
        }
        return aside;
    }

    /** The training summary of a run that already reached {@code steps} (its result.json), or null. */
    static Map<String, Object> finishedTraining(Path run, long steps, Configuration hadoop) {
        Path result = new Path(run, TRAIN_RESULT);
        if (!SweepFiles.exists(result, hadoop)) {
            return null;
        }
        Map<String, Object> json = ResultsTable.readJson(result, hadoop);
        Object finalStep = json.get("final_step");
        if (!(finalStep instanceof Number n) || n.longValue() < steps) {
            return null;
        }
        return ResultsTable.trainingSummary(json);
    }

    /** The spec with its base inlined, as a map for sweep.yaml. */
    static Map<String, Object> specAsRun(SweepSpec spec) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", spec.name());
        m.put("base", spec.baseTree());
        if (!spec.variants().isEmpty()) m.put("variants", spec.variants());
        spec.overridesTree().fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue()));
        if (!spec.grid().isEmpty()) m.put("grid", spec.grid());
        if (spec.maxConcurrent() != null) m.put("max_concurrent", spec.maxConcurrent());
        return m;
    }

    private static ThreadFactory threads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "fql-sweep-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Prefixes each line written through it and hands whole lines to the shared log, so trials do not interleave mid-line. */
    static final class LinePrefixer extends OutputStream {
        private final String prefix;
        private final PrintStream target;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LinePrefixer(String prefix, PrintStream target) {
            this.prefix = prefix;
            this.target = target;
        }

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                emit();
            } else {
                line.write(b);
            }
        }

        /** Nothing: PrintStream flushes after every write, which would cut lines printed in pieces. */
        @Override
        public void flush() {
        }

        @Override
        public synchronized void close() {
            if (line.size() > 0) {
                emit();
            }
        }

        private void emit() {
            String text = line.toString(StandardCharsets.UTF_8);
            line.reset();
            synchronized (target) {
                target.println(prefix + text);
            }
        }
    }
}
