package org.fqlspark.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.env.DatasetKind;
import org.fqlspark.env.GenerateJob;
import org.fqlspark.io.OutputGuard;
import org.fqlspark.launch.CommandSessions;
import org.fqlspark.env.MazeDatasetGenerator;
import org.fqlspark.eval.EvalOptions;
import org.fqlspark.eval.EvalResult;
import org.fqlspark.eval.EvaluateJob;
import org.fqlspark.eval.Policy;
import org.fqlspark.train.ConfigOverrides;
import org.fqlspark.train.SettingOptions;
import org.fqlspark.train.TrainJob;
import org.fqlspark.train.TrainOptions;
import org.fqlspark.train.TrainResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The README's main job, end to end on local Spark: generate a point-maze stitch dataset, ingest it (the generator
 * writes through the ingest path), train FQL with two data-parallel workers, then evaluate the one-step policy and
 * the flow-BC policy it was distilled from on the same seeded episodes.
 *
 * <p>The defaults are sized for a few minutes on 2 cores, not for the paper: small networks, α 3, and a faster target
 * update and learning rate than the paper's 1M-step settings (τ 0.1 instead of 0.005, lr 1e-3 instead of 3e-4): the
 * target critic's time constant (1/τ steps per Bellman backup) otherwise needs ~10^5 steps to carry the goal's value
 * across the task's few hundred steps, and a few thousand are all a quick start can afford. The critic is wider than
 * the policy (3×128 against 3×64): the start and goal cells touch at one wall corner, and a 3×64 critic too often
 * valued pushing into that corner above the ~390-step route round the wall (BENCHMARKS.md, "Learning"). Every choice
 * is a flag.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true, modelTransformer = QuickstartCommand.HyperParameters.class,
        description = {"Generate a point-maze dataset, ingest it, train FQL with 2 workers on local Spark, evaluate FQL and "
                + "its flow-BC policy, and print where the results and plots are."})
public final class QuickstartCommand implements Callable<Integer> {

    /** The hyper-parameters the quick start sets over the default preset, with its defaults (see the class doc). */
    static final List<SettingOptions.Flag> HYPER_PARAMETERS = List.of(
            SettingOptions.Flag.of(FqlConfig.ACTOR_HIDDEN_DIMS).named("--hidden").withDefault("64,64,64"),
            SettingOptions.Flag.of(FqlConfig.VALUE_HIDDEN_DIMS).named("--value-hidden").withDefault("128,128,128"),
            SettingOptions.Flag.of(FqlConfig.ALPHA).withDefault("3"),
            SettingOptions.Flag.of(FqlConfig.LR).withDefault("1e-3"),
            SettingOptions.Flag.of(FqlConfig.TAU).withDefault("0.1"));

    /** Adds {@link #HYPER_PARAMETERS} to the command's options (picocli calls it when it builds the command). */
    public static final class HyperParameters implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            SettingOptions.add(spec, HYPER_PARAMETERS, null);
            return spec;
        }
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--output", defaultValue = "quickstart-output", paramLabel = "DIR",
            description = "where everything goes (default: ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--overwrite", description = "replace an existing --output directory")
    boolean overwrite;

    @Option(names = "--env", defaultValue = "pointmaze-medium-task3", paramLabel = "ID",
            description = "built-in point-maze task the data are labelled for and evaluated on (default: ${DEFAULT-VALUE})")
    String env;

    @Option(names = "--dataset-episodes", defaultValue = "1000", paramLabel = "N",
            description = "stitch episodes of 200 steps to generate (default: ${DEFAULT-VALUE})")
    int datasetEpisodes;

    @Option(names = "--workers", defaultValue = "2", paramLabel = "W", description = "data-parallel workers (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--steps", defaultValue = "12000", paramLabel = "N", description = "gradient steps (default: ${DEFAULT-VALUE})")
    long steps;

    @Option(names = "--averaging-frequency", defaultValue = "100", paramLabel = "K",
            description = "local steps between parameter averages (default: ${DEFAULT-VALUE})")
    int averagingFrequency;

    @Option(names = "--eval-every", defaultValue = "1000", paramLabel = "N",
            description = "while training, evaluate the averaged model on the executors every N steps and at the end, for "
                    + "learning_curves.png's success rate against steps and wall time; 0 = never (default: ${DEFAULT-VALUE})")
    long evalEvery;

    @Option(names = "--eval-episodes", defaultValue = "10", paramLabel = "E",
            description = "episodes per evaluation while training (default: ${DEFAULT-VALUE})")
    int evalEpisodes;

    @Option(names = "--episodes", defaultValue = "50", paramLabel = "E", description = "evaluation episodes per policy (default: ${DEFAULT-VALUE})")
    int episodes;

    @Option(names = "--seed", defaultValue = "0", description = "seed of data, training and evaluation (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws IOException {
        if (workers < 1) throw new IllegalArgumentException("--workers must be at least 1, was " + workers);
        Path out = output.toAbsolutePath().normalize();
        // every flag is checked before anything is written, so a bad one leaves no partial output behind
        datasetConfig();
        trainOptions(out);
        evalOptions(out);
        prepareOutput(out, overwrite);
        PrintStream log = System.out;
        SparkSession spark = CommandSessions.builder("fql quickstart").master("local[" + workers + "]")
                .setDefault("spark.ui.enabled", "false").setDefault("spark.sql.shuffle.partitions", "4").getOrCreate();
        try {
            Result r = run(spark, out, log);
            r.print(log);
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** What the quick start produced. */
    record Result(Path root, String dataset, String datasetPng, TrainResult train, EvalResult fql, EvalResult flowBc) {
        void print(PrintStream log) {
            log.println();
            log.println("== quickstart results (" + root + ")");
            log.printf(Locale.ROOT, "  FQL one-step policy : success %5.1f%%  mean return %8.1f  (%d episodes)%n",
                    100 * fql.successRate(), fql.meanReturn(), fql.episodes().size());
            log.printf(Locale.ROOT, "  flow-BC policy      : success %5.1f%%  mean return %8.1f  (%d episodes)%n",
                    100 * flowBc.successRate(), flowBc.meanReturn(), flowBc.episodes().size());
            log.println();
            log.println("  dataset             : " + dataset + "  (manifest.json, Parquet shards)");
            log.println("  dataset picture     : " + datasetPng);
            log.println("  training run        : " + train.runDir() + "  (config.json, metrics.csv, metrics.parquet, checkpoints/)");
            log.println("  learning curves     : " + train.runDir() + "/learning_curves.png");
            log.println("  FQL evaluation      : " + fql.output() + "  (summary.json, episodes.parquet, trajectories.png)");
            log.println("  flow-BC evaluation  : " + flowBc.output() + "  (summary.json, episodes.parquet, trajectories.png)");
            log.println("  summary             : " + root.resolve("quickstart.json"));
        }
    }

    Result run(SparkSession spark, Path out, PrintStream log) throws IOException {
        String data = out.resolve("data").toString();
        String png = out.resolve("data-trajectories.png").toString();
        String runDir = out.resolve("run").toString();
        String kind = "stitch";

        log.println("[1/4] generating " + datasetEpisodes + " " + kind + " episodes of " + env + " and ingesting them into " + data);
        GenerateJob.run(spark, new GenerateJob.Options(datasetConfig(), data, 0, false, png, 100), log);

        log.println("[2/4] training FQL: " + workers + " workers, " + steps + " steps, averaging every " + averagingFrequency
                + " steps, " + SettingOptions.describe(spec, HYPER_PARAMETERS)
                + (evalEvery > 0 ? ", evaluating " + evalEpisodes + " episodes every " + evalEvery + " steps" : ""));
        TrainResult trained = TrainJob.run(spark, trainOptions(out), log);

        log.println("[3/4] evaluating the FQL one-step policy on " + episodes + " episodes");
        EvalOptions eval = evalOptions(out);
        EvalResult fql = EvaluateJob.run(spark, eval, log);
        log.println("[4/4] evaluating the flow-BC policy (the BC flow the one-step policy was distilled from) on the same episodes");
        EvalResult flowBc = EvaluateJob.run(spark, eval.withOutput(out.resolve("eval-flow-bc").toString()).withPolicy(Policy.FLOW_BC), log);

        Result result = new Result(out, data, png, trained, fql, flowBc);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("format", FORMAT);
        summary.put("status", "complete");
        summary.put("env", env);
        summary.put("dataset", data);
        summary.put("run_dir", runDir);
        summary.put("steps", trained.finalStep());
        summary.put("workers", workers);
        summary.put("fql_success_rate", fql.successRate());
        summary.put("fql_mean_return", fql.meanReturn());
        summary.put("flow_bc_success_rate", flowBc.successRate());
        summary.put("flow_bc_mean_return", flowBc.meanReturn());
        summary.put("train_seconds", trained.trainSeconds());
        writeSummary(out, summary);
        return result;
    }

    private MazeDatasetGenerator.Config datasetConfig() {
        return new MazeDatasetGenerator.Config(env, DatasetKind.STITCH, datasetEpisodes, 200, MazeDatasetGenerator.OGBENCH_POINT_NOISE, seed);
    }

    private TrainOptions trainOptions(Path out) {
        ConfigOverrides overrides = SettingOptions.overrides(spec, HYPER_PARAMETERS);
        return TrainOptions.builder(out.resolve("data").toString(), out.resolve("run").toString()).workers(workers).steps(steps)
                .averagingFrequency(averagingFrequency).overrides(overrides).seed(seed).checkpointEvery(20)
                // periodic evaluation on the executors: its episodes have their own seeds (seed, episode), so the
                // trained parameters are the same with or without it (tools/checkpoint-state-digest.py compares them)
                .evalEvery(evalEvery).evalEpisodes(evalEpisodes).evalEnv(env)
                // a bar only on a terminal: written into a file or a pipe it is an empty frame; there the trainer prints a line every 10 s
                .progressBar(System.console() != null).build();
    }

    private EvalOptions evalOptions(Path out) {
        return EvalOptions.of(out.resolve("run").toString(), env, episodes, out.resolve("eval-fql").toString()).withSeed(seed);
    }

    /** What the quick start writes into its --output, and nothing else; {@code quickstart.json} marks it. */
    static final String SUMMARY = "quickstart.json";
    static final List<String> ENTRIES = List.of(SUMMARY, "data", "data-trajectories.png", "run", "eval-fql", "eval-flow-bc");
    static final String FORMAT = "fql-quickstart";
    static final OutputGuard.Kind OUTPUT_KIND = new OutputGuard.Kind("quick start", SUMMARY, ENTRIES::contains, bytes -> {
        try {
            return FORMAT.equals(new ObjectMapper().readTree(bytes).path("format").asText());
        } catch (IOException e) {
            return false;
        }
    });

    /**
     * Checks the output under {@link OutputGuard}'s rule (never the working directory or one that holds it), deletes
     * only the entries an earlier quick start wrote, and marks the directory as a quick start's before anything else.
     */
    static void prepareOutput(Path out, boolean overwrite) throws IOException {
        org.apache.hadoop.fs.FileSystem local = org.apache.hadoop.fs.FileSystem.getLocal(new org.apache.hadoop.conf.Configuration());
        OutputGuard.check(local, new org.apache.hadoop.fs.Path(out.toUri()), "--output", OUTPUT_KIND, overwrite,
                List.of(new OutputGuard.Keep("the working directory", Path.of("").toAbsolutePath().toUri().toString())));
        for (String entry : ENTRIES) {
            Path p = out.resolve(entry);
            if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) deleteRecursively(p);
        }
        Files.createDirectories(out);
        Map<String, Object> marker = new LinkedHashMap<>();
        marker.put("format", FORMAT);
        marker.put("status", "running");
        writeSummary(out, marker);
    }

    private static void writeSummary(Path out, Map<String, Object> summary) throws IOException {
        Path tmp = out.resolve("." + SUMMARY + ".tmp");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), summary);
        Files.move(tmp, out.resolve(SUMMARY), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteRecursively(Path p) throws IOException {
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path x : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}
