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
 * <p>The lease records where its holder runs: the host, the pid, the process's start time, and the pid space (this
 * boot of the kernel and the pid namespace, where the system tells them), since a pid names a process only there. A
 * lease whose holder ran here, in the same pid space, and whose process is gone (no such pid, or the pid now belongs
 * to a process started at another time) is taken over at once, saying so: a driver killed with SIGKILL and resumed
 * at once is not kept waiting. A holder on another host, or one whose liveness cannot be told, keeps the lease until
 * it is {@link #STALE_AFTER} old.
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
        return acquire(fs, dir, what, note -> System.err.println("fql: " + note));
    }

    /**
     * Takes the lease on {@code dir} for {@code what}, telling {@code notice} when it takes over one whose holder is
     * gone.
     *
     * @throws HeldException when another live driver holds it
     */
    public static Lease acquire(FileSystem fs, Path dir, String what, java.util.function.Consumer<String> notice)
            throws IOException {
        Lease lease = new Lease(fs, new Path(dir, FILE));
        lease.createdDir = !fs.exists(dir);
        fs.mkdirs(dir);
        if (!lease.tryCreate()) {
            Map<String, Object> holder = lease.read();
            long age = holder == null ? Long.MAX_VALUE : ageSeconds(holder);
            String gone = holder == null ? null : goneFromThisHost(holder);
            if (holder != null && age < STALE_AFTER.toSeconds() && gone == null) {
                throw new HeldException(what + " " + dir + " is in use by another driver (" + holder.get("holder")
                        + ", since " + holder.get("since") + ", lease refreshed " + age + " s ago; " + FILE + "); refused. "
                        + "Wait for it to finish; if that driver is dead, its lease expires " + STALE_AFTER.toSeconds()
                        + " s after its last refresh");
            }
            lease.write(true);   // the holder is gone: its process ended, or it stopped refreshing
            if (holder != null) {
                notice.accept("the lease " + FILE + " on " + what + " " + dir + " was taken over: " + (gone != null
                        ? "its holder (" + holder.get("holder") + ") ran on this host and is no longer running" + gone
                        : "its holder (" + holder.get("holder") + ") had not refreshed it for " + (age == Long.MAX_VALUE
                                ? "an unknown time" : age + " s")));
            }
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
        m.put("host", HOST);
        m.put("pid", ProcessHandle.current().pid());
        START.ifPresent(t -> m.put("process_start_epoch_ms", t.toEpochMilli()));
        if (PID_SPACE != null) m.put("pid_space", PID_SPACE);
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
        return "pid " + ManagementFactory.getRuntimeMXBean().getPid() + " on " + HOST;
    }

    private static final String HOST = hostName();
    private static final java.util.Optional<Instant> START = ProcessHandle.current().info().startInstant();
    private static final String PID_SPACE = pidSpace();

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }

    /**
     * Where a pid names one process: this boot of the kernel and this pid namespace (Linux tells both; two containers
     * on one host can share a host name and reuse each other's pids). Null where the system does not tell.
     */
    private static String pidSpace() {
        try {
            String boot = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/random/boot_id")).trim();
            String namespace = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/ns/pid")).toString();
            return boot + " " + namespace;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Null unless the lease's holder ran on this host, in this pid space, and its process is gone; then how we know
     * (an empty string when its pid is not running; the start times when the pid is now another process's).
     */
    static String goneFromThisHost(Map<String, Object> holder) {
        if (!HOST.equals(holder.get("host")) || !java.util.Objects.equals(PID_SPACE, holder.get("pid_space"))
                || !(holder.get("pid") instanceof Number pid)) {
            return null;   // another host (or a lease written before these keys): only its age tells
        }
        java.util.Optional<ProcessHandle> process = ProcessHandle.of(pid.longValue());
        if (process.isEmpty() || !process.get().isAlive()) {
            return "";
        }
        if (holder.get("process_start_epoch_ms") instanceof Number started) {
            java.util.Optional<Instant> now = process.get().info().startInstant();
            if (now.isPresent() && Math.abs(now.get().toEpochMilli() - started.longValue()) > 1000) {
                return " (pid " + pid + " is now another process, started " + now.get() + "; the holder started "
                        + Instant.ofEpochMilli(started.longValue()) + ")";
            }
        }
        return null;   // the same process, alive: it holds the lease
    }
}
