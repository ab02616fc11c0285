package org.fqlspark.env;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.fqlspark.io.HadoopFiles;
import org.fqlspark.io.OutputGuard;
import org.fqlspark.io.PngFiles;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.data.DatasetException;
import org.fqlspark.data.SourceInfo;
import org.fqlspark.data.TransitionData;
import org.fqlspark.ingest.IngestJob;
import org.fqlspark.ingest.IngestOptions;
import org.fqlspark.ingest.IngestResult;

/**
 * Generates a point-maze dataset ({@link MazeDatasetGenerator}) and writes it through the ingest's atomic Parquet
 * path ({@link IngestJob#write}), optionally with a PNG of some of its episodes. The {@code generate} command and the
 * quick start both call {@link #run}.
 */
public final class GenerateJob {

    /** Navigate episodes are long, so a handful already cover the maze; stitch episodes are short. */
    static final int DEFAULT_PNG_EPISODES_NAVIGATE = 10;
    static final int DEFAULT_PNG_EPISODES_STITCH = 100;

    /**
     * @param data        what to generate
     * @param output      dataset directory to create, any Hadoop URI or plain path
     * @param shards      Parquet files; 0 lets the ingest choose
     * @param overwrite   replace an existing dataset (and PNG)
     * @param png         where to write the trajectory PNG, or null for none; any Hadoop URI or plain path
     * @param pngEpisodes how many episodes (the first ones) the PNG shows
     */
    public record Options(MazeDatasetGenerator.Config data, String output, int shards, boolean overwrite, String png, int pngEpisodes) {

        public Options {
            Objects.requireNonNull(data, "data");
            if (output == null || output.isBlank()) throw new IllegalArgumentException("--output: a dataset directory is required");
            if (shards < 0) throw new IllegalArgumentException("--shards: expected a count ≥ 0 (0 = automatic), got " + shards);
            if (png != null && png.isBlank()) throw new IllegalArgumentException("--png: the path is blank");
            if (pngEpisodes <= 0) throw new IllegalArgumentException("--png-episodes: expected a positive count, got " + pngEpisodes);
        }

        /** The default PNG location: {@code <output>-trajectories.png} beside the dataset directory. */
        public static String pngBeside(String output) {
            String trimmed = output.endsWith("/") ? output.substring(0, output.length() - 1) : output;
            return trimmed + "-trajectories.png";
        }

        public static int defaultPngEpisodes(DatasetKind kind) {
            return kind == DatasetKind.NAVIGATE ? DEFAULT_PNG_EPISODES_NAVIGATE : DEFAULT_PNG_EPISODES_STITCH;
        }
    }

    private GenerateJob() {
    }

    /**
     * Generates, writes the dataset, then the PNG (after the dataset is in place, so a failed write leaves neither).
     *
     * @throws DatasetException if the output or PNG already exists without {@code overwrite}, or cannot be written
     */
    public static IngestResult run(SparkSession spark, Options options, PrintStream log) {
        MazeDatasetGenerator.Config config = options.data();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        if (options.png() != null) refuseExistingPng(options.png(), options.output(), options.overwrite(), hadoop);

        long start = System.nanoTime();
        TransitionData data = MazeDatasetGenerator.generate(config);
        double seconds = (System.nanoTime() - start) / 1e9;
        PointMaze task = EnvironmentRegistry.pointMaze(config.envId());
        long atGoal = 0;
        for (float reward : data.rewards()) if (reward == 0f) atGoal++;
        log.printf(Locale.ROOT, "generate: %s %s, %d episodes × %d steps = %d transitions, σ = %s, seed %d, in %.2f s; "
                        + "%d transitions (%.2f%%) start at the %s goal%n",
                task.id(), config.kind().label(), config.episodes(), config.episodeLength(), data.size(), config.actionNoise(),
                config.seed(), seconds, atGoal, 100.0 * atGoal / data.size(), task.task().name());

        IngestOptions ingest = IngestOptions.forOutput(options.output()).withShards(options.shards()).withOverwrite(options.overwrite());
        IngestResult result = IngestJob.write(spark, data, source(config, task), ingest, log);

        if (options.png() != null) {
            List<float[][]> episodes = MazeRenderer.episodes(data, options.pngEpisodes());
            boolean[] successes = new boolean[episodes.size()];
            for (int i = 0; i < successes.length; i++) successes[i] = MazeRenderer.reachesGoal(task, episodes.get(i));
            writePng(MazeRenderer.renderImage(task, episodes, successes), options.png(), hadoop);
            log.printf("generate: drew %d episodes to %s (green: passes the %s goal)%n", episodes.size(), options.png(), task.task().name());
        }
        return result;
    }

    /** What the manifest records about the data's origin: everything needed to generate it again. */
    static SourceInfo source(MazeDatasetGenerator.Config config, PointMaze task) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("generator", "fql-spark point-maze, OGBench v1.1.0 generate_locomaze.py recipe");
        details.put("env", task.id());
        details.put("kind", config.kind().label());
        details.put("episodes", Integer.toString(config.episodes()));
        details.put("episode_length", Integer.toString(config.episodeLength()));
        details.put("action_noise", Double.toString(config.actionNoise()));
        details.put("seed", Long.toString(config.seed()));
        details.put("goal_xy", task.goalX() + "," + task.goalY());
        details.put("goal_radius", Double.toString(PointMaze.GOAL_TOLERANCE));
        details.put("labels", "reward = success(s_t) - 1, mask = 1 - success(s_t)");
        return SourceInfo.generated("generate:" + task.id() + ":" + config.kind().label(), details);
    }

    private static boolean isLocal(String location) {
        try {
            String scheme = new URI(location).getScheme();
            return scheme == null || scheme.equals("file");
        } catch (URISyntaxException e) {
            return true;
        }
    }

    private static java.nio.file.Path localPath(String location) {
        try {
            URI uri = new URI(location);
            return uri.getScheme() == null ? Paths.get(location) : Paths.get(uri);
        } catch (URISyntaxException e) {
            return Paths.get(location);
        }
    }

    /**
     * The PNG may be written when it does not exist; it is replaced only with {@code --overwrite} and only when it is a
     * picture this project drew (see {@link PngFiles}); never the dataset itself or anything inside it.
     */
    private static void refuseExistingPng(String png, String output, boolean overwrite, Configuration hadoop) {
        try {
            Path path = new Path(png);
            FileSystem fs = path.getFileSystem(hadoop);
            path = fs.makeQualified(path);
            Path data = new Path(output);
            data = data.getFileSystem(hadoop).makeQualified(data);
            if (OutputGuard.sameOrInside(path, data) || OutputGuard.sameOrInside(data, path)) {
                throw new OutputGuard.OutputRefusedException(png, "--png", "is, or is inside, or contains the dataset "
                        + "--output " + data + "; refused, nothing was touched");
            }
            if (!fs.exists(path)) return;
            if (!overwrite) throw new OutputGuard.OutputRefusedException(png, "--png", "already exists; refused (pass --overwrite to replace it)");
            FileStatus status = fs.getFileStatus(path);
            byte[] head = new byte[0];
            if (status.isFile()) {
                try (InputStream in = fs.open(path)) {
                    head = in.readNBytes(PngFiles.HEAD_BYTES);
                }
            }
            if (!PngFiles.isOurs(head)) {
                throw new OutputGuard.OutputRefusedException(png, "--png", "is not a picture this project drew; refused, "
                        + "nothing was touched");
            }
        } catch (IOException | IllegalArgumentException e) {
            if (e instanceof OutputGuard.OutputRefusedException r) throw r;
            throw new DatasetException(png, "--png", "is not a usable location (" + e.getMessage() + ")", e);
        }
    }

    private static void writePng(BufferedImage image, String png, Configuration hadoop) {
        try {
            if (isLocal(png)) {
                // Not through Hadoop's local file system, which would leave a .crc file beside the PNG.
                MazeRenderer.writePng(image, localPath(png));
            } else {
                Path path = new Path(png);
                FileSystem fs = path.getFileSystem(hadoop);
                HadoopFiles.replaceAtomically(fs, path, PngFiles.encode(image));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the trajectory PNG to " + png + ": " + e.getMessage(), e);
        }
    }
}
