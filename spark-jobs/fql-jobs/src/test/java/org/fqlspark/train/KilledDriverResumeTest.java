package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.fqlspark.io.Lease;
import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.Test;

/**
 * Tried as a new user would (issue 21, item 9): a training driver, a JVM of its own started as {@code ./fql train}
 * starts one, is killed with SIGKILL after its first checkpoint; {@code train --resume} at once on the same machine
 * takes its lease over (the lease names this host and a process that no longer exists), saying so, and ends with the
 * parameters of an uninterrupted run.
 */
class KilledDriverResumeTest {

    private static final int STEPS = 100;

    @Test
    void aDriverKilledWithSigkillIsResumedAtOnceAndEndsLikeAnUninterruptedRun() throws Exception {
        TestSpark.session();
        TrainFixtures.dataset();   // the shared fixtures are not this test's cost
        long cpu0 = processCpuNanos();
        Path root = TrainFixtures.tempDir("fql-sigkill");
        TrainOptions full = TrainFixtures.options(root.resolve("full")).averagingFrequency(5).steps(STEPS).checkpointEvery(1)
                .keepCheckpoints(0).build();
        TrainResult uninterrupted = TrainJob.run(TestSpark.session(), full, new PrintStream(OutputStream.nullOutputStream()));
        long cpu1 = processCpuNanos();

        Path run = root.resolve("killed");
        List<String> args = List.of("org.fqlspark.cli.FqlCli", "train", "--data", TrainFixtures.dataset().toString(),
                "--run-dir", run.toString(), "--steps", Integer.toString(STEPS), "--averaging-frequency", "5",
                "--checkpoint-every", "1", "--keep-checkpoints", "0", "--seed", "3", "--hidden-dims", "16,16",
                "--batch-size", "32", "--flow-steps", "3", "--no-progress");
        // C1 only and the serial collector: a driver of a few seconds pays for starting up, not for peak speed (neither
        // changes a number: Java's float arithmetic is the same at every compilation level)
        Process driver = LocalStandaloneCluster.launch(root, LocalStandaloneCluster.currentClasspath(), "driver", args, "1g",
                Map.of("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"));
        long pid = driver.pid();
        double driverCpu;
        try {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (!(Files.exists(run.resolve(Lease.FILE)) && checkpoints(run) > 0)) {
                assertTrue(driver.isAlive(), "the driver ended before its first checkpoint: " + log(root));
                assertTrue(System.nanoTime() < deadline, "no checkpoint within 120 s: " + log(root));
                Thread.sleep(50);
            }
            driverCpu = driver.toHandle().info().totalCpuDuration().map(d -> d.toMillis() / 1e3).orElse(Double.NaN);
            driver.destroyForcibly();   // SIGKILL: no shutdown hook, the lease stays behind
            driver.waitFor();
        } finally {
            driver.destroyForcibly();
        }
        assertEquals(137, driver.exitValue(), "killed by SIGKILL");
        assertFalse(Files.exists(run.resolve("result.json")), "the driver was killed before the end of its run");
        assertTrue(Files.readString(run.resolve(Lease.FILE)).contains("pid " + pid), "the killed driver's lease is still there");

        long cpu2 = processCpuNanos();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TrainResult resumed = TrainJob.run(TestSpark.session(), full.toBuilder().runDir(run.toString()).resume(true).build(),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(resumed.startStep() > 0 && resumed.startStep() < STEPS, "resumed from step " + resumed.startStep());
        assertTrue(text.contains("pid " + pid) && text.contains("no longer running") && text.contains("taken over"), text);
        TrainFixtures.assertSameState(uninterrupted.finalState().toAgentState(), resumed.finalState());
        System.out.printf(java.util.Locale.ROOT, "KilledDriverResumeTest: killed at step %d; CPU: driver %.1f s, this JVM %.1f s "
                + "(uninterrupted %.1f, waiting %.1f, resumed %.1f)%n", resumed.startStep(), driverCpu, (processCpuNanos() - cpu0) / 1e9,
                (cpu1 - cpu0) / 1e9, (cpu2 - cpu1) / 1e9, (processCpuNanos() - cpu2) / 1e9);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static long checkpoints(Path run) throws IOException {
        Path dir = run.resolve("checkpoints");
        if (!Files.isDirectory(dir)) return 0;
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d{12}\\.fqlckpt")).count();
        }
    }

    private static String log(Path root) {
        try {
            return Files.readString(root.resolve("driver.log"));
        } catch (IOException e) {
            return "(no driver.log: " + e + ")";
        }
    }
}
