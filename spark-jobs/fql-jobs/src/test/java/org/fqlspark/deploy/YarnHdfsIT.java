package org.fqlspark.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.data.TransitionData;
import org.fqlspark.env.DatasetKind;
import org.fqlspark.env.MazeDatasetGenerator;
import org.fqlspark.io.Lease;
import org.fqlspark.run.CheckpointFinder;
import org.fqlspark.run.RunDirectory;
import org.fqlspark.sweep.OgbenchNpz;
import org.fqlspark.testing.MiniHadoop;
import org.fqlspark.train.LocalStandaloneCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The shaded jar on a real YARN and HDFS (issue 22): {@code deploy/submit-yarn.sh}, cluster deploy mode, submits
 * {@code ingest} (of an OGBench-style {@code .npz} on HDFS), {@code train} (2 executors) and {@code evaluate} with every
 * path on {@code hdfs://} to Hadoop's MiniYARNCluster and MiniDFSCluster ({@link MiniHadoop}); YARN reports SUCCEEDED
 * for them, and FAILED for a bad input, a dataset written over without {@code --overwrite}, a run directory
 * whose lease another driver holds and a training that diverges. A training whose application master (its driver) is
 * killed with SIGKILL after its first checkpoint is FAILED; {@code train --resume} takes the dead driver's lease over at
 * once and ends with the uninterrupted run's parameters, bit for bit.
 *
 * <p>The script runs as a user runs it: {@code HADOOP_CONF_DIR} names the configuration the mini clusters wrote, and
 * {@code SPARK_HOME} a Spark installation made of the jars Spark 3.5 ships (the build's provided classpath and
 * spark-yarn, linked from the local Maven repository), whose {@code conf/spark-defaults.conf} sets
 * {@code spark.yarn.jars} to them, as a cluster's Spark installation does.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class YarnHdfsIT {

    /** Spark's own jars that the build resolves as compile dependencies of this project (so not in the provided list). */
    private static final Pattern SPARK_RUNTIME_EXTRA = Pattern.compile(
            ".*/(org/slf4j/|com/fasterxml/jackson/core/|com/ning/compress-lzf/|org/apache/commons/commons-lang3/|org/apache/spark/spark-yarn_).*\\.jar");
    private static final Pattern APPLICATION_ID = Pattern.compile("application_\\d+_\\d+");

    private static final String DATA = "hdfs:///fql/data/maze";
    private static final String RUN = "hdfs:///fql/runs/r1";
    private static final int STEPS = 80;

    private static Path root;
    private static MiniHadoop hadoop;
    private static Path sparkHome;
    private static Path jar;

    @BeforeAll
    static void start() throws Exception {
        String location = System.getProperty("fql.jar");
        Assumptions.assumeTrue(location != null, "fql.jar not set (run through failsafe: mvn verify)");
        jar = Path.of(location);
        Assumptions.assumeTrue(Files.isRegularFile(jar), jar + " was not built");
        root = Files.createTempDirectory("fql-yarn");
        long t0 = System.nanoTime();
        hadoop = MiniHadoop.start(root, 300);
        System.out.printf(Locale.ROOT, "YarnHdfsIT: mini HDFS and YARN up in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        sparkHome = sparkHome(root.resolve("spark-home"), jar.resolveSibling("spark-classpath.txt"));
    }

    @AfterAll
    static void stop() {
        if (hadoop != null) hadoop.close();
        if (root != null) {
            try (var s = Files.walk(root)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException | java.io.UncheckedIOException e) {
                // best effort
            }
        }
    }

    @Test
    @Order(1)
    void ingestTrainAndEvaluateOnHdfsSucceed() throws Exception {
        // an OGBench-style .npz of the built-in maze, put on HDFS as a user's download would be
        String input = npzOnHdfs("maze.npz", null);
        Submission ingest = submit(2, "ingest", "--input", input, "--output", DATA, "--shards", "2");
        ingest.assertFinal(FinalApplicationStatus.SUCCEEDED);
        FileSystem fs = hadoop.fs();
        assertTrue(fs.exists(new org.apache.hadoop.fs.Path(DATA + "/manifest.json")), "the dataset's manifest on HDFS");

        Submission train = submit(2, train(RUN));
        train.assertFinal(FinalApplicationStatus.SUCCEEDED);
        assertTrue(fs.exists(new org.apache.hadoop.fs.Path(RUN + "/" + RunDirectory.RESULT)), "result.json on HDFS");
        assertFalse(fs.exists(new org.apache.hadoop.fs.Path(RUN + "/" + Lease.FILE)), "the lease is released at the end");
        assertEquals(3, train.containers(), "one application master and 2 executors:\n" + train.output);

        String eval = "hdfs:///fql/eval/e1";
        Submission evaluate = submit(2, "evaluate", "--checkpoint", RUN, "--env", "pointmaze-medium", "--episodes", "2",
                "--max-episode-steps", "5", "--output", eval);
        evaluate.assertFinal(FinalApplicationStatus.SUCCEEDED);
        assertTrue(fs.exists(new org.apache.hadoop.fs.Path(eval + "/summary.json")), "the evaluation's summary on HDFS");
    }

    @Test
    @Order(2)
    void aMissingDatasetFailsTheApplication() throws Exception {
        Submission bad = submit(1, "train", "--data", "hdfs:///fql/data/missing", "--run-dir", "hdfs:///fql/runs/bad",
                "--steps", "2", "--hidden-dims", "16,16", "--batch-size", "32", "--no-progress");
        bad.assertFinal(FinalApplicationStatus.FAILED);
        assertTrue(bad.driverLog().contains("/fql/data/missing: key 'manifest.json': is missing"),
                "the driver names the missing input:\n" + bad.driverLog());
    }

    @Test
    @Order(3)
    void aDatasetIsNotWrittenOverWithoutOverwrite() throws Exception {
        FileSystem fs = hadoop.fs();
        org.apache.hadoop.fs.Path manifest = new org.apache.hadoop.fs.Path(DATA + "/manifest.json");
        Assumptions.assumeTrue(fs.exists(manifest), "the dataset the first test ingests");
        byte[] before = read(fs, manifest);
        Submission again = submit(1, "generate", "--env", "pointmaze-medium", "--kind", "stitch", "--episodes", "12",
                "--episode-length", "40", "--seed", "7", "--output", DATA);
        again.assertFinal(FinalApplicationStatus.FAILED);
        assertTrue(again.driverLog().contains("pass --overwrite"), again.driverLog());
        assertArrayEquals(before, read(fs, manifest), "the refused write left the dataset as it was");
    }

    @Test
    @Order(4)
    void aSecondDriverIsRefusedTheRunDirectoryWhoseLeaseIsHeld() throws Exception {
        FileSystem fs = hadoop.fs();
        Assumptions.assumeTrue(fs.exists(new org.apache.hadoop.fs.Path(DATA + "/manifest.json")), "the dataset the first test ingests");
        String run = "hdfs:///fql/runs/held";
        try (Lease held = Lease.acquire(fs, new org.apache.hadoop.fs.Path(run), "run directory")) {
            Submission second = submit(1, "train", "--data", DATA, "--run-dir", run, "--steps", "2", "--hidden-dims", "16,16",
                    "--batch-size", "32", "--no-progress");
            // the holder's heartbeat refreshes the lease on HDFS (every 20 s) while the second driver starts
            String lease = new String(read(fs, new org.apache.hadoop.fs.Path(run + "/" + Lease.FILE)), StandardCharsets.UTF_8);
            Matcher refreshed = Pattern.compile("\"refreshed_epoch_ms\":(\\d+)").matcher(lease);
            assertTrue(refreshed.find(), lease);
            assertTrue(System.currentTimeMillis() - Long.parseLong(refreshed.group(1)) < 60_000, "the lease is refreshed: " + lease);
            second.assertFinal(FinalApplicationStatus.FAILED);
            assertTrue(second.driverLog().contains("in use by another driver"), second.driverLog());
            held.check();
        }
        assertFalse(fs.exists(new org.apache.hadoop.fs.Path(run + "/" + RunDirectory.RESULT)), "the refused driver trained nothing");
    }

    @Test
    @Order(5)
    void aTrainingThatDivergesOnAnIngestedFileFails() throws Exception {
        // an OGBench-style .npz on HDFS whose rewards are finite but huge: ingest accepts it, training overflows
        String input = npzOnHdfs("poisoned.npz", 1e30f);
        String data = "hdfs:///fql/data/poisoned";
        Submission ingest = submit(1, "ingest", "--input", input, "--output", data, "--shards", "2");
        ingest.assertFinal(FinalApplicationStatus.SUCCEEDED);
        assertTrue(hadoop.fs().exists(new org.apache.hadoop.fs.Path(data + "/manifest.json")), "the ingested dataset's manifest on HDFS");

        String run = "hdfs:///fql/runs/diverged";
        Submission train = submit(2, "train", "--data", data, "--run-dir", run, "--workers", "2", "--steps", "20",
                "--averaging-frequency", "5", "--checkpoint-every", "1", "--hidden-dims", "16,16", "--batch-size", "32",
                "--flow-steps", "3", "--no-progress");
        train.assertFinal(FinalApplicationStatus.FAILED);
        assertTrue(train.driverLog().contains("non-finite loss"), "the driver says why:\n" + train.driverLog());
        assertFalse(hadoop.fs().exists(new org.apache.hadoop.fs.Path(run + "/" + RunDirectory.RESULT)), "no result.json for a diverged run");
    }

    @Test
    @Order(6)
    void aTrainingWhoseApplicationMasterIsKilledResumesToTheUninterruptedRunsParameters() throws Exception {
        FileSystem fs = hadoop.fs();
        Assumptions.assumeTrue(fs.exists(new org.apache.hadoop.fs.Path(RUN + "/" + RunDirectory.RESULT)), "the run the first test trains");
        String run = "hdfs:///fql/runs/am-killed";
        org.apache.hadoop.fs.Path lease = new org.apache.hadoop.fs.Path(run + "/" + Lease.FILE);
        Started started = start(2, train(run));
        long killedPid;
        try {
            // the driver runs in the application master: SIGKILL it (a lost node, an OOM kill) after its first checkpoint
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!(fs.exists(lease) && !CheckpointFinder.candidates(fs, new org.apache.hadoop.fs.Path(run)).isEmpty())) {
                assertTrue(started.process().isAlive(), "spark-submit ended before the first checkpoint:\n" + Files.readString(started.log()));
                assertTrue(System.nanoTime() < deadline, "no checkpoint within 5 minutes:\n" + Files.readString(started.log()));
                Thread.sleep(50);
            }
            ProcessHandle am = applicationMaster(started.applicationId());
            killedPid = am.pid();
            assertTrue(am.destroyForcibly(), "SIGKILL to the application master " + am.pid());
            am.onExit().get(1, TimeUnit.MINUTES);
        } catch (Throwable e) {
            started.process().destroyForcibly();
            throw e;
        }
        Submission killed = started.await();
        killed.assertFinal(FinalApplicationStatus.FAILED);
        assertFalse(fs.exists(new org.apache.hadoop.fs.Path(run + "/" + RunDirectory.RESULT)), "killed before the end of its run");
        long killedAt = CheckpointFinder.candidates(fs, new org.apache.hadoop.fs.Path(run)).get(0).step();
        assertTrue(killedAt > 0 && killedAt < STEPS, "newest checkpoint of the killed run at step " + killedAt);
        assertTrue(new String(read(fs, lease), StandardCharsets.UTF_8).contains("pid " + killedPid), "the killed driver's lease is still there");

        List<String> resume = new ArrayList<>(List.of(train(run)));
        resume.add("--resume");
        Submission resumed = submit(2, resume.toArray(String[]::new));
        resumed.assertFinal(FinalApplicationStatus.SUCCEEDED);
        String log = resumed.driverLog();
        assertTrue(log.contains("pid " + killedPid) && log.contains("no longer running") && log.contains("taken over"),
                "the resumed driver takes the dead driver's lease over at once, saying so:\n" + log);
        assertTrue(log.contains("(step " + killedAt + ")"), "resumed from the newest checkpoint (step " + killedAt + "):\n" + log);

        FqlAgent.AgentState expected = newestState(fs, RUN);
        FqlAgent.AgentState actual = newestState(fs, run);
        assertEquals(STEPS, actual.step(), "step");
        assertEquals(expected.step(), actual.step(), "step");
        assertArrayEquals(expected.parameters(), actual.parameters(), "parameters");
        assertArrayEquals(expected.targetParameters(), actual.targetParameters(), "target parameters");
        assertArrayEquals(expected.adamM(), actual.adamM(), "Adam's first moments");
        assertArrayEquals(expected.adamV(), actual.adamV(), "Adam's second moments");
        System.out.printf(Locale.ROOT, "YarnHdfsIT: application master %d killed at step %d, resumed to step %d: bit-identical%n%s",
                killedPid, killedAt, actual.step(), log.lines().filter(l -> l.startsWith("fql train:"))
                        .map(l -> "YarnHdfsIT: resumed driver: " + l + "\n").reduce("", String::concat));
    }

    /** The test's training: 2 workers, 16 averaging rounds with a checkpoint after each (a kill after the first lands mid-run). */
    private static String[] train(String runDir) {
        return new String[] {"train", "--data", DATA, "--run-dir", runDir, "--workers", "2", "--steps", Integer.toString(STEPS),
                "--averaging-frequency", "5", "--checkpoint-every", "1", "--keep-checkpoints", "0", "--seed", "3",
                "--hidden-dims", "16,16", "--batch-size", "32", "--flow-steps", "3", "--no-progress"};
    }

    /**
     * An OGBench-style {@code .npz} of the built-in medium maze (12 episodes of 40 steps) on HDFS, with its own rewards
     * or, where {@code everyReward} is given, that reward everywhere; returns its {@code hdfs:///} path.
     */
    private static String npzOnHdfs(String name, Float everyReward) throws IOException {
        TransitionData d = MazeDatasetGenerator.generate(new MazeDatasetGenerator.Config("pointmaze-medium", DatasetKind.STITCH, 12, 40, 0.5, 5));
        float[] rewards = d.rewards().clone();
        if (everyReward != null) {
            java.util.Arrays.fill(rewards, everyReward);
        }
        TransitionData scaled = new TransitionData(d.obsDim(), d.actionDim(), d.observations(), d.actions(), rewards, d.masks(),
                d.terminals(), d.nextObservations(), d.episodeIds(), d.stepIndices());
        Path npz = root.resolve(name);
        OgbenchNpz.write(scaled, npz);
        String input = "hdfs:///fql/in/" + name;
        hadoop.fs().copyFromLocalFile(new org.apache.hadoop.fs.Path(npz.toUri()), new org.apache.hadoop.fs.Path(input));
        return input;
    }

    private static FqlAgent.AgentState newestState(FileSystem fs, String run) throws IOException {
        List<String> skipped = new ArrayList<>();
        CheckpointFinder.Found found = CheckpointFinder.newest(fs, new org.apache.hadoop.fs.Path(run), skipped)
                .orElseThrow(() -> new AssertionError("no checkpoint in " + run + ": " + skipped));
        assertTrue(skipped.isEmpty(), skipped.toString());
        return found.checkpoint().state();
    }

    /**
     * The application master's JVM (YARN runs it on this machine): a java process whose command line names the
     * application's first container (the container's launch script, a shell, names it too).
     */
    private static ProcessHandle applicationMaster(String applicationId) {
        String container = "container_" + applicationId.substring("application_".length()) + "_01_000001";
        List<ProcessHandle> found = ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .filter(p -> p.info().commandLine().map(c -> c.contains("org.apache.spark.deploy.yarn.ApplicationMaster")
                        && c.contains(container)).orElse(false))
                .toList();
        assertEquals(1, found.size(), "one application master process for " + container + ": " + found);
        return found.get(0);
    }

    private static byte[] read(FileSystem fs, org.apache.hadoop.fs.Path p) throws IOException {
        try (var in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    /** One run of deploy/submit-yarn.sh: its exit code, output, and the YARN application it submitted. */
    private record Submission(int exitCode, String output, String applicationId, double seconds) {

        void assertFinal(FinalApplicationStatus expected) throws Exception {
            ApplicationReport report = hadoop.report(applicationId);
            System.out.printf(Locale.ROOT, "YarnHdfsIT: %s %s %s in %.0f s (spark-submit exit %d)%n", applicationId,
                    report.getName(), report.getFinalApplicationStatus(), seconds, exitCode);
            assertTrue(Set.of(YarnApplicationState.FINISHED, YarnApplicationState.FAILED).contains(report.getYarnApplicationState()),
                    "ended: " + report.getYarnApplicationState());
            assertEquals(expected, report.getFinalApplicationStatus(), report.getName() + ": " + report.getDiagnostics()
                    + "\n" + driverLog() + "\n" + output);
            if (expected == FinalApplicationStatus.SUCCEEDED) {
                assertEquals(0, exitCode, output);
            } else {
                assertNotEquals(0, exitCode, "spark-submit reports the failure too:\n" + output);
            }
        }

        /** The application master's (the driver's) stdout and stderr. */
        String driverLog() throws IOException {
            String am = "container_" + applicationId.substring("application_".length()) + "_01_000001";
            String dir = applicationId + File.separator + am + File.separator;
            return (hadoop.containerLog(dir, "stdout") + hadoop.containerLog(dir, "stderr")).lines()
                    .filter(l -> !l.isBlank()).reduce("", (a, b) -> a + b + "\n");
        }

        /** How many containers the application ran. */
        long containers() throws IOException {
            try (var files = Files.walk(hadoop.containerLogs())) {
                // the NodeManager's log directory holds one directory per container (its local directories hold more)
                return files.filter(Files::isDirectory).filter(d -> d.toString().contains("-logDir-"))
                        .filter(d -> d.getFileName().toString().startsWith("container_")
                        && d.getParent().getFileName().toString().equals(applicationId)).count();
            }
        }
    }

    /** A spark-submit that is running: its process and log. */
    private record Started(List<String> cmd, Process process, Path log, long t0) {

        /** The YARN application it submitted, once spark-submit has printed it. */
        String applicationId() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (true) {
                Matcher m = APPLICATION_ID.matcher(Files.readString(log));
                if (m.find()) return m.group();
                assertTrue(process.isAlive() && System.nanoTime() < deadline, "no YARN application in the output of " + cmd + ":\n"
                        + Files.readString(log));
                Thread.sleep(50);
            }
        }

        Submission await() throws Exception {
            if (!process.waitFor(6, TimeUnit.MINUTES)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("spark-submit did not end within 6 minutes:\n" + Files.readString(log));
            }
            String output = Files.readString(log);
            Matcher m = APPLICATION_ID.matcher(output);
            assertTrue(m.find(), "no YARN application in the output of " + cmd + ":\n" + output);
            return new Submission(process.exitValue(), output, m.group(), (System.nanoTime() - t0) / 1e9);
        }
    }

    private static Submission submit(int executors, String... args) throws Exception {
        return start(executors, args).await();
    }

    private static Started start(int executors, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", DeployFiles.deploy().resolve("submit-yarn.sh").toString()));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(root, "submit-" + args[0] + "-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        var env = pb.environment();
        env.remove("SPARK_SUBMIT");
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("HADOOP_CONF_DIR", hadoop.confDir().toString());
        env.put("FQL_JAR", jar.toString());
        env.put("FQL_EXECUTORS", Integer.toString(executors));
        env.put("FQL_EXECUTOR_CORES", "1");
        env.put("FQL_EXECUTOR_MEMORY", "640m");
        env.put("FQL_DRIVER_MEMORY", "640m");
        env.put("FQL_JAVACPP_MAXBYTES", "512m");
        env.put("FQL_MEMORY_SLACK", "256m");
        long t0 = System.nanoTime();
        Process p = pb.start();
        p.getOutputStream().close();
        return new Started(cmd, p, log, t0);
    }

    /**
     * A Spark installation for spark-submit and the containers: jars/ links Spark's jars (the build's provided class
     * path, plus the few Spark jars this project also uses at compile scope, plus spark-yarn), conf/spark-defaults.conf
     * names them as spark.yarn.jars (local: every container of this one machine sees them), bin/spark-submit runs
     * SparkSubmit with conf, HADOOP_CONF_DIR and jars on its class path, as Spark's own script does.
     */
    private static Path sparkHome(Path home, Path providedClasspath) throws IOException {
        Path jars = Files.createDirectories(home.resolve("jars"));
        Set<String> entries = new LinkedHashSet<>(List.of(Files.readString(providedClasspath).trim().split(File.pathSeparator)));
        for (String e : LocalStandaloneCluster.currentClasspath().split(File.pathSeparator)) {
            if (SPARK_RUNTIME_EXTRA.matcher(e).matches()) entries.add(e);
        }
        for (String e : entries) {
            Path target = Path.of(e);
            if (e.endsWith(".jar") && !Files.exists(jars.resolve(target.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(target.getFileName()), target);
            }
        }
        List<String> defaults = new ArrayList<>(List.of(
                "spark.yarn.jars local:" + jars + "/*",
                "spark.yarn.appMasterEnv.SPARK_LOCAL_IP 127.0.0.1",
                "spark.executorEnv.SPARK_LOCAL_IP 127.0.0.1",
                "spark.ui.enabled false",
                // a loaded 2-core machine starts an executor container in minutes, not seconds: the driver waits for all
                // of them (Spark's own setting) before the training's placement check (60 s) begins
                "spark.scheduler.minRegisteredResourcesRatio 1.0",
                "spark.scheduler.maxRegisteredResourcesWaitingTime 240s",
                "spark.yarn.report.interval 2s",
                // every container is a JVM that lives for seconds on 2 shared cores: C1 alone and the serial collector
                // start it sooner (the arithmetic is Java's at every compilation level: the same bits)
                "spark.driver.defaultJavaOptions -XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
                "spark.executor.defaultJavaOptions -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"));
        // the CPU settings this machine's BLAS needs (docs/platform-notes.md) reach the containers as a cluster's
        // administrator would pass them
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("OPENBLAS_")) {
                defaults.add("spark.yarn.appMasterEnv." + k + " " + v);
                defaults.add("spark.executorEnv." + k + " " + v);
            }
        });
        Files.createDirectories(home.resolve("conf"));
        Files.write(home.resolve("conf/spark-defaults.conf"), defaults, StandardCharsets.UTF_8);
        Path submit = Files.createDirectories(home.resolve("bin")).resolve("spark-submit");
        Files.writeString(submit, String.join("\n",
                "#!/usr/bin/env bash",
                "SPARK_HOME=\"$(cd \"$(dirname \"$0\")/..\" && pwd)\"",
                "exec \"$JAVA_HOME/bin/java\" -Xmx384m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp \"${SPARK_CONF_DIR:-$SPARK_HOME/conf}:${HADOOP_CONF_DIR:-}:$SPARK_HOME/jars/*\" "
                        + "org.apache.spark.deploy.SparkSubmit \"$@\"", ""));
        assertTrue(submit.toFile().setExecutable(true));
        return home;
    }
}
