package org.fqlspark.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.run.RunDirectory;

/**
 * Issue 12's time-to-result measurement, not a test: on a loopback standalone cluster (two workers, one core each),
 * train the quick start's model on a quick-start dataset with W = 1 and W = 2 for the same sample budget
 * ({@code --samples}: W = 2 takes half the steps), evaluating every 1/12 of the budget on executors, for several seeds;
 * print, per run, the wall time at which the success rate first reached the target, and every evaluation against wall
 * time (the curves). Usage as {@link TrainBenchmark}, main class {@code org.fqlspark.train.TimeToResult DATA_DIR
 * [--samples S] [--seeds 0,1,2] [--target 0.8] [--env pointmaze-medium-task3] [--peer]}.
 */
public final class TimeToResult {

    private TimeToResult() {
    }

    public static void main(String[] args) throws Exception {
        String data = args[0];
        long samples = 12_000L * 2 * 256;
        List<Long> seeds = List.of(0L, 1L, 2L);
        double target = 0.8;
        String env = "pointmaze-medium-task3";
        boolean peer = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--samples" -> samples = Long.parseLong(args[++i]);
                case "--seeds" -> seeds = Arrays.stream(args[++i].split(",")).map(Long::parseLong).toList();
                case "--target" -> target = Double.parseDouble(args[++i]);
                case "--env" -> env = args[++i];
                case "--peer" -> peer = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        // the quick start's model: 3x64, alpha 3, lr 1e-3, tau 0.1, K = 100
        ConfigOverrides overrides = ConfigOverrides.none().with(FqlConfig.ALPHA, 3.0).withHiddenDims(List.of(64, 64, 64)).with(FqlConfig.LR, 1e-3).with(FqlConfig.TAU, 0.1);
        Path root = Files.createTempDirectory("fql-time-to-result");
        List<String> table = new ArrayList<>();
        List<String> curves = new ArrayList<>();
        try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2, 1, "3g", Duration.ofSeconds(120))) {
            for (long seed : seeds) {
                for (int workers : new int[] {1, 2}) {
                    SparkSession spark = TrainBenchmark.clusterSession(cluster, "fql ttr W=" + workers, workers, 1, "2g");
                    try {
                        long steps = (samples + (long) workers * 256 - 1) / ((long) workers * 256);
                        Path run = root.resolve("w" + workers + "-s" + seed);
                        TrainOptions options = TrainOptions.builder(data, run.toString()).overrides(overrides).workers(workers)
                                .averagingFrequency(100).samples(samples).seed(seed).checkpointEvery(20).peerAveraging(peer)
                                .evalEvery(steps / 12).evalEpisodes(20).evalEnv(env).learningCurves(true).build();
                        TrainJob.run(spark, options, System.out);
                        List<String> lines = Files.readAllLines(run.resolve(RunDirectory.METRICS_CSV));
                        List<String> header = Arrays.asList(lines.get(0).split(","));
                        int el = header.indexOf("elapsed_seconds");
                        int sr = header.indexOf("eval/success_rate");
                        double reached = Double.NaN;
                        double last = Double.NaN;
                        double end = 0;
                        StringBuilder curve = new StringBuilder();
                        for (String line : lines.subList(1, lines.size())) {
                            String[] f = line.split(",");
                            double rate = Double.parseDouble(f[sr]);
                            double t = Double.parseDouble(f[el]);
                            end = t;
                            if (!Double.isNaN(rate)) {
                                last = rate;
                                curve.append(String.format(Locale.ROOT, " %.0fs:%.2f", t, rate));
                                if (Double.isNaN(reached) && rate >= target) reached = t;
                            }
                        }
                        table.add(String.format(Locale.ROOT, "| %d | %d | %d | %.0f s | %s | %.2f |", seed, workers, steps, end,
                                Double.isNaN(reached) ? "not reached" : String.format(Locale.ROOT, "%.0f s", reached), last));
                        curves.add("seed " + seed + ", W=" + workers + ":" + curve);
                    } finally {
                        spark.stop();
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "%n%d samples, target success %.2f, %s, averaging %s%n", samples, target, env, peer ? "peer" : "driver");
        System.out.println("| seed | W | steps | wall time | time to target | final success |");
        System.out.println("|---|---|---|---|---|---|");
        table.forEach(System.out::println);
        System.out.println();
        curves.forEach(System.out::println);
    }
}
