package org.fqlspark.train.peer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The exchange and the rendezvous without Spark: W = 3 tasks in threads of this JVM, some of them played by the test
 * itself so that it can misbehave at exactly the step it wants. Time limits are short (timeout 1.5 s, handshake 1 s)
 * so that every refusal and every give-up can be timed.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeerExchangeTest {

    private static final PeerSettings FAST = new PeerSettings(1_500, 1_000, 10_000);
    private static final long EXCHANGE = 99L;
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private final PeerAuth auth = PeerAuth.random("run-exchange");
    private final TrainingState shape = StateFramesTest.outcome(0, 0, null).state();
    private final StateFrames.Expect expect = StateFrames.Expect.of(auth, EXCHANGE, 0, shape);

    static <T> CompletableFuture<T> async(java.util.concurrent.Callable<T> c) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return c.call();
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
    }

    static void assertBitsEqual(WorkerOutcome a, WorkerOutcome b) {
        assertEquals(a.worker(), b.worker());
        assertEquals(a.state().step(), b.state().step());
        for (int k = 0; k < 4; k++) {
            float[] x = a.state().arrays()[k];
            float[] y = b.state().arrays()[k];
            assertEquals(x.length, y.length);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), "array " + k + "[" + i + "]");
            }
        }
        assertArrayEquals(a.metrics().sums(), b.metrics().sums());
    }

    /** Three real tasks, two rounds; in the second, task 2 computes three timeouts long and its heartbeats keep it in. */
    @Test
    void threeTasksExchangeTheirStatesAndAStragglerIsNotTakenForDead() throws Exception {
        try (Rendezvous rv = Rendezvous.open(LOOPBACK, LOOPBACK, 3, auth, EXCHANGE, FAST)) {
            List<List<List<WorkerOutcome>>> all = twoRounds(rv.link(), expect, 3 * FAST.timeoutMillis());
            for (List<List<WorkerOutcome>> got : all) {
                for (int j = 0; j < 3; j++) {
                    assertBitsEqual(StateFramesTest.outcome(j, 10, null), got.get(0).get(j));
                }
                assertEquals(20, got.get(1).get(0).state().step());
            }
        }
    }

    /**
     * Three real tasks of {@code link}'s stage in threads, two rounds (the states of {@link StateFramesTest#outcome} at
     * steps 10 and 20); task 2 computes {@code stragglerMillis} between them. What each task received, by round.
     */
    static List<List<List<WorkerOutcome>>> twoRounds(PeerLink link, StateFrames.Expect expect, long stragglerMillis)
            throws Exception {
        List<CompletableFuture<List<List<WorkerOutcome>>>> tasks = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            int me = p;
            tasks.add(async(() -> {
                List<List<WorkerOutcome>> got = new ArrayList<>();
                try (PeerExchange x = PeerExchange.connect(link, me, 0, () -> false, expect)) {
                    got.add(x.exchange(StateFramesTest.outcome(me, 10, null), 0));
                    if (me == 2) {
                        Thread.sleep(stragglerMillis);
                    }
                    got.add(x.exchange(StateFramesTest.outcome(me, 20, null), 1));
                    x.finish();
                }
                return got;
            }));
        }
        List<List<List<WorkerOutcome>>> all = new ArrayList<>();
        for (CompletableFuture<List<List<WorkerOutcome>>> t : tasks) {
            all.add(t.get(60, TimeUnit.SECONDS));
        }
        return all;
    }

    /** Task 0 is real; partitions 1 and 2 are played by the test, which also attacks task 0's port. */
    @Test
    void hostileConnectionsToATaskAreRefusedAndAnOversizedFrameFailsTheExchange() throws Exception {
        try (Rendezvous rv = Rendezvous.open(LOOPBACK, LOOPBACK, 3, auth, EXCHANGE, FAST)) {
            PeerLink link = rv.link();
            List<String> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();
            PeerProbe.install(new PeerProbe.Listener() {
                @Override
                public void refused(String where, String reason) {
                    refusals.add(where + ": " + reason);
                }
            });
            try (ServerSocket fake1 = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                    ServerSocket fake2 = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                CompletableFuture<PeerExchange> task0 = async(() -> PeerExchange.connect(link, 0, 0, () -> false, expect));
                CompletableFuture<HostPort[]> g1 = async(() -> Rendezvous.gather(link, 0, 1, new HostPort(LOOPBACK, fake1.getLocalPort()),
                        () -> false));
                CompletableFuture<HostPort[]> g2 = async(() -> Rendezvous.gather(link, 0, 2, new HostPort(LOOPBACK, fake2.getLocalPort()),
                        () -> false));
                HostPort at0 = g1.get(10, TimeUnit.SECONDS)[0];
                assertEquals(at0, g2.get(10, TimeUnit.SECONDS)[0]);

                Hostile.Stalled stalled = Hostile.stall(at0);
                List<Hostile.Refusal> refused = new ArrayList<>(List.of(
                        Hostile.garbage(at0),
                        Hostile.wrongSecret(at0, link, Hostile.PEER, 0, 1),
                        Hostile.claim(at0, link, Hostile.PEER, 0, 0),     // itself
                        Hostile.claim(at0, link, Hostile.PEER, 0, 3),     // out of range
                        Hostile.claim(at0, link, Hostile.PEER, 0, -1),
                        Hostile.claim(at0, link, Hostile.PEER, 1, 1),     // another stage attempt
                        Hostile.claim(at0, link, Hostile.RENDEZVOUS, 0, 1)));
                Conn one = join(at0, link, 1);
                refused.add(duplicate(at0, link, 1));
                for (Hostile.Refusal r : refused) {
                    assertTrue(r.closed() && r.millis() < 2_000, r.toString());
                }
                assertEquals(Rendezvous.DUPLICATE, refused.get(refused.size() - 1).status(), refused.toString());
                Conn two = join(at0, link, 2);
                PeerExchange x = task0.get(10, TimeUnit.SECONDS);
                Hostile.Refusal silent = stalled.awaitClosed();   // dropped at the handshake limit, not when the task closes
                assertTrue(silent.closed() && silent.millis() < FAST.handshakeMillis() + 2_000, silent.toString());
                try {
                    // round 0 goes through
                    CompletableFuture<List<WorkerOutcome>> round0 = async(() -> x.exchange(StateFramesTest.outcome(0, 10, null), 0));
                    assertBitsEqual(StateFramesTest.outcome(0, 10, null), StateFrames.readState(one, expect, 0, 0, 5_000));
                    assertBitsEqual(StateFramesTest.outcome(0, 10, null), StateFrames.readState(two, expect, 0, 0, 5_000));
                    one.write(StateFrames.state(expect, 1, 0, StateFramesTest.outcome(1, 10, null)));
                    two.write(StateFrames.state(expect, 2, 0, StateFramesTest.outcome(2, 10, null)));
                    List<WorkerOutcome> all = round0.get(10, TimeUnit.SECONDS);
                    assertBitsEqual(StateFramesTest.outcome(2, 10, null), all.get(2));

                    // round 1: partition 1 announces a 2 GiB frame; the exchange fails at once, allocating nothing
                    CompletableFuture<List<WorkerOutcome>> round1 = async(() -> x.exchange(StateFramesTest.outcome(0, 20, null), 1));
                    byte[] huge = StateFrames.heartbeat(expect, 1);
                    ByteBuffer.wrap(huge).putShort(6, StateFrames.TYPE_STATE).putInt(28, 1).putInt(36, Integer.MAX_VALUE);
                    one.write(huge);
                    long t0 = System.nanoTime();
                    ExecutionException e = assertThrows(ExecutionException.class, () -> round1.get(10, TimeUnit.SECONDS));
                    assertTrue((System.nanoTime() - t0) / 1_000_000 < 2_000);
                    assertTrue(e.getCause().getCause().getMessage().contains("a state frame of 2147483647 bytes"),
                            e.getCause().getCause().getMessage());
                } finally {
                    x.close();
                    one.close();
                    two.close();
                }
            } finally {
                PeerProbe.install(null);
            }
            String all = String.join("\n", refusals);
            for (String reason : new String[] {"not a peer-protocol hello", "wrong proof", "partition 0 may not connect",
                    "partition 3 may not connect", "partition -1 may not connect", "stage attempt 1", "purpose 1",
                    "partition 1 is connected already", "deadline"}) {
                assertTrue(all.contains(reason), reason + " not among the refusals:\n" + all);
            }
        }
    }

    /** The test as partition {@code me}: connects to a real task and is admitted. */
    private static Conn join(HostPort task, PeerLink link, int me) throws IOException {
        Socket s = new Socket(task.host(), task.port());
        Conn c = new Conn(s, () -> false, "partition 0");
        Handshake.client(c, link.auth(), new Handshake.Hello(Handshake.PURPOSE_PEER, link.exchange(), 0, me), 0, Conn.deadline(5_000));
        assertEquals(0, Rendezvous.readInt(c, Conn.deadline(5_000), "the status"));
        return c;
    }

    /** The right secret, a partition that is connected already: the task answers status 1 and closes. */
    private static Hostile.Refusal duplicate(HostPort task, PeerLink link, int partition) throws IOException {
        try (Socket s = new Socket(task.host(), task.port())) {
            Hostile.handshake(s, link, Handshake.PURPOSE_PEER, 0, partition, 0);
            long t0 = System.nanoTime();
            byte[] reply = s.getInputStream().readAllBytes();
            return new Hostile.Refusal("second connection of partition " + partition, true, (System.nanoTime() - t0) / 1_000_000, reply);
        }
    }

    /** A peer whose host vanished: connected, then nothing at all, no heartbeat, no close. */
    @Test
    void aPeerThatFallsSilentFailsTheExchangeAfterTheTimeoutNotTenMinutes() throws Exception {
        try (Rendezvous rv = Rendezvous.open(LOOPBACK, LOOPBACK, 2, auth, EXCHANGE, FAST);
                ServerSocket fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            PeerLink link = rv.link();
            CompletableFuture<PeerExchange> task0 = async(() -> PeerExchange.connect(link, 0, 0, () -> false, expect));
            HostPort at0 = Rendezvous.gather(link, 0, 1, new HostPort(LOOPBACK, fake.getLocalPort()), () -> false)[0];
            try (Conn silent = join(at0, link, 1); PeerExchange x = task0.get(10, TimeUnit.SECONDS)) {
                long t0 = System.nanoTime();
                UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> x.exchange(StateFramesTest.outcome(0, 1, null), 0));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(e.getMessage().contains("sent nothing for 1500 ms"), e.getMessage());
                assertTrue(ms >= 1_400 && ms < 4_000, ms + " ms");
            }
        }
    }

    /**
     * The rendezvous: strangers, a wrong secret, out-of-range partitions, an oversized registration, a second
     * registration of a partition, stale and finished attempts are refused at once; silent connections are dropped at
     * the handshake limit and hold up nobody meanwhile.
     */
    @Test
    void theRendezvousRefusesStrangersAndDuplicatesAndServesOthersWhileSomeStall() throws Exception {
        PeerSettings slowHandshake = new PeerSettings(1_500, 4_000, 10_000);
        try (Rendezvous rv = Rendezvous.open(LOOPBACK, LOOPBACK, 3, auth, EXCHANGE, slowHandshake)) {
            PeerLink link = rv.link();
            HostPort at = link.rendezvous();
            List<Hostile.Stalled> stalled = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                stalled.add(Hostile.stall(at));
            }
            long t0 = System.nanoTime();
            List<Hostile.Refusal> refused = new ArrayList<>(List.of(
                    Hostile.garbage(at),
                    Hostile.wrongSecret(at, link, Hostile.RENDEZVOUS, 0, 0),
                    Hostile.claim(at, link, Hostile.RENDEZVOUS, 0, 3),
                    Hostile.claim(at, link, Hostile.RENDEZVOUS, 0, -1),
                    Hostile.claim(at, link, Hostile.PEER, 0, 0),
                    Hostile.oversizedRegistration(link, 0, 0)));
            CompletableFuture<HostPort[]> g0 = async(() -> Rendezvous.gather(link, 0, 0, new HostPort(LOOPBACK, 1000), () -> false));
            for (int i = 0; i < 100 && !rv.registered().containsKey(0); i++) {
                Thread.sleep(20);
            }
            Hostile.Refusal dup = Hostile.duplicateRegistration(link, 0, 0);
            assertEquals(Rendezvous.DUPLICATE, dup.status(), dup.toString());
            refused.add(dup);
            assertEquals(new HostPort(LOOPBACK, 1000), rv.registered().get(0), "the first registration stands");
            CompletableFuture<HostPort[]> g1 = async(() -> Rendezvous.gather(link, 0, 1, new HostPort("::1", 1001), () -> false));
            CompletableFuture<HostPort[]> g2 = async(() -> Rendezvous.gather(link, 0, 2, new HostPort("localhost", 1002), () -> false));
            HostPort[] all = g0.get(10, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < slowHandshake.handshakeMillis(), "the stalled connections held the others up: " + ms + " ms");
            assertArrayEquals(new HostPort[] {new HostPort(LOOPBACK, 1000), new HostPort("::1", 1001), new HostPort("localhost", 1002)}, all);
            assertArrayEquals(all, g1.get(5, TimeUnit.SECONDS));
            assertArrayEquals(all, g2.get(5, TimeUnit.SECONDS));
            for (Hostile.Refusal r : refused) {
                assertTrue(r.closed() && r.millis() < 2_000, r.toString());
            }
            assertEquals(Rendezvous.MALFORMED, refused.get(5).status(), refused.get(5).toString());

            // the attempt is complete: no latecomer; a newer attempt starts afresh and makes the old one stale
            assertEquals(Rendezvous.COMPLETE, Hostile.duplicateRegistration(link, 0, 1).status());
            CompletableFuture<HostPort[]> retry = async(() -> Rendezvous.gather(link, 1, 0, new HostPort(LOOPBACK, 2000), () -> false));
            for (int i = 0; i < 100 && !rv.registered().containsKey(0); i++) {
                Thread.sleep(20);
            }
            assertEquals(Rendezvous.STALE, Hostile.duplicateRegistration(link, 0, 2).status());
            for (Hostile.Stalled s : stalled) {
                Hostile.Refusal r = s.awaitClosed();
                assertTrue(r.closed() && r.millis() >= 3_500 && r.millis() < 7_000, r.toString());
            }
            rv.close();
            assertThrows(ExecutionException.class, () -> retry.get(5, TimeUnit.SECONDS), "closing the rendezvous ends the wait");
        }
    }
}
