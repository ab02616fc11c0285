package org.fqlspark.train.peer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The mutual challenge-response of every peer-averaging connection, over real loopback sockets. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HandshakeTest {

    private static final long EXCHANGE = 0x5eed_cafeL;
    private static final byte[] CLIENT_LABEL = "FQLP client v1".getBytes(StandardCharsets.US_ASCII);
    private final PeerAuth auth = PeerAuth.random("run-a");
    private ServerSocket server;

    @BeforeEach
    void listen() throws IOException {
        server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    /** Runs the server side of one handshake as partition 3 that takes clients of partition 5 in attempt 0. */
    private CompletableFuture<Handshake.Hello> serveOnce(PeerAuth serverAuth, long deadlineMillis) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = server.accept()) {
                Conn c = new Conn(s, () -> false, "client");
                return Handshake.server(c, serverAuth, Handshake.PURPOSE_PEER, EXCHANGE, 3,
                        h -> h.partition() == 5 && h.attempt() == 0 ? null : "partition " + h.partition(), Conn.deadline(deadlineMillis));
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    private Conn dial() throws IOException {
        Socket s = new Socket();
        s.connect(server.getLocalSocketAddress(), 2_000);
        return new Conn(s, () -> false, "server");
    }

    @Test
    void theRightSecretIsAcceptedBothWays() throws Exception {
        CompletableFuture<Handshake.Hello> served = serveOnce(auth, 5_000);
        try (Conn c = dial()) {
            Handshake.client(c, auth, new Handshake.Hello(Handshake.PURPOSE_PEER, EXCHANGE, 0, 5), 3, Conn.deadline(5_000));
        }
        assertEquals(new Handshake.Hello(Handshake.PURPOSE_PEER, EXCHANGE, 0, 5), served.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aClientWithoutTheSecretIsRefused() throws Exception {
        CompletableFuture<Handshake.Hello> served = serveOnce(auth, 5_000);
        PeerAuth wrong = PeerAuth.random("run-a");
        // A client with the wrong secret finds that the server's proof does not check and stops before proving itself...
        try (Conn c = dial()) {
            IOException e = assertThrows(IOException.class, () -> Handshake.client(c, wrong,
                    new Handshake.Hello(Handshake.PURPOSE_PEER, EXCHANGE, 0, 5), 3, Conn.deadline(5_000)));
            assertTrue(e.getMessage().contains("does not know this run's secret"), e.getMessage());
        }
        ExecutionException refused = assertThrows(ExecutionException.class, () -> served.get(5, TimeUnit.SECONDS));
        assertTrue(refused.getCause() instanceof IOException, String.valueOf(refused.getCause()));
        // ... and one that answers anyway, with an HMAC under its own key, is refused by the server.
        CompletableFuture<Handshake.Hello> again = serveOnce(auth, 5_000);
        Hostile.Refusal r = Hostile.wrongSecret(HostPort.of((InetSocketAddress) server.getLocalSocketAddress()),
                new PeerLink(new HostPort("127.0.0.1", 1), auth, EXCHANGE, 8, PeerSettings.DEFAULTS), Handshake.PURPOSE_PEER, 0, 5);
        assertTrue(r.closed() && r.millis() < 2_000, r.toString());
        ExecutionException e = assertThrows(ExecutionException.class, () -> again.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("wrong proof"), e.getCause().getMessage());
    }

    @Test
    void aServerWithoutTheSecretCannotPassForTheRendezvousOrAPeer() throws Exception {
        CompletableFuture<Handshake.Hello> rogue = serveOnce(PeerAuth.random("run-a"), 5_000);
        try (Conn c = dial()) {
            IOException e = assertThrows(IOException.class, () -> Handshake.client(c, auth,
                    new Handshake.Hello(Handshake.PURPOSE_PEER, EXCHANGE, 0, 5), 3, Conn.deadline(5_000)));
            assertTrue(e.getMessage().contains("does not know this run's secret"), e.getMessage());
        }
        // the client never proved itself to the rogue server: it saw the stream end instead of a proof
        ExecutionException e = assertThrows(ExecutionException.class, () -> rogue.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof java.io.EOFException, String.valueOf(e.getCause()));
    }

    @Test
    void aServerOfAnotherPartitionIsRefusedByTheClient() throws Exception {
        serveOnce(auth, 5_000);
        try (Conn c = dial()) {
            IOException e = assertThrows(IOException.class, () -> Handshake.client(c, auth,
                    new Handshake.Hello(Handshake.PURPOSE_PEER, EXCHANGE, 0, 5), 4, Conn.deadline(5_000)));
            assertTrue(e.getMessage().contains("is partition 3, expected 4"), e.getMessage());
        }
    }

    /** A recorded client proof does not open a second connection: the server's nonce is new each time. */
    @Test
    void aReplayedProofIsRefused() throws Exception {
        byte[] hello = Handshake.hello(new Handshake.Hello(Handshake.PURPOSE_PEER, EXCHANGE, 0, 5), Handshake.nonce());
        CompletableFuture<Handshake.Hello> first = serveOnce(auth, 5_000);
        byte[] reply1;
        byte[] proof;
        try (Socket s = new Socket()) {
            s.connect(server.getLocalSocketAddress(), 2_000);
            s.getOutputStream().write(hello);
            reply1 = s.getInputStream().readNBytes(Handshake.REPLY_BYTES);
            proof = auth.mac(CLIENT_LABEL, hello, Arrays.copyOf(reply1, 40));
            s.getOutputStream().write(proof);
            assertEquals(new Handshake.Hello(Handshake.PURPOSE_PEER, EXCHANGE, 0, 5), first.get(5, TimeUnit.SECONDS));
        }
        CompletableFuture<Handshake.Hello> second = serveOnce(auth, 5_000);
        try (Socket s = new Socket()) {
            s.connect(server.getLocalSocketAddress(), 2_000);
            s.getOutputStream().write(hello);   // the same hello, the same nonce
            byte[] reply2 = s.getInputStream().readNBytes(Handshake.REPLY_BYTES);
            assertFalse(Arrays.equals(Arrays.copyOfRange(reply1, 8, 40), Arrays.copyOfRange(reply2, 8, 40)),
                    "the server's nonce must be fresh");
            s.getOutputStream().write(proof);   // the recorded proof
            assertEquals(-1, s.getInputStream().read(), "the server must close the connection");
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> second.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("wrong proof"), e.getCause().getMessage());
    }

    @Test
    void helloOfAnotherStageAttemptPartitionOrPurposeIsRefusedBeforeTheServerAnswers() throws Exception {
        HostPort at = HostPort.of((InetSocketAddress) server.getLocalSocketAddress());
        PeerLink link = new PeerLink(new HostPort("127.0.0.1", 1), auth, EXCHANGE, 8, PeerSettings.DEFAULTS);
        PeerLink otherStage = new PeerLink(new HostPort("127.0.0.1", 1), auth, EXCHANGE + 1, 8, PeerSettings.DEFAULTS);
        for (Object[] c : new Object[][] {{link, Handshake.PURPOSE_PEER, 1, 5, "partition 5"},
                {link, Handshake.PURPOSE_PEER, 0, 6, "partition 6"}, {link, Handshake.PURPOSE_RENDEZVOUS, 0, 5, "purpose"},
                {otherStage, Handshake.PURPOSE_PEER, 0, 5, "another stage"}}) {
            CompletableFuture<Handshake.Hello> served = serveOnce(auth, 5_000);
            Hostile.Refusal r = Hostile.claim(at, (PeerLink) c[0], (int) c[1], (int) c[2], (int) c[3]);
            assertTrue(r.closed() && r.millis() < 2_000 && r.reply().length == 0, r.toString());
            ExecutionException e = assertThrows(ExecutionException.class, () -> served.get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains((String) c[4]), e.getCause().getMessage());
        }
        CompletableFuture<Handshake.Hello> served = serveOnce(auth, 5_000);
        Hostile.Refusal r = Hostile.garbage(at);
        assertTrue(r.closed() && r.millis() < 2_000 && r.reply().length == 0, r.toString());
        ExecutionException e = assertThrows(ExecutionException.class, () -> served.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("not a peer-protocol hello"), e.getCause().getMessage());
    }

    @Test
    void aSilentClientIsDroppedAtTheDeadline() throws Exception {
        CompletableFuture<Handshake.Hello> served = serveOnce(auth, 700);
        Hostile.Stalled stalled = Hostile.stall(HostPort.of((InetSocketAddress) server.getLocalSocketAddress()));
        Hostile.Refusal r = stalled.awaitClosed();
        assertTrue(r.closed() && r.millis() >= 600 && r.millis() < 3_000, r.toString());
        ExecutionException e = assertThrows(ExecutionException.class, () -> served.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("deadline"), e.getCause().getMessage());
    }

    @Test
    void theSecretIsDerivedFromSparksWhereSparkAuthenticatesAndRandomOtherwise() {
        byte[] a = PeerAuth.derive("spark-secret", "run-1");
        assertArrayEquals(a, PeerAuth.derive("spark-secret", "run-1"));
        assertFalse(Arrays.equals(a, PeerAuth.derive("spark-secret", "run-2")), "another run, another secret");
        assertFalse(Arrays.equals(a, PeerAuth.derive("other-secret", "run-1")), "another Spark secret, another secret");
        assertEquals(32, a.length);
        SparkConf plain = new SparkConf(false);
        PeerAuth one = PeerAuth.forRun(plain, "run-1");
        PeerAuth two = PeerAuth.forRun(plain, "run-1");
        assertFalse(one.sameSecret(two), "without spark.authenticate every run draws its own secret");
        assertTrue(one.toString().endsWith("secret not shown]"), one.toString());
        String link = new PeerLink(new HostPort("127.0.0.1", 1), one, 1, 2, PeerSettings.DEFAULTS).toString();
        assertTrue(link.contains("secret not shown") && !link.contains("[B@"), link);
        assertNotEquals(PeerAuth.tag("run-1"), PeerAuth.tag("run-2"));
        IllegalStateException noSecret = assertThrows(IllegalStateException.class,
                () -> PeerAuth.forRun(new SparkConf(false).set("spark.authenticate", "true"), "run-1"));
        assertTrue(noSecret.getMessage().contains("spark.authenticate"), noSecret.getMessage());
    }

    @Test
    void hostsAndPortsAreWrittenAndReadIpv6Safely() {
        assertEquals("[::1]:7077", new HostPort("::1", 7077).toString());
        assertEquals(new HostPort("::1", 7077), HostPort.parse("[::1]:7077"));
        assertEquals(new HostPort("fe80::1%eth0", 80), HostPort.parse("[fe80::1%eth0]:80"));
        assertEquals(new HostPort("10.0.0.2", 5), HostPort.parse("10.0.0.2:5"));
        assertEquals(new HostPort("driver.example", 4040), HostPort.parse("driver.example:4040"));
        assertEquals(new HostPort("::1", 9), new HostPort("[::1]", 9));
        for (String bad : new String[] {"::1:7077", "[::1]7077", "host", "host:", "host:0", "host:70000", ":80"}) {
            assertThrows(IllegalArgumentException.class, () -> HostPort.parse(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> new HostPort("x".repeat(256), 80));
    }
}
