package org.fqlspark.eval;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.fqlspark.io.HadoopFiles;
import org.fqlspark.io.OutputGuard;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.env.Environment;
import org.fqlspark.env.MazeRenderer;
import org.fqlspark.env.PointMaze;

/**
 * Evaluates a checkpoint's one-step policy (or, with {@link Policy#FLOW_BC}, its BC flow policy) over many episodes
 * spread across Spark executors (docs/algorithm.md §7).
 *
 * <p>Episode indices 0..E−1 are parallelized into P partitions; each task restores the agent once from the broadcast
 * checkpoint bytes and runs its episodes. Episode i resets the environment with a seed and draws its action noise
 * from a stream that are both functions of (seed, i) only ({@link EpisodeSeeds}), so the rows do not depend on P, on
 * executor placement or on task retries.
 *
 * <p>Output directory, written to a temporary sibling and renamed into place when complete:
 * <ul>
 * <li>{@code episodes.parquet/}: one row per episode: {@code episode} int, {@code seed} bigint, {@code return} double,
 * {@code length} int, {@code success} boolean, {@code failed} boolean, {@code error} string (null unless failed);</li>
 * <li>{@code summary.json}: see {@link EvalSummary};</li>
 * <li>{@code trajectories.png}: built-in point-maze only, the (x, y) paths of the first
 * {@value #MAX_DRAWN_TRAJECTORIES} episodes over the maze (green: success, red: not).</li>
 * </ul>
 *
 * <p>Run it as {@code ./fql evaluate --checkpoint RUN_DIR --env pointmaze-medium --episodes 50 --output OUT}, or on a
 * cluster:
 * <pre>
 * spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar evaluate \
 *     --checkpoint hdfs:///runs/medium-stitch --env pointmaze-medium --episodes 50 --output hdfs:///evals/medium
 * </pre>
 */
public final class EvaluateJob {

    public static final String EPISODES_PARQUET = "episodes.parquet";
    public static final String SUMMARY_JSON = "summary.json";
    public static final String TRAJECTORIES_PNG = "trajectories.png";
    public static final int MAX_DRAWN_TRAJECTORIES = 100;

    /** The Parquet schema of {@value #EPISODES_PARQUET}. */
    public static final StructType EPISODE_SCHEMA = new StructType(new StructField[] {
            DataTypes.createStructField("episode", DataTypes.IntegerType, false),
            DataTypes.createStructField("seed", DataTypes.LongType, false),
            DataTypes.createStructField("return", DataTypes.DoubleType, false),
            DataTypes.createStructField("length", DataTypes.IntegerType, false),
            DataTypes.createStructField("success", DataTypes.BooleanType, false),
            DataTypes.createStructField("failed", DataTypes.BooleanType, false),
            DataTypes.createStructField("error", DataTypes.StringType, true)});

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private EvaluateJob() {
    }

    /** Runs the evaluation with progress lines on stderr. */
    public static EvalResult run(SparkSession spark, EvalOptions options) {
        return run(spark, options, System.err);
    }

    /**
     * Runs the evaluation.
     *
     * @param progress where progress lines go ("evaluate: 12/50 episodes done"), or null for none
     * @throws EvalInputException for bad input (the message names the flag): a missing or corrupt checkpoint, an unknown
     *                            environment, an external environment that does not start, dimensions that do not match,
     *                            an output directory that exists while {@code overwrite} is off
     * @throws UncheckedIOException when the output cannot be written
     */
    public static EvalResult run(SparkSession spark, EvalOptions options, PrintStream progress) {
        long started = System.nanoTime();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        Output output = Output.prepare(options.output(), options.overwrite(), options.checkpoint(), hadoop);

        CheckpointSource.Loaded loaded = CheckpointSource.load(options.checkpoint(), hadoop);
        Checkpoint checkpoint = loaded.checkpoint();
        EnvSpec spec = EnvSpec.parse(options.env());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        EnvDescription env = describe(spec, options, jsc);
        if (env.observationDim() != checkpoint.obsDim() || env.actionDim() != checkpoint.actionDim()) {
            throw new EvalInputException("--checkpoint " + loaded.path() + " is for observation dim " + checkpoint.obsDim()
                    + " and action dim " + checkpoint.actionDim() + ", but --env " + options.env() + " has observation dim "
                    + env.observationDim() + " and action dim " + env.actionDim());
        }
        int stepLimit = stepLimit(env, options);
        int partitions = options.partitions() > 0 ? options.partitions() : jsc.defaultParallelism();
        partitions = Math.max(1, Math.min(partitions, options.episodes()));

        if (progress != null) {
            for (String skipped : loaded.skipped()) progress.println("evaluate: skipping unreadable checkpoint: " + skipped);
            progress.printf("evaluate: %d episodes of %s (limit %d steps) with %s (step %d) over %d partitions%n",
                    options.episodes(), env.id(), stepLimit, loaded.path(), checkpoint.state().step(), partitions);
        }
        List<EpisodeRollouts.Rollout> rollouts = rollOut(spark, jsc, options, loaded, spec, env, stepLimit, partitions, progress, started);
        List<EpisodeResult> episodes = rollouts.stream().map(EpisodeRollouts.Rollout::result).toList();

        EpisodeStatistics statistics = EpisodeStatistics.of(episodes);
        ReferenceScores.Normalization normalization = ReferenceScores.forEnvironment(env.id()).orElse(null);
        Map<String, String> versions = new LinkedHashMap<>();
        versions.put("java", System.getProperty("java.version"));
        versions.put("spark", spark.version());
        versions.put("checkpoint_seed", Long.toString(checkpoint.seed()));
        checkpoint.provenance().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> versions.put("checkpoint_" + e.getKey(), e.getValue()));
        EvalSummary summary = new EvalSummary(options.env(), env.id(), loaded.path(), checkpoint.state().step(), options.episodes(),
                statistics.completed(), statistics.failed(),
                EvalSummary.finiteOrNull(statistics.successRate()), statistics.successRateConfidenceInterval(),
                EvalSummary.finiteOrNull(statistics.meanReturn()), EvalSummary.finiteOrNull(statistics.returnStd()),
                statistics.returnConfidenceInterval(), EvalSummary.finiteOrNull(statistics.meanLength()), statistics.totalLength(),
                normalization == null ? null : normalization.score(statistics), normalization,
                options.seed(), partitions, stepLimit, options.policy(), (System.nanoTime() - started) / 1e9,
                episodes.stream().filter(EpisodeResult::failed).toList(), versions);

        output.write(dir -> {
            writeParquet(spark, episodes, new Path(dir, EPISODES_PARQUET));
            writeJson(dir.getFileSystem(hadoop), new Path(dir, SUMMARY_JSON), summary.toJson());
            if (env.pointMaze()) writePicture(hadoop, new Path(dir, TRAJECTORIES_PNG), env.id(), rollouts);
        });
        return new EvalResult(output.target().toString(), summary, episodes);
    }

    // ------------------------------------------------------------------ environment

    /** What the driver knows about the environment before the rollouts. */
    record EnvDescription(String id, int observationDim, int actionDim, int maxEpisodeSteps, boolean pointMaze)
            implements Serializable {
    }

    /**
     * Built-in ids are checked on the driver. An external environment is started once on an executor (where the
     * rollouts will run; its Python and MuJoCo need not exist on the driver), its handshake read, and closed.
     */
    static EnvDescription describe(EnvSpec spec, EvalOptions options, JavaSparkContext jsc) {
        if (spec instanceof EnvSpec.BuiltIn builtIn) {
            Environment environment;
            try {
                environment = builtIn.create(null, null);
            } catch (IllegalArgumentException e) {
                throw new EvalInputException("--env: " + e.getMessage() + "; or bridge:COMMAND for an external environment", e);
            }
            return new EnvDescription(environment.id(), environment.observationDim(), environment.actionDim(),
                    environment.maxEpisodeSteps(), environment instanceof PointMaze);
        }
        Duration startup = options.bridgeStartupTimeout();
        Duration request = options.bridgeRequestTimeout();
        List<ProbeResult> probe = jsc.parallelize(List.of(0), 1).map(ignored -> probe(spec, startup, request)).collect();
        ProbeResult result = probe.get(0);
        if (result.error() != null) {
            throw new EvalInputException("--env " + options.env() + ": the external environment did not start: " + result.error());
        }
        return result.description();
    }

    record ProbeResult(EnvDescription description, String error) implements Serializable {
    }

    static ProbeResult probe(EnvSpec spec, Duration startup, Duration request) {
        try (BridgeEnvironment bridge = ((EnvSpec.Bridge) spec).create(startup, request)) {
            return new ProbeResult(new EnvDescription(bridge.id(), bridge.observationDim(), bridge.actionDim(),
                    bridge.maxEpisodeSteps(), false), null);
        } catch (RuntimeException e) {
            return new ProbeResult(null, e.getMessage());
        }
    }

    static int stepLimit(EnvDescription env, EvalOptions options) {
        int limit = env.maxEpisodeSteps();
        if (options.maxEpisodeSteps() > 0) limit = limit > 0 ? Math.min(limit, options.maxEpisodeSteps()) : options.maxEpisodeSteps();
        if (limit <= 0) {
            throw new EvalInputException("--env " + options.env() + ": the environment reports no time limit (max_episode_steps);"
                    + " pass --max-episode-steps");
        }
        return limit;
    }

    // ------------------------------------------------------------------ rollouts

    private static List<EpisodeRollouts.Rollout> rollOut(SparkSession spark, JavaSparkContext jsc, EvalOptions options,
                                                         CheckpointSource.Loaded loaded, EnvSpec spec, EnvDescription env,
                                                         int stepLimit, int partitions, PrintStream progress, long started) {
        LongAccumulator done = spark.sparkContext().longAccumulator("fql evaluate: episodes done");
        LongAccumulator failed = spark.sparkContext().longAccumulator("fql evaluate: episodes failed");
        Broadcast<byte[]> bytes = jsc.broadcast(loaded.bytes());
        EpisodeRollouts work = new EpisodeRollouts(bytes, loaded.path(), spec, options.seed(), stepLimit,
                env.pointMaze() ? MAX_DRAWN_TRAJECTORIES : 0, options.bridgeStartupTimeout(), options.bridgeRequestTimeout(),
                done, failed, options.policy(), options.backend());
        ProgressListener listener = progress == null ? null : new ProgressListener(done, failed, options.episodes(), progress, started);
        if (listener != null) spark.sparkContext().addSparkListener(listener);
        String previousDescription = spark.sparkContext().getLocalProperty("spark.job.description");
        spark.sparkContext().setJobDescription("fql evaluate: " + options.episodes() + " episodes of " + env.id());
        try {
            List<Integer> indices = IntStream.range(0, options.episodes()).boxed().toList();
            List<EpisodeRollouts.Rollout> rollouts = new ArrayList<>(jsc.parallelize(indices, partitions).mapPartitions(work).collect());
            rollouts.sort(Comparator.comparingInt(r -> r.result().episode()));
            return rollouts;
        } catch (RuntimeException e) {
            throw rootCauseIfInput(e);
        } finally {
            spark.sparkContext().setJobDescription(previousDescription);
            if (listener != null) spark.sparkContext().removeSparkListener(listener);
            bytes.destroy();
        }
    }

    /** A bad-input error thrown inside a task arrives wrapped in a SparkException; surface it as itself. */
    private static RuntimeException rootCauseIfInput(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EvalInputException input) return new EvalInputException(input.getMessage(), e);
        }
        return e;
    }

    /** Prints "evaluate: N/E episodes done" whenever a finished task moved the count. */
    private static final class ProgressListener extends SparkListener {
        private final LongAccumulator done;
        private final LongAccumulator failed;
        private final int total;
        private final PrintStream out;
        private final long started;
        private long lastPrinted = -1;

        ProgressListener(LongAccumulator done, LongAccumulator failed, int total, PrintStream out, long started) {
            this.done = done;
            this.failed = failed;
            this.total = total;
            this.out = out;
            this.started = started;
        }

        @Override
        public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
            long now = done.value();
            if (now == lastPrinted || now == 0) return;
            lastPrinted = now;
            long failures = failed.value();
            out.printf("evaluate: %d/%d episodes done%s, %.1f s%n", now, total, failures > 0 ? " (" + failures + " failed)" : "",
                    (System.nanoTime() - started) / 1e9);
        }
    }

    // ------------------------------------------------------------------ outputs

    private static void writeParquet(SparkSession spark, List<EpisodeResult> episodes, Path path) {
        List<Row> rows = new ArrayList<>(episodes.size());
        for (EpisodeResult e : episodes) {
            rows.add(RowFactory.create(e.episode(), e.seed(), e.episodeReturn(), e.length(), e.success(), e.failed(), e.error()));
        }
        spark.createDataFrame(rows, EPISODE_SCHEMA).coalesce(1).write().mode(SaveMode.ErrorIfExists).parquet(path.toString());
    }

    private static void writeJson(FileSystem fs, Path path, Object json) throws IOException {
        try (OutputStream out = fs.create(path, false)) {
            JSON.writeValue(out, json);
        }
    }

    private static void writePicture(Configuration hadoop, Path path, String envId, List<EpisodeRollouts.Rollout> rollouts)
            throws IOException {
        PointMaze maze = org.fqlspark.env.EnvironmentRegistry.pointMaze(envId);
        List<float[][]> paths = new ArrayList<>();
        List<Boolean> successes = new ArrayList<>();
        for (EpisodeRollouts.Rollout rollout : rollouts) {
            if (rollout.path() == null) continue;
            float[] xy = rollout.path();
            float[][] points = new float[xy.length / 2][];
            for (int i = 0; i < points.length; i++) points[i] = new float[] {xy[2 * i], xy[2 * i + 1]};
            paths.add(points);
            successes.add(rollout.result().success());
        }
        boolean[] flags = new boolean[successes.size()];
        for (int i = 0; i < flags.length; i++) flags[i] = successes.get(i);
        BufferedImage image = MazeRenderer.renderImage(maze, paths, flags);
        try (OutputStream out = path.getFileSystem(hadoop).create(path, false)) {
            if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer available in this JVM");
        }
    }

    /** The human-readable result: counts, success rate, mean return with its interval, failures, where the files are. */
    static void report(PrintStream out, EvalSummary s, String target) {
        out.printf("evaluate: %d episodes, %d completed, %d failed%n", s.episodes(), s.episodesCompleted(), s.episodesFailed());
        if (s.successRate() != null) {
            double[] ci = s.returnCi95();
            out.printf("evaluate: success rate %.1f%%, mean return %.3f%s, mean length %.1f%s%n", 100 * s.successRate(), s.meanReturn(),
                    ci == null ? "" : String.format(" (95%% CI %.3f .. %.3f)", ci[0], ci[1]), s.meanLength(),
                    s.normalizedScore() == null ? "" : String.format(", normalized score %.1f", s.normalizedScore()));
        }
        for (EpisodeResult f : s.failures().subList(0, Math.min(5, s.failures().size()))) {
            out.printf("evaluate: episode %d failed: %s%n", f.episode(), f.error().lines().findFirst().orElse(""));
        }
        if (s.failures().size() > 5) out.printf("evaluate: ... and %d more failures, see %s%n", s.failures().size() - 5, SUMMARY_JSON);
        out.printf("evaluate: results in %s%n", target);
    }

    /** An evaluation directory as {@link OutputGuard} recognises it: our summary, episodes and picture. */
    static final OutputGuard.Kind OUTPUT_KIND = new OutputGuard.Kind("evaluation", SUMMARY_JSON,
            name -> name.equals(EPISODES_PARQUET) || name.equals(TRAJECTORIES_PNG), EvaluateJob::isOurSummary);

    private static boolean isOurSummary(byte[] bytes) {
        try {
            return EvalSummary.FORMAT.equals(new com.fasterxml.jackson.databind.ObjectMapper().readTree(bytes).path("format").asText());
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The output directory: everything is written to a hidden sibling and published at the end with summary.json
     * last ({@link HadoopFiles#publishDirectory}), replacing an old output only under {@link OutputGuard}'s rule.
     */
    static final class Output {
        interface Writer {
            void write(Path directory) throws IOException;
        }

        private final FileSystem fs;
        private final Path target;
        private final boolean overwrite;
        private final List<OutputGuard.Keep> keep;

        private Output(FileSystem fs, Path target, boolean overwrite, List<OutputGuard.Keep> keep) {
            this.fs = fs;
            this.target = target;
            this.overwrite = overwrite;
            this.keep = keep;
        }

        static Output prepare(String location, boolean overwrite, String checkpoint, Configuration hadoop) {
            try {
                Path path = new Path(location);
                FileSystem fs = path.getFileSystem(hadoop);
                Path target = fs.makeQualified(path);
                Output output = new Output(fs, target, overwrite,
                        List.of(new OutputGuard.Keep("the --checkpoint (a checkpoint or run directory)", checkpoint)));
                output.refuseExisting();
                return output;
            } catch (IOException e) {
                throw new UncheckedIOException("--output " + location + ": " + e.getMessage(), e);
            }
        }

        Path target() {
            return target;
        }

        private void refuseExisting() {
            try {
                OutputGuard.check(fs, target, "--output", OUTPUT_KIND, overwrite, keep);
            } catch (OutputGuard.OutputRefusedException e) {
                throw new EvalInputException(e.getMessage(), e);
            }
        }

        void write(Writer writer) {
            Path temporary = HadoopFiles.hiddenSibling(target, "tmp");
            try {
                try {
                    fs.mkdirs(target.getParent());
                    writer.write(temporary);
                    refuseExisting();
                    HadoopFiles.publishDirectory(fs, temporary, target, SUMMARY_JSON, OUTPUT_KIND.ownEntry());
                } finally {
                    if (fs.exists(temporary)) fs.delete(temporary, true);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("--output " + target + ": " + e.getMessage(), e);
            }
        }
    }
}
