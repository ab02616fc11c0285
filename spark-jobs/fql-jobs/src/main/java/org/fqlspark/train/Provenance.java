package org.fqlspark.train;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.data.DatasetManifest;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How a run was made (style rule 6): the code's git commit, the dataset (path, rows, manifest SHA-256, schema
 * version), the seed, and the Java, ND4J, Spark, Hadoop and Scala versions. Written to provenance.json and into
 * every checkpoint's header.
 */
final class Provenance {

    private Provenance() {
    }

    static Map<String, String> collect(SparkSession spark, TrainOptions options, String datasetPath, DatasetManifest manifest,
            String manifestSha256) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("created_at", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        p.put("git_commit", gitCommit());
        p.put("dataset_path", datasetPath);
        p.put("dataset_rows", Long.toString(manifest.counts().transitions()));
        p.put("dataset_episodes", Long.toString(manifest.counts().episodes()));
        p.put("dataset_manifest_sha256", manifestSha256);
        p.put("dataset_schema_version", Integer.toString(manifest.schemaVersion()));
        p.put("dataset_source", manifest.source().path());
        p.put("obs_dim", Integer.toString(manifest.obsDim()));
        p.put("action_dim", Integer.toString(manifest.actionDim()));
        p.put("seed", Long.toString(options.seed()));
        p.put("workers", Integer.toString(options.workers()));
        p.put("averaging_frequency", Integer.toString(options.averagingFrequency()));
        p.put("preset", options.preset());
        p.put("java_version", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
        p.put("nd4j_version", mavenVersion("org.nd4j", "nd4j-api"));
        // The backend on the classpath, named without initialising it: the driver needs no GPU and no native library.
        p.put("nd4j_backend", org.fqlspark.tensor.BackendGuard.cudaBackendPresent() ? "JCublasBackend" : "CpuBackend");
        p.put("spark_version", spark.version());
        p.put("spark_master", spark.sparkContext().master());
        p.put("hadoop_version", org.apache.hadoop.util.VersionInfo.getVersion());
        p.put("scala_version", scala.util.Properties.versionNumberString());
        p.put("fql_version", "0.1.0");
        return p;
    }

    /** FQL_GIT_COMMIT if set, else {@code git rev-parse HEAD} (+ "-dirty" with uncommitted tracked changes), else "unknown". */
    static String gitCommit() {
        String env = System.getenv("FQL_GIT_COMMIT");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        String head = run("git", "rev-parse", "HEAD");
        if (head == null || !head.matches("[0-9a-f]{40}")) {
            return "unknown";
        }
        String status = run("git", "status", "--porcelain", "--untracked-files=no");
        return status == null || status.isEmpty() ? head : head + "-dirty";
    }

    private static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroy();
                return null;
            }
            return new String(out, StandardCharsets.UTF_8).trim();
        } catch (Exception e) {
            return null;
        }
    }

    static String mavenVersion(String group, String artifact) {
        String resource = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        try (InputStream in = Nd4j.class.getResourceAsStream(resource)) {
            if (in != null) {
                Properties props = new Properties();
                props.load(in);
                return props.getProperty("version", "unknown");
            }
        } catch (Exception e) {
            // fall through
        }
        String v = Nd4j.class.getPackage().getImplementationVersion();
        return v != null ? v : "unknown";
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
