package org.fqlspark.train;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.FqlPresets;
import org.fqlspark.data.SourceInfo;
import org.fqlspark.data.TransitionData;
import org.fqlspark.env.DatasetKind;
import org.fqlspark.env.MazeDatasetGenerator;
import org.fqlspark.ingest.IngestJob;
import org.fqlspark.ingest.IngestOptions;
import org.fqlspark.run.RunDirectory;

/**
 * Throughput of distributed training on a loopback standalone cluster ({@link LocalStandaloneCluster}: two workers,
 * executors in their own JVMs): samples/s for W = 1 and W = 2 at one thread per worker (scaling), W = 1 with two
 * threads against W = 2 with one each (the same core budget), and the share of wall time spent averaging at the
 * given K; plus the single-process {@link LocalTrainer} as a no-Spark baseline. Not a test: numbers go to
 * BENCHMARKS.md.
 *
 * <p>Each case trains U + R rounds of K steps; the first U rounds (executor start, JIT compilation, agent
 * construction) are not timed. A benchmark, not a test, and like {@link LocalStandaloneCluster} it lives in the test
 * sources, out of the production jar. Usage, from the repository root: {@code mvn -o -q -pl spark-jobs/fql-jobs -am
 * test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/fql-cp.txt}, then {@code java $OPENS -cp
 * spark-jobs/fql-jobs/target/test-classes:spark-jobs/fql-jobs/target/classes:$(cat /tmp/fql-cp.txt)
 * org.fqlspark.train.TrainBenchmark [--size paper|small] [--k 100] [--rounds 3] [--warmup-rounds 2] [--transitions 20000]
 * [--cases all|averaging] [--repeat 1]} ({@code $OPENS}: the Java 17 opens of {@link LocalStandaloneCluster#JAVA_OPENS}).
 * {@code --cases averaging} runs only W = 2 through the driver and W = 2 with peer averaging, {@code --repeat} times
 * each on the same cluster, alternating which goes first, to show the spread on a shared machine.
 */
public final class TrainBenchmark {

    /** One measured case. */
    public record Case(String name, int workers, int threads, double samplesPerSecond, double stepsPerSecond,
            double averagingShare, double meanRoundSeconds, double meanAveragingSeconds, int timedRounds) {
    }

    private TrainBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String size = "paper";
        int k = 100;
        int rounds = 3;
        int warmup = 2;
        int transitions = 20_000;
        String which = "all";
        int repeat = 1;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--cases" -> which = args[i + 1];
                case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
                case "--size" -> size = args[i + 1];
                case "--k" -> k = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--transitions" -> transitions = Integer.parseInt(args[i + 1]);
                case "--warmup-rounds" -> warmup = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (options: --size paper|small, --k K, --rounds R, --warmup-rounds U, --transitions N, "
                        + "--cases all|averaging, --repeat N)");
            }
        }
        ConfigOverrides overrides = switch (size) {
            case "paper" -> ConfigOverrides.none();   // 4×512, batch 256, 10 flow steps
            case "small" -> ConfigOverrides.none().withHiddenDims(List.of(64, 64)).with(FqlConfig.BATCH_SIZE, 256);
            default -> throw new IllegalArgumentException("--size must be paper or small");
        };
        PrintStream out = System.out;
        Path root = Files.createTempDirectory("fql-train-bench");
        Path data = root.resolve("pointmaze");
        TransitionData dataset = MazeDatasetGenerator.generate(new MazeDatasetGenerator.Config("pointmaze-medium",
                DatasetKind.NAVIGATE, Math.max(1, transitions / 1000), 1000, 0.5, 1));
        SparkSession local = SparkSession.builder().master("local[2]").appName("fql train bench: data")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").getOrCreate();
        IngestJob.write(local, dataset, SourceInfo.generated("bench", Map.of()), IngestOptions.forOutput(data.toString()).withShards(2),
                new PrintStream(OutputStream.nullOutputStream()));
        local.stop();

        FqlConfig config = overrides.applyTo(FqlPresets.get("default").config());
        out.printf(Locale.ROOT, "fql train bench: %s size (hidden %s, batch %d, flow steps %d), K=%d, %d timed rounds after %d, %d transitions, "
                        + "OMP_NUM_THREADS=%s, %d cores, load average %s%n", size, config.actorHiddenDims(), config.batchSize(), config.flowSteps(), k, rounds, warmup,
                dataset.size(), System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)"), Runtime.getRuntime().availableProcessors(), loadAverage());

        if (which.equals("averaging")) {
            averagingOnly(data, root, overrides, k, rounds, warmup, repeat, out);
            return;
        }
        List<Case> cases = new ArrayList<>();
        cases.add(localBaseline(config, dataset, k, rounds, warmup, out));
        cases.add(twoLocalTrainers(config, dataset, k, rounds, warmup, out));
        try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2, 2, "4g", Duration.ofSeconds(120))) {
            for (int[] wt : new int[][] {{1, 1}, {2, 1}, {1, 2}}) {
                cases.add(clusterCase(cluster, data, root, overrides, wt[0], wt[1], k, rounds, warmup, false, out));
            }
            cases.add(clusterCase(cluster, data, root, overrides, 2, 1, k, rounds, warmup, true, out));
        }
        out.println();
        out.println("| case | W | threads/worker | samples/s | global steps/s | averaging share of wall time | mean round s | mean averaging s |");
        out.println("|---|---|---|---|---|---|---|---|");
        for (Case c : cases) {
            out.printf(Locale.ROOT, "| %s | %d | %d | %.0f | %.2f | %s | %.2f | %s |%n", c.name(), c.workers(), c.threads(),
                    c.samplesPerSecond(), c.stepsPerSecond(), Double.isNaN(c.averagingShare()) ? "-" : String.format(Locale.ROOT, "%.1f%%",
                            100 * c.averagingShare()), c.meanRoundSeconds(),
                    Double.isNaN(c.meanAveragingSeconds()) ? "-" : String.format(Locale.ROOT, "%.3f", c.meanAveragingSeconds()));
        }
        Case w1 = cases.get(2);
        Case w2 = cases.get(3);
        Case w1t2 = cases.get(4);
        out.printf(Locale.ROOT, "%nscaling W=2 / W=1 (1 thread each): %.2fx; W=2x1 thread / W=1x2 threads: %.2fx; "
                        + "no-Spark ceiling 2 / 1: %.2fx; load average at the end: %s%n",
                w2.samplesPerSecond() / w1.samplesPerSecond(), w2.samplesPerSecond() / w1t2.samplesPerSecond(),
                cases.get(1).samplesPerSecond() / cases.get(0).samplesPerSecond(), loadAverage());
    }

    /** W = 2 through the driver and among the workers, {@code repeat} times each, alternating which runs first. */
    private static void averagingOnly(Path data, Path root, ConfigOverrides overrides, int k, int rounds, int warmup, int repeat,
            PrintStream out) throws IOException {
        List<Case> driver = new ArrayList<>();
        List<Case> peer = new ArrayList<>();
        List<String> loads = new ArrayList<>();
        try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2, 2, "4g", Duration.ofSeconds(120))) {
            for (int r = 0; r < repeat; r++) {
                for (boolean p : r % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                    Path at = root.resolve("repeat-" + r);
                    (p ? peer : driver).add(clusterCase(cluster, data, at, overrides, 2, 1, k, rounds, warmup, p, out));
                }
                loads.add(loadAverage());
            }
        }
        out.println();
        out.println("| repeat | averaging | samples/s | averaging share of wall time | mean round s | mean averaging s | load average after |");
        out.println("|---|---|---|---|---|---|---|");
        for (int r = 0; r < repeat; r++) {
            for (Case c : List.of(driver.get(r), peer.get(r))) {
                out.printf(Locale.ROOT, "| %d | %s | %.0f | %.1f%% | %.3f | %.3f | %s |%n", r + 1, c == driver.get(r) ? "driver" : "peer",
                        c.samplesPerSecond(), 100 * c.averagingShare(), c.meanRoundSeconds(), c.meanAveragingSeconds(), loads.get(r));
            }
        }
        out.printf(Locale.ROOT, "%nmedian samples/s: driver %.0f, peer %.0f; median averaging share: driver %.1f%%, peer %.1f%%%n",
                median(driver.stream().map(Case::samplesPerSecond).toList()), median(peer.stream().map(Case::samplesPerSecond).toList()),
                100 * median(driver.stream().map(Case::averagingShare).toList()), 100 * median(peer.stream().map(Case::averagingShare).toList()));
    }

    private static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static Case localBaseline(FqlConfig config, TransitionData data, int k, int rounds, int warmup, PrintStream out) {
        LocalTrainer trainer = new LocalTrainer(config, data, 0);
        trainer.trainTo((long) k * warmup);
        long steps = (long) k * rounds;
        long t0 = System.nanoTime();
        trainer.trainTo(trainer.agent().step() + steps);
        double s = (System.nanoTime() - t0) / 1e9;
        out.printf(Locale.ROOT, "  LocalTrainer (no Spark): %d steps in %.1f s%n", steps, s);
        return new Case("LocalTrainer, no Spark", 1, 1, steps * config.batchSize() / s, steps / s, Double.NaN, s / rounds, Double.NaN, rounds);
    }

    /** Two independent LocalTrainers in two threads of one JVM: what this machine gives two workers without Spark. */
    private static Case twoLocalTrainers(FqlConfig config, TransitionData data, int k, int rounds, int warmup, PrintStream out)
            throws InterruptedException {
        LocalTrainer[] trainers = {new LocalTrainer(config, data, 0), new LocalTrainer(config, data, 1)};
        long steps = (long) k * rounds;
        double[] seconds = new double[2];
        Thread[] threads = new Thread[2];
        for (int i = 0; i < 2; i++) {
            int t = i;
            threads[i] = new Thread(() -> {
                trainers[t].trainTo((long) k * warmup);
                long t0 = System.nanoTime();
                trainers[t].trainTo(trainers[t].agent().step() + steps);
                seconds[t] = (System.nanoTime() - t0) / 1e9;
            });
            threads[i].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double s = Math.max(seconds[0], seconds[1]);
        out.printf(Locale.ROOT, "  2 x LocalTrainer in 2 threads (no Spark): %d steps each in %.1f / %.1f s%n", steps, seconds[0], seconds[1]);
        return new Case("2 x LocalTrainer, 2 threads, no Spark (ceiling for W=2)", 2, 1, 2.0 * steps * config.batchSize() / s, steps / s,
                Double.NaN, s / rounds, Double.NaN, rounds);
    }

    /** A session on {@code cluster} with W executors of T cores, one task of T cpus each (also used by {@link TimeToResult}). */
    static SparkSession clusterSession(LocalStandaloneCluster cluster, String name, int workers, int threads, String executorMemory) {
        SparkSession.Builder b = SparkSession.builder().master(cluster.masterUrl()).appName(name);
        cluster.executorConf().forEach(b::config);
        b.config("spark.executor.cores", Integer.toString(threads))
                .config("spark.cores.max", Integer.toString(workers * threads))
                .config("spark.task.cpus", Integer.toString(threads))
                .config("spark.executor.memory", executorMemory)
                .config("spark.executorEnv.OMP_NUM_THREADS", Integer.toString(threads))
                .config("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE")
                .config("spark.ui.showConsoleProgress", "false");
        SparkSession spark = b.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        return spark;
    }

    private static Case clusterCase(LocalStandaloneCluster cluster, Path data, Path root, ConfigOverrides overrides, int workers,
            int threads, int k, int rounds, int warmup, boolean peer, PrintStream out) throws IOException {
        SparkSession spark = clusterSession(cluster, "fql train bench W=" + workers + " T=" + threads, workers, threads, "3g");
        try {
            Path run = root.resolve("run-w" + workers + "-t" + threads + (peer ? "-peer" : ""));
            // peer averaging: a barrier stage per checkpoint interval; with a checkpoint every 5 rounds the stage's own
            // cost (job, connections, the final collect) lands in the timed rounds, where the default 50 would hide it
            TrainOptions options = TrainOptions.builder(data.toString(), run.toString()).overrides(overrides).workers(workers)
                    .threadsPerWorker(threads).averagingFrequency(k).steps((long) k * (rounds + warmup))
                    .checkpointEvery(peer ? 5 : 1000).peerAveraging(peer).learningCurves(false).build();
            TrainJob.run(spark, options, out);
            List<String> lines = Files.readAllLines(run.resolve(RunDirectory.METRICS_CSV));
            List<String> header = Arrays.asList(lines.get(0).split(","));
            int roundCol = header.indexOf("round_seconds");
            int avgCol = header.indexOf("averaging_seconds");
            double roundSeconds = 0;
            double averagingSeconds = 0;
            for (String line : lines.subList(1 + warmup, lines.size())) {   // skip the header and the untimed rounds
                String[] f = line.split(",");
                roundSeconds += Double.parseDouble(f[roundCol]);
                averagingSeconds += Double.parseDouble(f[avgCol]);
            }
            int timed = lines.size() - 1 - warmup;
            long steps = (long) k * timed;
            int batch = options.resolvedConfig().batchSize();
            Case c = new Case(peer ? "standalone cluster, --averaging peer (a stage per 5 rounds)" : "standalone cluster", workers, threads, (double) workers * steps * batch / roundSeconds, steps / roundSeconds,
                    averagingSeconds / roundSeconds, roundSeconds / timed, averagingSeconds / timed, timed);
            out.printf(Locale.ROOT, "  W=%d, %d thread(s)/worker: %.0f samples/s, averaging %.1f%% (%.2f s per round of %.2f s)%n", workers,
                    threads, c.samplesPerSecond(), 100 * c.averagingShare(), c.meanAveragingSeconds(), c.meanRoundSeconds());
            return c;
        } finally {
            spark.stop();
        }
    }
}
