package org.fqlspark.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.hadoop.conf.Configuration;

/**
 * A real S3-compatible server for tests: s3proxy (a separate JVM, from Maven Central, built by the pom into
 * target/test-tools) on a free loopback port, storing objects under a temporary directory, with signed requests.
 * The tests reach it only through 127.0.0.1; it stops with the test class (or the JVM).
 */
public final class S3Server implements AutoCloseable {

    public static final String BUCKET = "fql";
    private static final String KEY = "fqltest";
    private static final String SECRET = "fqltestsecret";

    private final Process process;
    private final int port;
    private final Path log;

    private S3Server(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** The s3proxy jar the pom copies, or null when the build did not provide it. */
    public static Path jar() {
        String p = System.getProperty("fql.s3proxy.jar");
        return p != null && Files.isRegularFile(Path.of(p)) ? Path.of(p) : null;
    }

    public static S3Server start(Path root) throws IOException, InterruptedException {
        Path jar = jar();
        if (jar == null) throw new IllegalStateException("no s3proxy jar (system property fql.s3proxy.jar); run through Maven");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path data = Files.createDirectories(root.resolve("objects").resolve(BUCKET)).getParent();
        Path properties = root.resolve("s3proxy.properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + KEY,
                "s3proxy.credential=" + SECRET,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + data,
                "jclouds.identity=" + KEY,
                "jclouds.credential=" + SECRET, ""));
        Path log = root.resolve("s3proxy.log");
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", jar.toString(), "--properties", properties.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        S3Server server = new S3Server(p, port, log);
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        long deadline = System.nanoTime() + 240_000_000_000L;   // a loaded 2-core box takes tens of seconds to start it
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new IllegalStateException("s3proxy exited: " + Files.readString(log));
            if (server.answers()) return server;
            Thread.sleep(250);
        }
        p.destroyForcibly();
        throw new IllegalStateException("s3proxy did not answer on port " + port + " within 240 s: " + Files.readString(log));
    }

    private boolean answers() {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + "/").openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(2000);
            int code = c.getResponseCode();
            c.disconnect();
            return code > 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** s3a:// settings that reach this server. */
    public void configure(Configuration conf) {
        conf.set("fs.s3a.endpoint", "http://127.0.0.1:" + port);
        conf.set("fs.s3a.endpoint.region", "us-east-1");
        conf.set("fs.s3a.path.style.access", "true");
        conf.set("fs.s3a.connection.ssl.enabled", "false");
        conf.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        conf.set("fs.s3a.access.key", KEY);
        conf.set("fs.s3a.secret.key", SECRET);
        conf.set("fs.s3a.bucket.probe", "0");
        conf.set("fs.s3a.change.detection.version.required", "false");
        // s3proxy does not answer S3's multi-object delete (POST ?delete) here: one DELETE per key instead; and keep
        // directory markers rather than deleting the parents' markers after every write (fewer requests)
        conf.setBoolean("fs.s3a.multiobjectdelete.enable", false);
        conf.set("fs.s3a.directory.marker.retention", "keep");
        conf.set("fs.s3a.connection.timeout", "60000");
        conf.set("fs.s3a.attempts.maximum", "3");
        conf.set("fs.s3a.retry.limit", "3");
        conf.setBoolean("fs.s3a.impl.disable.cache", false);
    }

    public String uri(String key) {
        return "s3a://" + BUCKET + "/" + key;
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
