package org.fqlspark.train;

import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.data.DatasetManifest;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How a run was made (style rule 6): the code's git commit, the dataset (path, rows, manifest SHA-256, schema
 * version), the seed, the tensor backend asked for and the device the workers ran on, and the Java, ND4J, Spark, Hadoop
 * and Scala versions. Written to provenance.json and into every checkpoint's header.
 */
final class Provenance {

    private Provenance() {
    }

    /**
     * The key of the devices the workers built their agents on, as they reported them: an OpenCL device's name, "cpu",
     * "cuda:N"; several, comma-separated, where workers differed.
     */
    static final String DEVICE = "device";

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
        // --backend as asked; DEVICE, what the workers ran on, follows once they have said (TrainJob)
        p.put("backend", options.backend());
        p.put("spark_version", spark.version());
        p.put("spark_master", spark.sparkContext().master());
        p.put("hadoop_version", org.apache.hadoop.util.VersionInfo.getVersion());
        p.put("scala_version", scala.util.Properties.versionNumberString());
        p.put("fql_version", "0.1.0");
        return p;
    }

    /** The system property the {@code ./fql} launcher sets to its checkout's commit. */
    static final String COMMIT_PROPERTY = "fql.git.commit";
    /** What the build writes: the commit the jar was built from (spark-jobs/fql-jobs/pom.xml, maven-antrun-plugin). */
    static final String BUILD_COMMIT_RESOURCE = "build-commit.properties";

    /**
     * The project's commit: FQL_GIT_COMMIT if a user set it, else what the launcher passed ({@code -Dfql.git.commit},
     * its checkout's {@code git rev-parse HEAD}, "-dirty" with uncommitted changes), else the commit the jar was built
     * from, else "unknown". Never a repository found from the working directory, which may be anyone's.
     */
    static String gitCommit() {
        String env = System.getenv("FQL_GIT_COMMIT");
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        String launcher = System.getProperty(COMMIT_PROPERTY);
        if (launcher != null && !launcher.isBlank()) {
            return launcher.trim();
        }
        try (InputStream in = Provenance.class.getResourceAsStream(BUILD_COMMIT_RESOURCE)) {
            if (in != null) {
                Properties props = new Properties();
                props.load(in);
                String built = props.getProperty("git_commit", "").trim();
                if (!built.isEmpty()) {
                    return built;
                }
            }
        } catch (java.io.IOException e) {
            // unknown
        }
        return "unknown";
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
