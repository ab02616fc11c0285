package org.fqlspark.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * One driver at a time on an output directory (a sweep, a training run): {@code _LEASE.json} names the holder and is
 * refreshed every {@link #HEARTBEAT}; a second driver (an Airflow retry while the first still runs) refuses clearly
 * instead of writing, resuming or deleting the first one's in-flight files. A lease whose holder stopped refreshing
 * it for {@link #STALE_AFTER} (a driver that was killed) is taken over; one released normally is deleted.
 *
 * <p>The file is created with create-if-absent, atomic on local disks and HDFS. Object stores have no conditional
 * create in this Hadoop version, so two drivers starting within the same second there could both succeed; the
 * heartbeat check then makes the later one see the other's lease at its next refresh and stop.
 */
public final class Lease implements AutoCloseable {

    public static final String FILE = "_LEASE.json";
    static final Duration HEARTBEAT = Duration.ofSeconds(Long.getLong("fql.lease.heartbeatSeconds", 20));
    static final Duration STALE_AFTER = Duration.ofSeconds(Long.getLong("fql.lease.staleSeconds", 120));
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Another driver holds the directory. */
    public static final class HeldException extends IllegalArgumentException {
        public HeldException(String message) {
            super(message);
        }
    }

    private final FileSystem fs;
    private final Path file;
    private final String id = UUID.randomUUID().toString();
    private final Instant since = Instant.now();
    private final ScheduledExecutorService heartbeat;
    private volatile String lost;

    private boolean createdDir;

    private Lease(FileSystem fs, Path file) {
        this.fs = fs;
        this.file = file;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fql-lease-" + file.getParent().getName());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Takes the lease on {@code dir} for {@code what} ("sweep", "training run").
     *
     * @throws HeldException when another live driver holds it
     */
    public static Lease acquire(FileSystem fs, Path dir, String what) throws IOException {
        Lease lease = new Lease(fs, new Path(dir, FILE));
        lease.createdDir = !fs.exists(dir);
        fs.mkdirs(dir);
        if (!lease.tryCreate()) {
            Map<String, Object> holder = lease.read();
            long age = holder == null ? Long.MAX_VALUE : ageSeconds(holder);
            if (holder != null && age < STALE_AFTER.toSeconds()) {
                throw new HeldException(what + " " + dir + " is in use by another driver (" + holder.get("holder")
                        + ", since " + holder.get("since") + ", lease refreshed " + age + " s ago; " + FILE + "); refused. "
                        + "Wait for it to finish; if that driver is dead, its lease expires " + STALE_AFTER.toSeconds()
                        + " s after its last refresh");
            }
            lease.write(true);   // the holder stopped refreshing: it is gone
        }
        lease.heartbeat.scheduleWithFixedDelay(lease::refresh, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
        return lease;
    }

    /** Fails when the lease was lost to another driver, so the holder stops before writing more. */
    public void check() {
        if (lost != null) throw new HeldException(lost);
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        try {
            Map<String, Object> holder = read();
            if (holder != null && id.equals(holder.get("id"))) fs.delete(file, false);
            // a directory the lease itself made and nothing else wrote to (the command was refused) goes again
            if (createdDir && fs.listStatus(file.getParent()).length == 0) fs.delete(file.getParent(), false);
        } catch (IOException ignored) {
            // an expired lease file is taken over by the next driver
        }
    }

    private void refresh() {
        try {
            Map<String, Object> holder = read();
            if (holder != null && !id.equals(holder.get("id"))) {
                lost = "the lease " + file + " was taken by " + holder.get("holder") + "; this driver stops writing";
                heartbeat.shutdown();
                return;
            }
            write(true);
        } catch (IOException | RuntimeException e) {
            // a refresh that fails now is retried at the next beat; a lease that expires meanwhile can be taken over
        }
    }

    private boolean tryCreate() throws IOException {
        try {
            if (fs.exists(file)) return false;
            write(false);
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            if (fs.exists(file)) return false;
            throw e;
        }
    }

    private void write(boolean overwrite) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("holder", holderName());
        m.put("since", since.toString());
        m.put("refreshed_epoch_ms", System.currentTimeMillis());
        byte[] bytes = JSON.writeValueAsBytes(m);
        if (overwrite) {
            HadoopFiles.replaceAtomically(fs, file, bytes);
        } else {
            try (OutputStream out = fs.create(file, false)) {
                out.write(bytes);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> read() throws IOException {
        try (InputStream in = fs.open(file)) {
            return JSON.readValue(new String(in.readNBytes(1 << 16), StandardCharsets.UTF_8), Map.class);
        } catch (FileNotFoundException e) {
            return null;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            return Map.of("holder", "unknown (unreadable lease file)", "since", "?", "refreshed_epoch_ms", 0L);
        }
    }

    private static long ageSeconds(Map<String, Object> holder) {
        Object ms = holder.get("refreshed_epoch_ms");
        if (!(ms instanceof Number n)) return Long.MAX_VALUE;
        return Math.max(0, (System.currentTimeMillis() - n.longValue()) / 1000);
    }

    private static String holderName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown-host";
        }
        return "pid " + ManagementFactory.getRuntimeMXBean().getPid() + " on " + host;
    }
}
