package org.fqlspark.sweep;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import org.apache.hadoop.conf.Configuration;
import org.fqlspark.env.DatasetKind;
import org.fqlspark.env.GenerateJob;
import org.fqlspark.env.MazeDatasetGenerator;

/**
 * A tiny real run of the whole pipeline, made once per JVM and shared by the sweep and notebook tests: generate a
 * point-maze stitch dataset (12 episodes × 40 steps, written through the ingest), then a sweep of two trials (α 3 and
 * 30; 16×16 networks, batch 32, 20 steps, 2 evaluation episodes of at most 30 steps), which trains and evaluates each.
 * Outputs: {@link #dataset} (Parquet + manifest.json), {@link #sweep} (results, best.json, trials/&lt;id&gt;/run and eval).
 */
public final class TinyRun {

    public final Path root;
    public final Path dataset;
    public final Path spec;
    public final Path sweep;
    public final SweepResult firstResult;
    public final String firstLog;

    private static TinyRun instance;

    private TinyRun(Path root) {
        this.root = root;
        this.dataset = root.resolve("data/pointmaze-medium-stitch");
        this.spec = root.resolve("tiny-sweep.yaml");
        this.sweep = root.resolve("sweeps/tiny");
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        GenerateJob.run(SweepTestSpark.session(), new GenerateJob.Options(
                new MazeDatasetGenerator.Config("pointmaze-medium", DatasetKind.STITCH, 12, 40, 0.5, 5), dataset.toString(), 2,
                false, null, 1), quiet);
        write(spec, tinySpec(dataset, "alpha: [3, 30]"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        this.firstResult = SweepJob.run(SweepTestSpark.session(), SweepSpec.read(spec.toString(), new Configuration()),
                sweep.toString(), 2, new PrintStream(log, true, StandardCharsets.UTF_8));
        this.firstLog = log.toString(StandardCharsets.UTF_8);
    }

    public static synchronized TinyRun get() {
        if (instance == null) {
            instance = new TinyRun(tempDir("fql-tiny-run"));
        }
        return instance;
    }

    /** A sweep spec over the tiny dataset, varying agent.{@code alphaGrid} (e.g. {@code "alpha: [3, 30]"}). */
    public static String tinySpec(Path dataset, String alphaGrid) {
        return """
                name: tiny
                base:
                  data: %s
                  preset: default
                  agent: {actor_hidden_dims: [16, 16], value_hidden_dims: [16, 16], batch_size: 32, flow_steps: 3}
                  train: {steps: 20, workers: 1, averaging_frequency: 10, checkpoint_every: 1, seed: 3}
                  evaluate: {env: pointmaze-medium, episodes: 2, max_episode_steps: 30, partitions: 2}
                grid:
                  agent.%s
                """.formatted(dataset.toUri(), alphaGrid);
    }

    public static void write(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path tempDir(String prefix) {
        try {
            Path p = Files.createTempDirectory(prefix);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(p)));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void deleteQuietly(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort
        }
    }
}
