package org.fqlspark.train;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Spark standalone cluster on loopback, started from the Spark jars on this JVM's classpath: one Master and
 * N Workers, each its own JVM, whose executors are again their own JVMs. For the fault-tolerance test and the
 * scaling benchmark, where local mode (one JVM) would hide what a multi-process cluster does.
 *
 * <p>Workers launch executors with {@code SPARK_HOME/jars/*} on the classpath; this cluster gives them a scratch
 * SPARK_HOME with an empty {@code jars/} and passes the whole classpath as {@code spark.executor.extraClassPath}
 * (see {@link #executorConf()}), which keeps its order. Everything started here is stopped by {@link #close()},
 * by process id, executors first.
 */
public final class LocalStandaloneCluster implements AutoCloseable {

    /** The Java 17 module opens Spark needs: the parent pom's list, as fql-runtime's build wrote it out. */
    public static final List<String> JAVA_OPENS = javaOpens();

    private static List<String> javaOpens() {
        try (var in = LocalStandaloneCluster.class.getResourceAsStream("/org/fqlspark/launch/java17-opens.txt")) {
            if (in == null) throw new IllegalStateException("org/fqlspark/launch/java17-opens.txt is not on the class path");
            return List.of(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim().split("\\s+"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Scala binary version of the Spark on the class path (2.12 on the default line, 2.13 on the Spark 4 line). */
    private static final String SCALA_BINARY = scala.util.Properties$.MODULE$.versionNumberString().replaceAll("^(\\d+\\.\\d+).*", "$1");

    private final Path home;
    private final String classpath;
    private final int masterPort;
    private final int masterUiPort;
    private final Process master;
    private final List<Process> workers = new ArrayList<>();

    private LocalStandaloneCluster(Path home, String classpath, int masterPort, int masterUiPort, Process master) {
        this.home = home;
        this.classpath = classpath;
        this.masterPort = masterPort;
        this.masterUiPort = masterUiPort;
        this.master = master;
    }

    /**
     * Starts a master and {@code workers} workers with {@code coresPerWorker} cores and {@code workerMemory} (e.g.
     * "1g") each, and waits until all workers have registered.
     */
    public static LocalStandaloneCluster start(int workers, int coresPerWorker, String workerMemory, Duration timeout) throws IOException {
        Path home = Files.createTempDirectory("fql-standalone");
        Files.createDirectories(home.resolve("jars"));
        String cp = currentClasspath();
        int port = freePort();
        int ui = freePort();
        Process master = launch(home, cp, "master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", Integer.toString(port), "--webui-port", Integer.toString(ui)), "256m", Map.of());
        LocalStandaloneCluster cluster = new LocalStandaloneCluster(home, cp, port, ui, master);
        // A JVM that exits without close() (Ctrl-C, SIGTERM) still stops the daemons it started.
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::close, "fql-standalone-cluster-stop"));
        try {
            for (int i = 0; i < workers; i++) {
                Path work = Files.createDirectories(home.resolve("work-" + i));
                cluster.workers.add(launch(home, cp, "worker-" + i, List.of("org.apache.spark.deploy.worker.Worker",
                        "--host", "127.0.0.1", "--cores", Integer.toString(coresPerWorker), "--memory", workerMemory,
                        "--work-dir", work.toString(), "--webui-port", Integer.toString(freePort()), cluster.masterUrl()),
                        "256m", Map.of("SPARK_WORKER_DIR", work.toString())));
            }
            cluster.awaitWorkers(workers, timeout);
            return cluster;
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    public String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    /** The directory holding the scratch SPARK_HOME, work dirs and the daemons' logs. */
    public Path home() {
        return home;
    }

    /** Settings a driver needs to run executors on this cluster (classpath, Java 17 opens, loopback, one thread). */
    public Map<String, String> executorConf() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("spark.executor.extraClassPath", classpath);
        c.put("spark.executor.extraJavaOptions", String.join(" ", JAVA_OPENS) + " -Dlog4j2.level=WARN");
        c.put("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1");
        c.put("spark.driver.host", "127.0.0.1");
        c.put("spark.driver.bindAddress", "127.0.0.1");
        c.put("spark.ui.enabled", "false");
        return c;
    }

    /** The classpath this cluster's processes run with (also what a driver process should use). */
    public String classpath() {
        return classpath;
    }

    /** Live executor JVMs: descendants of this cluster's workers running CoarseGrainedExecutorBackend. */
    public List<ProcessHandle> executors() {
        List<ProcessHandle> out = new ArrayList<>();
        for (Process w : workers) {
            w.toHandle().descendants()
                    .filter(ProcessHandle::isAlive)
                    .filter(LocalStandaloneCluster::isExecutor)
                    .forEach(out::add);
        }
        return out;
    }

    /** The workers' descendant processes and their command lines (for failure messages). */
    public String describeProcesses() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < workers.size(); i++) {
            b.append("worker ").append(i).append(" (pid ").append(workers.get(i).pid()).append("):\n");
            workers.get(i).toHandle().descendants().forEach(h -> b.append("  ").append(h.pid()).append(' ')
                    .append(h.info().command().orElse("?")).append(' ')
                    .append(h.info().arguments().map(a -> String.join(" ", a)).orElse("(no arguments)").lines().findFirst().orElse(""))
                    .append('\n'));
        }
        return b.toString();
    }

    /** Executor JVMs started by worker {@code i}. */
    public List<ProcessHandle> executorsOf(int i) {
        return workers.get(i).toHandle().descendants()
                .filter(ProcessHandle::isAlive)
                .filter(LocalStandaloneCluster::isExecutor)
                .toList();
    }

    /**
     * Whether a process runs CoarseGrainedExecutorBackend. Java omits the arguments of processes with very long command
     * lines (an executor's carries the whole classpath), so on Linux /proc/PID/cmdline is read directly.
     */
    private static boolean isExecutor(ProcessHandle h) {
        Path cmdline = Path.of("/proc", Long.toString(h.pid()), "cmdline");
        try {
            if (Files.isReadable(cmdline)) {
                return new String(Files.readAllBytes(cmdline), java.nio.charset.StandardCharsets.UTF_8).contains("CoarseGrainedExecutorBackend");
            }
        } catch (IOException e) {
            // fall through
        }
        return h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend");
    }

    @Override
    public void close() {
        for (ProcessHandle e : executors()) {
            e.destroyForcibly();
        }
        for (Process w : workers) {
            stop(w);
        }
        stop(master);
        try (Stream<Path> s = Files.walk(home)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort
        }
    }

    private static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitWorkers(int n, Duration timeout) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        Pattern alive = Pattern.compile("\"aliveworkers\"\\s*:\\s*(\\d+)");
        String last = "";
        while (System.nanoTime() < deadline) {
            if (!master.isAlive()) {
                throw new IOException("the Spark master exited:\n" + daemonLogs());
            }
            try {
                last = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUiPort + "/json/"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
                Matcher m = alive.matcher(last);
                if (m.find() && Integer.parseInt(m.group(1)) >= n) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the cluster", e);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the cluster", e);
            }
        }
        throw new IOException("standalone cluster did not register " + n + " workers within " + timeout + "; the master's answer: "
                + last + "\n" + daemonLogs());
    }

    /** The last lines of the master's and the workers' logs ({@link #close()} deletes them, so failures quote them). */
    private String daemonLogs() {
        StringBuilder b = new StringBuilder();
        List<String> names = new ArrayList<>(List.of("master"));
        for (int i = 0; i < workers.size(); i++) {
            names.add("worker-" + i);
        }
        for (String name : names) {
            Path log = home.resolve(name + ".log");
            try {
                List<String> lines = Files.readAllLines(log);
                b.append("--- ").append(log).append(" (last 30 lines):\n")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()))).append('\n');
            } catch (IOException | UncheckedIOException e) {
                b.append("--- ").append(log).append(": ").append(e.getMessage()).append('\n');
            }
        }
        return b.toString();
    }

    /** Starts a JVM running {@code args} with this classpath, logging to {@code home/<name>.log}. */
    public static Process launch(Path home, String classpath, String name, List<String> args, String heap, Map<String, String> env)
            throws IOException {
        return launch(home, classpath, name, args, heap, env, null);
    }

    /** As {@link #launch(Path, String, String, List, String, Map)}, in working directory {@code dir} (null: this JVM's). */
    public static Process launch(Path home, String classpath, String name, List<String> args, String heap, Map<String, String> env,
            Path dir) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.addAll(JAVA_OPENS);
        cmd.add("-Dlog4j2.level=WARN");
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(home.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", SCALA_BINARY);
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_NO_DAEMONIZE", "1");
        pb.environment().put("OMP_NUM_THREADS", System.getenv().getOrDefault("OMP_NUM_THREADS", "1"));
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().putAll(env);
        if (dir != null) pb.directory(dir.toFile());
        return pb.start();
    }

    /**
     * This JVM's classpath as a list of real entries: under surefire's manifest-only jar, the manifest's Class-Path.
     */
    public static String currentClasspath() throws IOException {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        List<String> entries = new ArrayList<>();
        for (String e : cp.split(File.pathSeparator)) {
            if (e.isBlank()) {
                continue;
            }
            File f = new File(e);
            if (f.getName().startsWith("surefirebooter") && f.getName().endsWith(".jar")) {
                try (java.util.jar.JarFile jar = new java.util.jar.JarFile(f)) {
                    String manifestCp = jar.getManifest().getMainAttributes().getValue("Class-Path");
                    for (String u : manifestCp.trim().split("\\s+")) {
                        entries.add(u.startsWith("file:") ? new File(URI.create(u)).getAbsolutePath()
                                : f.toPath().getParent().resolve(java.net.URLDecoder.decode(u, java.nio.charset.StandardCharsets.UTF_8))
                                        .toAbsolutePath().normalize().toString());
                    }
                }
            } else {
                entries.add(f.getAbsolutePath());
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
