package org.fqlspark.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.fqlspark.train.LocalStandaloneCluster;

/**
 * A real HDFS and YARN for tests: Hadoop's MiniDFSCluster (one NameNode, one DataNode) and MiniYARNCluster (one
 * ResourceManager, one NodeManager that starts containers as processes of this machine), at the Hadoop version Spark
 * ships, from {@code hadoop-client-minicluster}. They run in a JVM of their own ({@link #main}), which writes the
 * client configuration a cluster's users get, {@code core-site.xml}, {@code hdfs-site.xml} and {@code yarn-site.xml},
 * into a directory to point {@code HADOOP_CONF_DIR} at. That JVM stops the clusters (and with them every container)
 * when its standard input closes: at {@link #close()}, or when the test JVM dies. {@code root} holds the
 * configuration, the clusters' data and logs; {@code process} is their JVM; {@code conf} the client configuration.
 */
public record MiniHadoop(Path root, Process process, Configuration conf) implements AutoCloseable {

    private static final String READY = "READY";

    /** Starts the clusters under {@code root} and waits until both accept clients. */
    public static MiniHadoop start(Path root, long timeoutSeconds) throws IOException, InterruptedException {
        Path confDir = Files.createDirectories(root.resolve("hadoop-conf"));
        Path base = Files.createDirectories(root.resolve("mini"));
        Process p = LocalStandaloneCluster.launch(root, LocalStandaloneCluster.currentClasspath(), "mini-hadoop",
                List.of(MiniHadoop.class.getName(), confDir.toString()), "768m",
                Map.of("JAVA_HOME", System.getProperty("java.home")), base);
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (!Files.exists(confDir.resolve(READY))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IllegalStateException("the mini HDFS/YARN did not start within " + timeoutSeconds + " s: "
                        + Files.readString(root.resolve("mini-hadoop.log")));
            }
            Thread.sleep(200);
        }
        Configuration conf = new Configuration(false);
        for (String f : List.of("core-site.xml", "hdfs-site.xml", "yarn-site.xml")) {
            conf.addResource(new org.apache.hadoop.fs.Path(confDir.resolve(f).toUri()));
        }
        return new MiniHadoop(root, p, new YarnConfiguration(conf));
    }

    /** The directory holding core-site.xml, hdfs-site.xml and yarn-site.xml. */
    public Path confDir() {
        return root.resolve("hadoop-conf");
    }

    /** Where the NodeManager keeps the containers' logs (stdout, stderr of every container). */
    public Path containerLogs() {
        return root.resolve("mini");
    }

    public FileSystem fs() throws IOException {
        return FileSystem.get(conf);
    }

    /** YARN's report of an application, as {@code yarn application -status} prints it. */
    public ApplicationReport report(String applicationId) throws Exception {
        try (YarnClient yarn = YarnClient.createYarnClient()) {
            yarn.init(conf);
            yarn.start();
            return yarn.getApplicationReport(ApplicationId.fromString(applicationId));
        }
    }

    /** The text of every file named {@code name} (e.g. "stderr") that the containers of this application wrote. */
    public String containerLog(String applicationId, String name) throws IOException {
        StringBuilder b = new StringBuilder();
        try (var files = Files.walk(containerLogs())) {
            for (Path f : files.filter(f -> f.getFileName().toString().equals(name) && f.toString().contains(applicationId)).sorted().toList()) {
                b.append("==> ").append(f).append('\n').append(Files.readString(f)).append('\n');
            }
        }
        return b.toString();
    }

    /** Stops the clusters (closing the JVM's standard input), then any process of theirs still alive. */
    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
    }

    /**
     * The clusters' JVM: {@code args[0]} is the configuration directory to write; the working directory holds the
     * clusters' data and logs. Runs until standard input closes.
     */
    public static void main(String[] args) throws Exception {
        Path confDir = Path.of(args[0]);
        Path base = Path.of("").toAbsolutePath();
        Configuration hdfsConf = new Configuration();
        hdfsConf.set(org.apache.hadoop.hdfs.MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("hdfs").toString());
        org.apache.hadoop.hdfs.MiniDFSCluster dfs = new org.apache.hadoop.hdfs.MiniDFSCluster.Builder(hdfsConf)
                .numDataNodes(1).format(true).build();
        dfs.waitActive();

        YarnConfiguration y = new YarnConfiguration(dfs.getConfiguration(0));
        // small containers on a small machine: the NodeManager offers more than the box has, and checks nothing
        y.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
        y.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, 4096);
        y.setInt(YarnConfiguration.NM_PMEM_MB, 16384);
        // MiniYARNCluster gives its NodeManagers this instead (4096 MB by default: an application master and one executor)
        y.setInt(YarnConfiguration.YARN_MINICLUSTER_NM_PMEM_MB, 16384);
        y.setInt(YarnConfiguration.NM_VCORES, 16);
        y.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_VCORES, 16);
        y.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
        y.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        y.setFloat("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", 99.5f);
        // first come, first served, with no share reserved for application masters: two applications fit at once
        y.set(YarnConfiguration.RM_SCHEDULER, "org.apache.hadoop.yarn.server.resourcemanager.scheduler.fifo.FifoScheduler");
        // keep containers' logs and directories after they end, for the test to read
        y.setInt(YarnConfiguration.DEBUG_NM_DELETE_DELAY_SEC, 600);
        org.apache.hadoop.yarn.server.MiniYARNCluster yarn = new org.apache.hadoop.yarn.server.MiniYARNCluster("fql-yarn", 1, 1, 1);
        yarn.init(y);
        yarn.start();

        Configuration running = yarn.getConfig();
        writeSite(confDir.resolve("core-site.xml"), Map.of("fs.defaultFS", running.get("fs.defaultFS")));
        writeSite(confDir.resolve("hdfs-site.xml"), Map.of("dfs.replication", "1"));
        Map<String, String> yarnSite = new TreeMap<>();
        for (String key : List.of(YarnConfiguration.RM_ADDRESS, YarnConfiguration.RM_SCHEDULER_ADDRESS,
                YarnConfiguration.RM_RESOURCE_TRACKER_ADDRESS, YarnConfiguration.RM_ADMIN_ADDRESS, YarnConfiguration.RM_WEBAPP_ADDRESS,
                YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB)) {
            yarnSite.put(key, running.get(key));
        }
        writeSite(confDir.resolve("yarn-site.xml"), yarnSite);
        Files.writeString(confDir.resolve(READY), running.get(YarnConfiguration.RM_ADDRESS) + "\n");
        System.out.println("mini HDFS at " + running.get("fs.defaultFS") + ", YARN at " + running.get(YarnConfiguration.RM_ADDRESS));

        while (System.in.read() >= 0) {
            // runs until the test closes our standard input (or dies)
        }
        yarn.stop();
        dfs.shutdown();
        System.exit(0);
    }

    private static void writeSite(Path file, Map<String, String> properties) {
        Configuration c = new Configuration(false);
        properties.forEach(c::set);
        try (OutputStream out = Files.newOutputStream(file)) {
            c.writeXml(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
