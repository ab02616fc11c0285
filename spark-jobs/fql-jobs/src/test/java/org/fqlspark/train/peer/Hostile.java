package org.fqlspark.train.peer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;

/**
 * Connections that should be refused, for the hostile-peer tests: each connects to a rendezvous or a task's peer
 * port, misbehaves in one way, and reports how long the other side took to close the connection (and any status it
 * sent before closing). Public so the real-run test in {@code org.fqlspark.train} can use it.
 */
public final class Hostile {

    /** What the attacked side did: closed (or reset) the connection after {@code millis}, having sent {@code reply}. */
    public record Refusal(String attack, boolean closed, long millis, byte[] reply) {

        /** The int32 status the server sent before closing, or null if it sent fewer than four bytes. */
        public Integer status() {
            return reply.length >= 4 ? ByteBuffer.wrap(reply).getInt() : null;
        }

        @Override
        public String toString() {
            return attack + ": " + (closed ? "closed after " + millis + " ms" : "still open after " + millis + " ms") + ", "
                    + reply.length + " bytes back" + (status() != null && reply.length == 4 ? " (status " + status() + ")" : "");
        }
    }

    /** How long an attack waits for the other side to close before calling it not refused. */
    private static final Duration LIMIT = Duration.ofSeconds(20);

    private Hostile() {
    }

    public static final int RENDEZVOUS = Handshake.PURPOSE_RENDEZVOUS;
    public static final int PEER = Handshake.PURPOSE_PEER;

    /** Random bytes instead of a hello. */
    public static Refusal garbage(HostPort to) throws IOException {
        byte[] junk = new byte[Handshake.HELLO_BYTES + 40];
        new Random(7).nextBytes(junk);
        junk[0] = 'X';
        return attack("garbage to " + to, to, s -> s.getOutputStream().write(junk));
    }

    /** A well-formed hello, then a proof made with a secret that is not the run's. */
    public static Refusal wrongSecret(HostPort to, PeerLink link, int purpose, int attempt, int partition) throws IOException {
        PeerAuth wrong = PeerAuth.random(link.auth().runId());
        return attack("wrong secret to " + to, to, s -> {
            byte[] hello = Handshake.hello(new Handshake.Hello(purpose, link.exchange(), attempt, partition), Handshake.nonce());
            s.getOutputStream().write(hello);
            byte[] reply = s.getInputStream().readNBytes(Handshake.REPLY_BYTES);
            if (reply.length == Handshake.REPLY_BYTES) {
                byte[] signed = java.util.Arrays.copyOf(reply, 40);
                s.getOutputStream().write(wrong.mac("FQLP client v1".getBytes(StandardCharsets.US_ASCII), hello, signed));
            }
        });
    }

    /** The run's secret, but a partition (or attempt) the server must not take: refused before it answers. */
    public static Refusal claim(HostPort to, PeerLink link, int purpose, int attempt, int partition) throws IOException {
        return attack("partition " + partition + " of attempt " + attempt + " to " + to, to, s -> {
            s.getOutputStream().write(Handshake.hello(new Handshake.Hello(purpose, link.exchange(), attempt, partition),
                    Handshake.nonce()));
        });
    }

    /** A correct handshake with the rendezvous, then a registration announcing a host of 2^31 - 1 bytes. */
    public static Refusal oversizedRegistration(PeerLink link, int attempt, int partition) throws IOException {
        return attack("oversized registration", link.rendezvous(), s -> {
            handshake(s, link, Handshake.PURPOSE_RENDEZVOUS, attempt, partition, -1);
            s.getOutputStream().write(ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).array());
        });
    }

    /** A correct handshake and registration of a partition the stage attempt has registered already. */
    public static Refusal duplicateRegistration(PeerLink link, int attempt, int partition) throws IOException {
        return attack("second registration of partition " + partition, link.rendezvous(), s -> {
            handshake(s, link, Handshake.PURPOSE_RENDEZVOUS, attempt, partition, -1);
            byte[] host = "127.0.0.1".getBytes(StandardCharsets.UTF_8);
            s.getOutputStream().write(ByteBuffer.allocate(8 + host.length).putInt(host.length).put(host).putInt(9).array());
        });
    }

    /**
     * A connection that sends nothing; {@link Stalled#awaitClosed()} says when the other side gave up on it (watched
     * from the start on a thread of its own, so the time is right however late the test asks).
     */
    public static Stalled stall(HostPort to) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(to.host(), to.port()), 5_000);
        long opened = System.nanoTime();
        String attack = "stalled connection to " + to;
        java.util.concurrent.FutureTask<Refusal> watch = new java.util.concurrent.FutureTask<>(() -> {
            try (Socket socket = s) {
                byte[] reply = readToEnd(socket);
                long ms = (System.nanoTime() - opened) / 1_000_000;
                return new Refusal(attack, ms < LIMIT.toMillis(), ms, reply);
            }
        });
        Thread t = new Thread(watch, "hostile-stall");
        t.setDaemon(true);
        t.start();
        return new Stalled(watch);
    }

    /** An open connection that has sent nothing, watched until the other side closes it. */
    public static final class Stalled {
        private final java.util.concurrent.Future<Refusal> closed;

        private Stalled(java.util.concurrent.Future<Refusal> closed) {
            this.closed = closed;
        }

        /** Waits for the other side to close; the time is counted from the connection's opening. */
        public Refusal awaitClosed() throws IOException {
            try {
                return closed.get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for a stalled connection to be closed", e);
            }
        }
    }

    /** The client's side of a correct handshake (the run's secret). */
    static void handshake(Socket s, PeerLink link, int purpose, int attempt, int partition, int serverPartition) throws IOException {
        Conn c = new Conn(s, () -> false, "the attacked side");
        Handshake.client(c, link.auth(), new Handshake.Hello(purpose, link.exchange(), attempt, partition), serverPartition,
                Conn.deadline(5_000));
        s.setSoTimeout(0);
    }

    private interface Misbehaviour {
        void on(Socket s) throws IOException;
    }

    private static Refusal attack(String name, HostPort to, Misbehaviour m) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(to.host(), to.port()), 5_000);
            long t0 = System.nanoTime();
            try {
                m.on(s);
            } catch (IOException e) {
                // the other side closed while we misbehaved: refused
                return new Refusal(name, true, (System.nanoTime() - t0) / 1_000_000, new byte[0]);
            }
            byte[] reply = readToEnd(s);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            return new Refusal(name, ms < LIMIT.toMillis(), ms, reply);
        }
    }

    /** Everything the other side sends until it closes (or resets) the connection, or {@link #LIMIT} passes. */
    private static byte[] readToEnd(Socket s) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + LIMIT.toNanos();
        s.setSoTimeout(200);
        InputStream in = s.getInputStream();
        byte[] b = new byte[4096];
        while (System.nanoTime() < deadline) {
            try {
                int n = in.read(b);
                if (n < 0) {
                    break;
                }
                got.write(b, 0, n);
            } catch (SocketTimeoutException slice) {
                // keep waiting
            } catch (IOException reset) {
                break;
            }
        }
        return got.toByteArray();
    }
}
