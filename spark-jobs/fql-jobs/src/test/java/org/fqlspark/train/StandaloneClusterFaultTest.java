package org.fqlspark.train;

import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.fqlspark.agent.Checkpoint;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Integration test on a real multi-process Spark standalone cluster (a Master and two Workers on loopback, each
 * executor its own JVM, the driver a separate `fql train` JVM): one executor JVM is killed during training. The job
 * must complete, every checkpoint written before the kill must still be there unchanged, metrics must have every
 * round exactly once, and the result must equal an undisturbed W = 2 run bit for bit (a retried round starts from
 * the same broadcast and draws the same numbers).
 */
@Tag("integration")
class StandaloneClusterFaultTest {

    private static final int STEPS = 1200;
    private static final int K = 20;

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void killingAnExecutorMidTrainingLosesNothing() throws Exception {
        Path root = TrainFixtures.tempDir("fql-cluster");
        Path run = root.resolve("run");
        Path data = TrainFixtures.dataset();
        long t0 = System.nanoTime();
        try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2, 1, "1g", Duration.ofSeconds(90))) {
            log(t0, "cluster up");
            List<String> args = new ArrayList<>(List.of("org.fqlspark.cli.FqlCli", "train", "--data", data.toString(),
                    "--run-dir", run.toString(), "--workers", "2", "--averaging-frequency", Integer.toString(K),
                    "--steps", Integer.toString(STEPS), "--checkpoint-every", "5", "--keep-checkpoints", "0",
                    "--hidden-dims", "16,16", "--batch-size", "32", "--flow-steps", "3", "--seed", "3", "--no-progress",
                    "--master", cluster.masterUrl(), "--conf", "spark.executor.memory=512m", "--conf", "spark.executor.cores=1",
                    "--conf", "spark.cores.max=2", "--conf", "spark.locality.wait=1s"));
            for (Map.Entry<String, String> e : cluster.executorConf().entrySet()) {
                args.add("--conf");
                args.add(e.getKey() + "=" + e.getValue());
            }
            Process driver = LocalStandaloneCluster.launch(cluster.home(), cluster.classpath(), "driver", args, "1g", Map.of());
            Path driverLog = cluster.home().resolve("driver.log");
            try {
                // Wait for a few checkpoints, then kill one executor JVM while rounds are running.
                Map<String, byte[]> before = awaitCheckpoints(run.resolve("checkpoints"), 2, driver, driverLog);
                log(t0, "checkpoints before the kill: " + before.keySet());
                List<ProcessHandle> executors = cluster.executors();
                assertEquals(2, executors.size(), "executor JVMs found: " + cluster.describeProcesses());
                long pid = executors.get(0).pid();
                assertTrue(executors.get(0).destroyForcibly(), "could not kill executor " + pid);
                assertTrue(driver.waitFor(180, TimeUnit.SECONDS), "driver did not finish:\n" + tail(driverLog));
                assertEquals(0, driver.exitValue(), "driver failed:\n" + tail(driverLog));
                log(t0, "driver done after killing executor " + pid + ":\n" + tail(driverLog));

                String result = Files.readString(run.resolve("result.json"));
                assertTrue(result.matches("(?s).*\"executors_lost\" : [1-9].*"), result + "\n" + tail(driverLog));
                for (Map.Entry<String, byte[]> e : before.entrySet()) {
                    assertArrayEquals(e.getValue(), Files.readAllBytes(run.resolve("checkpoints").resolve(e.getKey())),
                            e.getKey() + " changed or vanished");
                }
                List<String> lines = Files.readAllLines(run.resolve("metrics.csv"));
                List<Long> steps = lines.subList(1, lines.size()).stream().map(l -> Long.parseLong(l.split(",")[0])).toList();
                List<Long> expected = new ArrayList<>();
                for (long s = K; s <= STEPS; s += K) {
                    expected.add(s);
                }
                assertEquals(expected, steps);
                Checkpoint last = Checkpoint.fromBytes(Files.readAllBytes(
                        run.resolve("checkpoints").resolve(RunDirectory.checkpointName(STEPS))), "final");

                // The same run, undisturbed, in local mode: the same bits.
                TrainOptions same = TrainOptions.builder(data.toString(), root.resolve("undisturbed").toString())
                        .overrides(TrainFixtures.tiny()).seed(3).workers(2).averagingFrequency(K).steps(STEPS).checkpointEvery(1000)
                        .learningCurves(false).build();
                TrainResult undisturbed = TrainJob.run(TestSpark.session(), same);
                TrainFixtures.assertSameState(last.state(), undisturbed.finalState());
                log(t0, "undisturbed local run equal");
            } finally {
                driver.destroyForcibly();
            }
        }
    }

    private static Map<String, byte[]> awaitCheckpoints(Path dir, int n, Process driver, Path log) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
        while (System.nanoTime() < deadline) {
            if (!driver.isAlive()) {
                throw new AssertionError("driver exited early (" + driver.exitValue() + "):\n" + tail(log));
            }
            if (Files.isDirectory(dir)) {
                List<Path> done;
                try (Stream<Path> s = Files.list(dir)) {
                    done = s.filter(p -> p.getFileName().toString().matches("step-\\d{12}\\.fqlckpt")).sorted().toList();
                }
                if (done.size() >= n) {
                    if (done.size() * 5 * K >= STEPS) {
                        throw new AssertionError("training finished before the kill; make it longer");
                    }
                    Map<String, byte[]> bytes = new LinkedHashMap<>();
                    for (Path p : done) {
                        bytes.put(p.getFileName().toString(), Files.readAllBytes(p));
                    }
                    return bytes;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no " + n + " checkpoints in time:\n" + tail(log));
    }

    private static void log(long t0, String what) {
        System.out.printf(java.util.Locale.ROOT, "[cluster test %.1f s] %s%n", (System.nanoTime() - t0) / 1e9, what);
    }

    private static String tail(Path log) {
        try {
            List<String> l = Files.readAllLines(log);
            return String.join("\n", l.subList(Math.max(0, l.size() - 60), l.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
