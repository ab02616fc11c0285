package org.fqlspark.env;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.data.DatasetException;
import org.fqlspark.ingest.ParsingConverter;
import org.fqlspark.io.WriterOutputStream;
import org.fqlspark.launch.CommandSessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code generate}: a point-maze dataset made the way OGBench made its navigate and stitch datasets, labelled for
 * one task, written as a Parquet dataset through the ingest. Registered as a sub-command by the {@code fql} CLI;
 * also runnable on its own or with {@code spark-submit --class org.fqlspark.env.GenerateCommand <jar> --env …}.
 *
 * <p>Exit codes: 0 done; 2 bad usage or an output that exists (nothing written); 1 anything else.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate a point-maze dataset (OGBench navigate/stitch recipe, labelled for one task) and write "
                + "it as Parquet shards plus manifest.json.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "2:bad usage, or the output exists (nothing written)", "1:other failure"})
public final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--env", required = true, paramLabel = "ID",
            description = "Environment and task the rewards are labelled for: pointmaze-medium|large|giant, "
                    + "optionally with -task1..-task5 (default task1).")
    String env;

    @Option(names = "--kind", required = true, paramLabel = "navigate|stitch", converter = KindConverter.class,
            description = "navigate: long episodes to random goals; stitch: short episodes to goals 4 cells away.")
    DatasetKind kind;

    @Option(names = "--episodes", paramLabel = "N",
            description = "Number of episodes (default: OGBench's, 1M transitions: navigate 1000, giant 500; stitch 5000).")
    Integer episodes;

    @Option(names = "--episode-length", paramLabel = "STEPS",
            description = "Transitions per episode (default: OGBench's: navigate 1000, giant 2000; stitch 200).")
    Integer episodeLength;

    @Option(names = "--noise", paramLabel = "SIGMA", defaultValue = "0.5",
            description = "Standard deviation of the Gaussian noise on the expert's actions (default: ${DEFAULT-VALUE}, OGBench's).")
    double noise;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--output", required = true, paramLabel = "PATH",
            description = "Dataset directory to create (file://, hdfs://, s3a://, or a plain path).")
    String output;

    @Option(names = "--shards", paramLabel = "N", defaultValue = "0",
            description = "Number of Parquet files (default: chosen by the ingest from the size).")
    int shards;

    @Option(names = "--overwrite", description = "Replace an existing dataset and PNG (default: refuse).")
    boolean overwrite;

    @Option(names = "--png", paramLabel = "PATH", arity = "0..1", fallbackValue = "",
            description = "Also draw episodes to a PNG: at PATH, or without PATH beside the output as <output>-trajectories.png.")
    String png;

    @Option(names = "--png-episodes", paramLabel = "N",
            description = "Episodes drawn in the PNG, the first N (default: navigate 10, stitch 100).")
    Integer pngEpisodes;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master (default: the configured one, else local[*] bound to 127.0.0.1).")
    String master;

    public static void main(String[] args) {
        org.fqlspark.launch.ProcessExit.finish(new CommandLine(new GenerateCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        GenerateJob.Options options;
        try {
            options = options();
        } catch (IllegalArgumentException e) {
            err.println("generate: " + e.getMessage());
            err.flush();
            return DatasetException.EXIT_CODE;
        }
        boolean ours = CommandSessions.noneRunning();
        SparkSession spark = CommandSessions.builder("fql-generate").master(master).getOrCreate();
        PrintStream log = WriterOutputStream.printStream(spec.commandLine().getOut());
        try {
            GenerateJob.run(spark, options, log);
            return 0;
        } catch (DatasetException e) {
            log.flush();
            err.println("generate failed: " + e.getMessage());
            err.flush();
            return DatasetException.EXIT_CODE;
        } finally {
            log.flush();
            if (ours) spark.stop();
        }
    }

    /** The flags as a validated job description; messages name the flag at fault. */
    GenerateJob.Options options() {
        PointMaze maze;
        try {
            maze = EnvironmentRegistry.pointMaze(env);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--env: " + e.getMessage(), e);
        }
        MazeDatasetGenerator.Config defaults = MazeDatasetGenerator.Config.ogbench(env, kind, seed);
        int episodeCount = episodes == null ? defaults.episodes() : episodes;
        int length = episodeLength == null ? defaults.episodeLength() : episodeLength;
        if (episodeCount <= 0) throw new IllegalArgumentException("--episodes: expected a positive count, got " + episodeCount);
        if (length <= 0) throw new IllegalArgumentException("--episode-length: expected a positive count, got " + length);
        if (!(noise >= 0) || Double.isInfinite(noise)) {
            throw new IllegalArgumentException("--noise: expected a finite standard deviation ≥ 0, got " + noise);
        }
        MazeDatasetGenerator.Config config;
        try {
            config = new MazeDatasetGenerator.Config(maze.id(), kind, episodeCount, length, noise, seed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--episodes × --episode-length: " + e.getMessage(), e);
        }
        String pngPath = png == null ? null : png.isEmpty() ? GenerateJob.Options.pngBeside(output) : png;
        int drawn = pngEpisodes == null ? GenerateJob.Options.defaultPngEpisodes(kind) : pngEpisodes;
        return new GenerateJob.Options(config, output, shards, overwrite, pngPath, drawn);
    }

    static final class KindConverter extends ParsingConverter<DatasetKind> {
        KindConverter() {
            super(DatasetKind::parse);
        }
    }
}
