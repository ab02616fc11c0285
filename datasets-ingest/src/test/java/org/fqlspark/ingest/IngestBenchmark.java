package org.fqlspark.ingest;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.data.DatasetReader;
import org.fqlspark.data.TransitionData;
import org.fqlspark.launch.CommandSessions;

/**
 * Ingest throughput on a D4RL-shaped HDF5 (antmaze layout: obs 29, actions 8, 1000-step episodes ended by
 * timeouts), written with jhdf into a temp directory. Not a test: run it by hand and record the numbers. It lives in
 * the test sources, out of the production jar; the command lines are in datasets-ingest/README.md ("Benchmark"):
 *
 * <pre>
 * java [Java 17 --add-opens flags] -cp target/test-classes:target/classes:$(cat target/cp.txt) \
 *     org.fqlspark.ingest.IngestBenchmark [transitions=1000000] [repeats=2] [master=local[*]]
 * </pre>
 *
 * The first repeat includes JIT warm-up; the HDF5 file and outputs are deleted at the end.
 */
public final class IngestBenchmark {

    private static final int OBS_DIM = 29;
    private static final int ACTION_DIM = 8;
    private static final int EPISODE = 1000;

    private IngestBenchmark() {}

    public static void main(String[] args) throws IOException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        String master = args.length > 2 ? args[2] : "local[*]";
        PrintStream out = System.out;
        Path dir = Files.createTempDirectory("fql-ingest-bench-");
        try {
            long t0 = System.nanoTime();
            // "antmaze" in the name: the reward shift applies, as for the real files
            Path h5 = writeD4rl(dir.resolve("antmaze-bench-v2.hdf5"), n);
            out.printf(Locale.ROOT, "bench: wrote %s (%d rows, %.1f MB) with jhdf in %.1f s%n", h5, n,
                    Files.size(h5) / 1e6, (System.nanoTime() - t0) / 1e9);

            SparkSession spark = CommandSessions.builder("ingest-bench").master(master)
                    .setDefault("spark.ui.enabled", "false").logLevel("WARN").getOrCreate();
            out.printf("bench: Spark %s, master %s, default parallelism %d, %d cores visible%n", spark.version(),
                    master, spark.sparkContext().defaultParallelism(), Runtime.getRuntime().availableProcessors());
            for (int r = 1; r <= repeats; r++) {
                String output = dir.resolve("out-" + r).toString();
                String loadBefore = loadAverage();
                IngestResult res = IngestJob.run(spark, IngestOptions.of(h5.toString(), output), out);
                long bytes = sizeOf(Paths.get(output));
                long t1 = System.nanoTime();
                TransitionData back = DatasetReader.read(spark, output).data();
                double readBack = (System.nanoTime() - t1) / 1e9;
                out.printf(Locale.ROOT, "bench: load average before/after: %s / %s%n", loadBefore, loadAverage());
                out.printf(Locale.ROOT, "bench: repeat %d: %d transitions, %d shards, %.1f MB Parquet; ingest %.2f s "
                        + "(read+clean %.2f s, write %.2f s) = %.0f transitions/s; DatasetReader.read %.2f s = %.0f "
                        + "transitions/s%n", r, res.transitions(), res.manifest().shards().size(), bytes / 1e6,
                        res.totalSeconds(), res.readSeconds(), res.writeSeconds(), res.transitionsPerSecond(),
                        readBack, back.size() / readBack);
            }
            spark.stop();
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Continuous random walks within 1000-step episodes, a jump between them, timeouts on each last row. */
    static Path writeD4rl(Path file, int n) {
        SplittableRandom rng = new SplittableRandom(42);
        float[][] obs = new float[n][OBS_DIM];
        float[][] act = new float[n][ACTION_DIM];
        float[] rew = new float[n];
        boolean[] terminals = new boolean[n];
        boolean[] timeouts = new boolean[n];
        for (int i = 0; i < n; i++) {
            boolean start = i % EPISODE == 0;
            for (int j = 0; j < OBS_DIM; j++) {
                obs[i][j] = start ? (float) rng.nextDouble(-10, 10) : obs[i - 1][j] + (float) rng.nextDouble(-0.1, 0.1);
            }
            for (int j = 0; j < ACTION_DIM; j++) act[i][j] = (float) rng.nextDouble(-1.05, 1.05);
            rew[i] = rng.nextInt(100) == 0 ? 1f : 0f;
            terminals[i] = rew[i] == 1f && rng.nextBoolean();
            timeouts[i] = i % EPISODE == EPISODE - 1;
        }
        try (WritableHdfFile h = HdfFile.write(file)) {
            h.putDataset("observations", obs);
            h.putDataset("actions", act);
            h.putDataset("rewards", rew);
            h.putDataset("terminals", terminals);
            h.putDataset("timeouts", timeouts);
        }
        return file;
    }

    /** The 1-minute load average: the benchmark shares its two cores with whatever else runs. */
    private static String loadAverage() {
        try {
            return Files.readString(Paths.get("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    private static long sizeOf(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
