package org.fqlspark.train.peer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.function.Function;

/**
 * Mutual challenge-response over a fresh connection: each side proves it knows the run's secret ({@link PeerAuth})
 * with an HMAC-SHA256 over the other side's fresh random nonce, so neither a client nor a server that does not know it
 * gets past this, and a recorded exchange cannot be replayed (the other side's nonce is new each time).
 *
 * <pre>
 * client -> server  HELLO  60 bytes: "FQLH", version 1 (int32), purpose (int32: 1 rendezvous, 2 peer),
 *                          exchange id (int64), stage attempt (int32), partition (int32: who the client is),
 *                          client nonce (32 random bytes)
 * server -> client  REPLY  72 bytes: "FQLS", server partition (int32; -1 for the rendezvous), server nonce (32),
 *                          MAC_s = HMAC(secret, "FQLP server v1" || HELLO || the reply's first 40 bytes)
 * client -> server  PROOF  32 bytes: MAC_c = HMAC(secret, "FQLP client v1" || HELLO || the reply's first 40 bytes)
 * </pre>
 * Integers are big-endian. The server checks the hello's magic, version, purpose, exchange, attempt and partition
 * before it answers (a stranger gets nothing but a closed socket), the client checks MAC_s and the server's partition
 * before it proves itself, the server checks MAC_c. The two labels differ, so no side's MAC is ever a valid answer
 * for the other side (no reflection). Whatever follows (a registration, frames) is the caller's; a refusal is a closed
 * socket.
 */
final class Handshake {

    static final int PURPOSE_RENDEZVOUS = 1;
    static final int PURPOSE_PEER = 2;
    static final int HELLO_BYTES = 60;
    static final int REPLY_BYTES = 72;
    static final int PROOF_BYTES = 32;
    private static final int VERSION = 1;
    private static final int NONCE_BYTES = 32;
    private static final byte[] HELLO_MAGIC = {'F', 'Q', 'L', 'H'};
    private static final byte[] REPLY_MAGIC = {'F', 'Q', 'L', 'S'};
    private static final byte[] SERVER_LABEL = "FQLP server v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT_LABEL = "FQLP client v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private Handshake() {
    }

    /** What a client says it is: the purpose of its connection, its stage's exchange and attempt, its partition. */
    record Hello(int purpose, long exchange, int attempt, int partition) {
    }

    /** The client's side; returns normally once both sides have proved themselves. */
    static void client(Conn c, PeerAuth auth, Hello hello, int serverPartition, long deadline) throws IOException {
        byte[] h = hello(hello, nonce());
        c.write(h);
        byte[] reply = c.readFully(REPLY_BYTES, deadline, Conn.NEVER, "the handshake");
        ByteBuffer r = ByteBuffer.wrap(reply);
        if (!startsWith(reply, REPLY_MAGIC)) {
            throw new Conn.PeerException(c.peer() + " does not speak the peer protocol");
        }
        r.position(4);
        int theirs = r.getInt();
        byte[] signed = slice(reply, 0, 40);
        if (!PeerAuth.sameMac(auth.mac(SERVER_LABEL, h, signed), slice(reply, 40, 32))) {
            throw new Conn.PeerException(c.peer() + " does not know this run's secret");
        }
        if (theirs != serverPartition) {
            throw new Conn.PeerException(c.peer() + " is partition " + theirs + ", expected " + serverPartition);
        }
        c.write(auth.mac(CLIENT_LABEL, h, signed));
    }

    /**
     * The server's side: reads the hello, refuses it where {@code refusal} names a reason (or where it is not a hello of
     * this {@code purpose} and {@code exchange}), proves itself as {@code serverPartition}, checks the client's proof.
     * Returns the authenticated hello; throws {@link Conn.PeerException} naming the reason for a refusal.
     */
    static Hello server(Conn c, PeerAuth auth, int purpose, long exchange, int serverPartition, Function<Hello, String> refusal,
            long deadline) throws IOException {
        byte[] h = c.readFully(HELLO_BYTES, deadline, Conn.NEVER, "the handshake");
        ByteBuffer b = ByteBuffer.wrap(h);
        if (!startsWith(h, HELLO_MAGIC)) {
            throw new Conn.PeerException("not a peer-protocol hello");
        }
        b.position(4);
        int version = b.getInt();
        if (version != VERSION) {
            throw new Conn.PeerException("protocol version " + version + ", this side speaks " + VERSION);
        }
        Hello hello = new Hello(b.getInt(), b.getLong(), b.getInt(), b.getInt());
        if (hello.purpose() != purpose) {
            throw new Conn.PeerException("a connection for purpose " + hello.purpose() + ", this is " + purpose);
        }
        if (hello.exchange() != exchange) {
            throw new Conn.PeerException("a connection for another stage");
        }
        String why = refusal.apply(hello);
        if (why != null) {
            throw new Conn.PeerException(why);
        }
        ByteBuffer reply = ByteBuffer.allocate(REPLY_BYTES);
        reply.put(REPLY_MAGIC).putInt(serverPartition).put(nonce());
        byte[] signed = slice(reply.array(), 0, 40);
        reply.put(auth.mac(SERVER_LABEL, h, signed));
        c.write(reply.array());
        byte[] proof = c.readFully(PROOF_BYTES, deadline, Conn.NEVER, "the handshake");
        if (!PeerAuth.sameMac(auth.mac(CLIENT_LABEL, h, signed), proof)) {
            throw new Conn.PeerException("wrong proof: the client does not know this run's secret");
        }
        return hello;
    }

    static byte[] hello(Hello hello, byte[] nonce) {
        return ByteBuffer.allocate(HELLO_BYTES).put(HELLO_MAGIC).putInt(VERSION).putInt(hello.purpose()).putLong(hello.exchange())
                .putInt(hello.attempt()).putInt(hello.partition()).put(nonce).array();
    }

    static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    private static boolean startsWith(byte[] b, byte[] magic) {
        for (int i = 0; i < magic.length; i++) {
            if (b[i] != magic[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] slice(byte[] b, int off, int len) {
        byte[] s = new byte[len];
        System.arraycopy(b, off, s, 0, len);
        return s;
    }
}
