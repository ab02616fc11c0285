package org.fqlspark.train.peer;

import java.io.Serializable;
import java.util.function.BiFunction;

import org.apache.spark.network.util.JavaUtils;
import org.apache.spark.sql.SparkSession;

/**
 * The peer exchange's time limits, read on the driver from the session's configuration (a {@code --conf} at submit
 * time, or {@code spark.conf.set} before the run) and shipped to the tasks with the stage. Values are Spark time strings
 * ({@code 30s}, {@code 2min}, {@code 500ms}).
 *
 * @param timeoutMillis   {@value #TIMEOUT}: how long a task waits on a peer that sends nothing at all (a peer that is
 *                        computing sends a heartbeat every {@link #heartbeatMillis()}, so a slow peer is not a silent
 *                        one), and for its peers to connect once the rendezvous has answered. Past it the task fails,
 *                        which fails the barrier stage, and Spark runs the stage again. Default 30 s.
 * @param handshakeMillis {@value #HANDSHAKE_TIMEOUT}: how long one incoming connection (to the rendezvous or to a task)
 *                        may take to prove itself and say what it wants; a connection that sends nothing is closed then.
 *                        Default 10 s.
 * @param gatherMillis    {@value #GATHER_TIMEOUT}: how long a task that registered with the rendezvous waits for the
 *                        other tasks of its stage attempt to register (a task that reloads a lost shard starts late). A
 *                        stage Spark kills ends the wait at once, whatever this says. Default 5 min.
 * @param tls             TLS on every connection of the exchange, or null for plain TCP (the default). {@value #TLS}:
 *                        {@code auto} (the default) follows Spark's {@value PeerTls#ENABLED}, {@code true} turns it on
 *                        whatever that says, {@code false} turns it off. Where it is on, the stores and the protocol are
 *                        Spark's {@code spark.ssl.*} settings ({@link PeerTls}), read and checked here, on the driver:
 *                        a missing or unreadable store or a wrong password fails the run at once, naming the setting.
 */
public record PeerSettings(long timeoutMillis, long handshakeMillis, long gatherMillis, PeerTls tls) implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final String TIMEOUT = "spark.fql.peer.timeout";
    public static final String HANDSHAKE_TIMEOUT = "spark.fql.peer.handshakeTimeout";
    public static final String GATHER_TIMEOUT = "spark.fql.peer.gatherTimeout";
    public static final String TLS = "spark.fql.peer.tls";
    public static final PeerSettings DEFAULTS = new PeerSettings(30_000, 10_000, 300_000);

    public PeerSettings {
        if (timeoutMillis < 1 || handshakeMillis < 1 || gatherMillis < 1) {
            throw new IllegalArgumentException("peer timeouts must be positive: " + timeoutMillis + " ms, " + handshakeMillis
                    + " ms, " + gatherMillis + " ms");
        }
    }

    /** Plain TCP connections with these limits. */
    public PeerSettings(long timeoutMillis, long handshakeMillis, long gatherMillis) {
        this(timeoutMillis, handshakeMillis, gatherMillis, null);
    }

    /** The settings of {@code spark}'s configuration, defaults where a key is not set. */
    public static PeerSettings of(SparkSession spark) {
        return of((key, fallback) -> spark.conf().get(key, fallback));
    }

    static PeerSettings of(BiFunction<String, String, String> conf) {
        return new PeerSettings(millis(conf, TIMEOUT, DEFAULTS.timeoutMillis), millis(conf, HANDSHAKE_TIMEOUT, DEFAULTS.handshakeMillis),
                millis(conf, GATHER_TIMEOUT, DEFAULTS.gatherMillis), tlsOn(conf) ? PeerTls.of(conf) : null);
    }

    /** Whether {@value #TLS} (or, where it is {@code auto}, Spark's {@value PeerTls#ENABLED}) turns TLS on. */
    private static boolean tlsOn(BiFunction<String, String, String> conf) {
        String mode = conf.apply(TLS, "auto").trim().toLowerCase(java.util.Locale.ROOT);
        return switch (mode) {
            case "true" -> true;
            case "false" -> false;
            case "auto" -> {
                String spark = conf.apply(PeerTls.ENABLED, "false").trim().toLowerCase(java.util.Locale.ROOT);
                if (!spark.equals("true") && !spark.equals("false")) {
                    throw new IllegalArgumentException(PeerTls.ENABLED + " must be true or false, was '" + spark + "'");
                }
                yield spark.equals("true");
            }
            default -> throw new IllegalArgumentException(TLS + " must be auto, true or false, was '" + mode + "'");
        };
    }

    /** Heartbeats while a task computes: five per timeout, at least every 5 s, at most every 50 ms. */
    public long heartbeatMillis() {
        return Math.max(50, Math.min(5_000, timeoutMillis / 5));
    }

    private static long millis(BiFunction<String, String, String> conf, String key, long fallback) {
        String v = conf.apply(key, fallback + "ms");
        try {
            long ms = JavaUtils.timeStringAsMs(v.trim());
            if (ms < 1) {
                throw new IllegalArgumentException(key + " must be positive, was '" + v + "'");
            }
            return ms;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a time such as 30s or 2min, was '" + v + "'", e);
        }
    }
}
