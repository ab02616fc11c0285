package org.fqlspark.train.peer;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * The per-run secret every peer-averaging connection proves it knows ({@link Handshake}): 32 bytes, made on the driver
 * once per training invocation, and the run id it belongs to.
 *
 * <p>Where it comes from: with {@code spark.authenticate=true} it is derived from Spark's own secret (the driver's
 * {@code SecurityManager}) and the run id, HMAC-SHA256(Spark's secret, "fql-peer-secret-v1" || 0 || run id), so
 * it is no easier to learn than Spark's secret; otherwise it is 32 bytes of {@link SecureRandom}. How it travels: inside
 * the peer stage's task closure (a field of the function Spark serializes into the stage's task binary), never on a
 * command line, in a Spark conf or in a log ({@link #toString()} does not show it). The task binary reaches executors
 * over Spark's own channels, which {@code spark.authenticate} (and {@code spark.network.crypto.enabled}) protect; with
 * Spark's authentication off, whoever can talk to the driver's RPC port can join the application as an executor and
 * receive any closure, this secret included: peer averaging is then exactly as closed as the Spark application is.
 */
public final class PeerAuth implements Serializable {

    private static final long serialVersionUID = 1L;
    static final int SECRET_BYTES = 32;
    private static final String HMAC = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String runId;
    private final byte[] secret;
    /** The first 8 bytes of SHA-256(run id): the run tag every frame carries (not secret). */
    private final long runTag;

    PeerAuth(String runId, byte[] secret) {
        if (secret.length != SECRET_BYTES) {
            throw new IllegalArgumentException("a peer secret has " + SECRET_BYTES + " bytes, not " + secret.length);
        }
        this.runId = runId;
        this.secret = secret.clone();
        this.runTag = tag(runId);
    }

    /**
     * The secret of run {@code runId} on the driver: derived from Spark's secret where {@code spark.authenticate} is on,
     * fresh random bytes otherwise.
     */
    public static PeerAuth forRun(SparkConf conf, String runId) {
        if (conf.getBoolean("spark.authenticate", false)) {
            SparkEnv env = SparkEnv.get();
            String sparkSecret = env == null ? null : env.securityManager().getSecretKey();
            if (sparkSecret == null || sparkSecret.isEmpty()) {
                throw new IllegalStateException("spark.authenticate is on but the driver has no Spark secret to derive the "
                        + "peer-averaging secret from");
            }
            return new PeerAuth(runId, derive(sparkSecret, runId));
        }
        return random(runId);
    }

    /** A fresh random secret for {@code runId}. */
    public static PeerAuth random(String runId) {
        byte[] s = new byte[SECRET_BYTES];
        RANDOM.nextBytes(s);
        return new PeerAuth(runId, s);
    }

    /** HMAC-SHA256(key = Spark's secret, "fql-peer-secret-v1" || 0x00 || run id). */
    static byte[] derive(String sparkSecret, String runId) {
        return hmac(sparkSecret.getBytes(StandardCharsets.UTF_8), ("fql-peer-secret-v1\0" + runId).getBytes(StandardCharsets.UTF_8));
    }

    public String runId() {
        return runId;
    }

    long runTag() {
        return runTag;
    }

    /** HMAC-SHA256 under this run's secret over the concatenation of {@code parts}. */
    byte[] mac(byte[]... parts) {
        try {
            Mac m = Mac.getInstance(HMAC);
            m.init(new SecretKeySpec(secret, HMAC));
            for (byte[] p : parts) {
                m.update(p);
            }
            return m.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }

    /** Constant-time comparison of a received MAC with the expected one. */
    static boolean sameMac(byte[] expected, byte[] received) {
        return MessageDigest.isEqual(expected, received);
    }

    /** A copy with another secret (tests: a client or server that does not know the run's secret). */
    PeerAuth withSecret(byte[] other) {
        return new PeerAuth(runId, other);
    }

    static long tag(String runId) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(runId.getBytes(StandardCharsets.UTF_8));
            long t = 0;
            for (int i = 0; i < 8; i++) {
                t = (t << 8) | (h[i] & 0xff);
            }
            return t;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac m = Mac.getInstance(HMAC);
            m.init(new SecretKeySpec(key, HMAC));
            return m.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }

    /** Equal secrets (tests). */
    boolean sameSecret(PeerAuth o) {
        return Arrays.equals(secret, o.secret);
    }

    @Override
    public String toString() {
        return "PeerAuth[run " + runId + ", secret not shown]";
    }
}
