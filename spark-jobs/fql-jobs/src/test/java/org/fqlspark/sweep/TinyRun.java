package org.fqlspark.sweep;

import org.fqlspark.testing.TempDirs;
import org.fqlspark.testing.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.hadoop.conf.Configuration;
import org.fqlspark.env.DatasetKind;
import org.fqlspark.env.GenerateJob;
import org.fqlspark.env.MazeDatasetGenerator;
import org.fqlspark.ingest.IngestJob;
import org.fqlspark.ingest.IngestOptions;

/**
 * A tiny real run of the whole pipeline, made once per JVM and shared by the sweep and notebook tests: generate a
 * point-maze stitch dataset (12 episodes × 40 steps), save it as an OGBench {@code .npz} and ingest that file
 * ({@code IngestJob.run}, as {@code ./fql ingest} does), then a sweep of two trials (α 3 and 30; 16×16 networks, batch
 * 32, 20 steps, 2 evaluation episodes of at most 30 steps), which trains and evaluates each. The {@code generate} job's
 * own output (the generator written through the ingest's write path) is made too.
 * Outputs: {@link #dataset} (ingested from the .npz), {@link #generated}, {@link #sweep} (results, best.json,
 * trials/&lt;id&gt;/run and eval).
 */
public final class TinyRun {

    public final Path root;
    public final Path dataset;
    public final Path generated;
    public final Path spec;
    public final Path sweep;
    public final SweepResult firstResult;
    public final String firstLog;

    private static TinyRun instance;

    private TinyRun(Path root) {
        this.root = root;
        this.dataset = root.resolve("data/pointmaze-medium-stitch");
        this.generated = root.resolve("data/generated");
        this.spec = root.resolve("tiny-sweep.yaml");
        this.sweep = root.resolve("sweeps/tiny");
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        MazeDatasetGenerator.Config data = new MazeDatasetGenerator.Config("pointmaze-medium", DatasetKind.STITCH, 12, 40, 0.5, 5);
        Path npz = root.resolve("pointmaze-medium-stitch.npz");
        OgbenchNpz.write(MazeDatasetGenerator.generate(data), npz);
        IngestJob.run(TestSpark.session(), IngestOptions.of(npz.toString(), dataset.toString()).withShards(2), quiet);
        GenerateJob.run(TestSpark.session(), new GenerateJob.Options(data, generated.toString(), 1, false, null, 1), quiet);
        write(spec, tinySpec(dataset, "alpha: [3, 30]"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        this.firstResult = SweepJob.run(TestSpark.session(), SweepSpec.read(spec.toString(), new Configuration()),
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
        return spec("tiny", dataset, 20, "{env: pointmaze-medium, episodes: 2, max_episode_steps: 30, partitions: 2}",
                "grid:\n  agent." + alphaGrid + "\n");
    }

    /**
     * A sweep spec {@code name} over {@code dataset} with the tiny networks (16×16, batch 32, 3 flow steps): one worker,
     * {@code steps} training steps, a checkpoint every step, seed 3; {@code evaluate} is the evaluate section (a YAML
     * flow mapping) and {@code more} follows the base (a grid, say).
     */
    public static String spec(String name, Path dataset, int steps, String evaluate, String more) {
        return """
                name: %s
                base:
                  data: %s
                  preset: default
                  agent: {actor_hidden_dims: [16, 16], value_hidden_dims: [16, 16], batch_size: 32, flow_steps: 3}
                  train: {steps: %d, workers: 1, averaging_frequency: 10, checkpoint_every: 1, seed: 3}
                  evaluate: %s
                """.formatted(name, dataset.toUri(), steps, evaluate) + more;
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
        return TempDirs.create(prefix);
    }

    public static void deleteQuietly(Path p) {
        TempDirs.deleteQuietly(p);
    }
}
