package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.testing.TestSpark;
import org.fqlspark.train.peer.HostPort;
import org.fqlspark.train.peer.Hostile;
import org.fqlspark.train.peer.PeerLink;
import org.fqlspark.train.peer.PeerProbe;
import org.fqlspark.train.peer.PeerSettings;
import org.fqlspark.train.peer.PeerTls;
import org.fqlspark.train.peer.TlsStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real peer-averaged run (W = 2, local mode: the barrier stage's tasks run in this JVM and listen on loopback)
 * attacked while it runs: garbage, a wrong secret, out-of-range partitions, an oversized registration, a second
 * registration of a partition, connections of another stage attempt or purpose, and connections that send nothing, at
 * the driver's rendezvous and at a task's peer port, each while that port is open. Every one is refused quickly, and
 * the run's numbers are those of the same run undisturbed, bit for bit.
 */
class HostilePeerTest {

    /** The handshake limit during the attacked run: a silent connection is dropped after it. */
    private static final long HANDSHAKE_MILLIS = 2_000;
    /**
     * The same over TLS: a task's first TLS handshake in a JVM (cold crypto classes) can take seconds on a busy machine,
     * and one that runs out fails the stage (Spark runs it again, with the same numbers).
     */
    private static final long TLS_HANDSHAKE_MILLIS = 5_000;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void hostileConnectionsDuringAPeerAveragedRunAreRefusedQuicklyAndChangeNothing() throws IOException {
        Path root = TrainFixtures.tempDir("fql-hostile");
        SparkSession spark = TestSpark.session();
        undisturbed();
        TrainOptions calm = calm().toBuilder().runDir(root.resolve("attacked").toString()).build();

        Attacks attacks = new Attacks();
        List<Hostile.Refusal> refused = attacks.refused;
        List<Hostile.Stalled> stalled = attacks.stalled;
        List<String> reasons = attacks.reasons;
        AtomicBoolean atRendezvous = new AtomicBoolean();
        AtomicBoolean atRegistration = new AtomicBoolean();
        AtomicBoolean atPeer = new AtomicBoolean();
        PeerProbe.install(new PeerProbe.Listener() {
            @Override
            public void rendezvousOpen(HostPort at, PeerLink link) {
                if (atRendezvous.compareAndSet(false, true)) {
                    attacks.run(() -> {
                        stalled.add(Hostile.stall(at));
                        refused.add(Hostile.garbage(at));
                        refused.add(Hostile.wrongSecret(at, link, Hostile.RENDEZVOUS, 0, 0));
                        refused.add(Hostile.claim(at, link, Hostile.RENDEZVOUS, 0, 2));     // W = 2: out of range
                        refused.add(Hostile.claim(at, link, Hostile.RENDEZVOUS, 0, -1));
                        refused.add(Hostile.claim(at, link, Hostile.PEER, 0, 0));           // a peer's hello
                        refused.add(Hostile.oversizedRegistration(link, 0, 0));
                    });
                }
            }

            @Override
            public void registered(PeerLink link, int attempt, int partition) {
                if (atRegistration.compareAndSet(false, true)) {
                    attacks.run(() -> refused.add(Hostile.duplicateRegistration(link, attempt, partition)));
                }
            }

            @Override
            public void listening(PeerLink link, int attempt, int partition, HostPort at) {
                if (partition == 0 && atPeer.compareAndSet(false, true)) {   // partition 0 accepts partition 1
                    attacks.run(() -> {
                        stalled.add(Hostile.stall(at));
                        refused.add(Hostile.garbage(at));
                        refused.add(Hostile.wrongSecret(at, link, Hostile.PEER, attempt, 1));
                        refused.add(Hostile.claim(at, link, Hostile.PEER, attempt, 0));      // itself
                        refused.add(Hostile.claim(at, link, Hostile.PEER, attempt, 2));      // out of range
                        refused.add(Hostile.claim(at, link, Hostile.PEER, attempt + 1, 1));  // another attempt
                    });
                }
            }

            @Override
            public void refused(String where, String reason) {
                reasons.add(where + ": " + reason);
            }
        });
        spark.conf().set(PeerSettings.HANDSHAKE_TIMEOUT, HANDSHAKE_MILLIS + "ms");
        TrainResult attacked;
        long t0 = System.nanoTime();
        try {
            attacked = TrainJob.run(spark, calm);
        } finally {
            PeerProbe.install(null);
            spark.conf().unset(PeerSettings.HANDSHAKE_TIMEOUT);
        }
        System.out.printf("hostile-peer run: %.1f s, refusals:%n  %s%n", (System.nanoTime() - t0) / 1e9, String.join("\n  ", reasons));
        assertTrue(atRendezvous.get() && atRegistration.get() && atPeer.get(), "every attack point was reached");
        attacks.assertRefused(12, 2_000, HANDSHAKE_MILLIS + 3_000);
        String all = String.join("\n", reasons);
        for (String reason : new String[] {"not a peer-protocol hello", "wrong proof", "partition 2 is not in 0..1",
                "partition -1 is not in 0..1", "purpose 2", "a registration whose host has 2147483647 bytes",
                "a second registration of partition", "partition 0 may not connect to partition 0",
                "partition 2 may not connect", "stage attempt 1, this task runs attempt 0"}) {
            assertTrue(all.contains(reason), "no refusal for '" + reason + "' among:\n" + all);
        }

        assertSameAsUndisturbed(attacked, root.resolve("attacked"));
    }

    /**
     * The same run with Spark's SSL settings on ({@code spark.ssl.*}, stores made here): every connection of the exchange
     * is TLS, plaintext clients at the rendezvous and at a task's port are refused quickly, and the numbers are those of
     * the run without TLS, bit for bit. Before it, a wrong keystore password fails the run at once, naming the setting.
     */
    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void withSparksSslOnTheExchangeIsTlsRefusesPlaintextAndGivesTheSameNumbers(@TempDir Path dir) throws IOException {
        Path root = TrainFixtures.tempDir("fql-tls");
        SparkSession spark = TestSpark.session();
        undisturbed();
        TrainOptions tls = calm().toBuilder().runDir(root.resolve("tls").toString()).build();
        Map<String, String> ssl = TlsStores.make(dir).sparkConf();
        Attacks attacks = new Attacks();
        AtomicBoolean atRendezvous = new AtomicBoolean();
        AtomicBoolean atPeer = new AtomicBoolean();
        TrainResult encrypted;
        try {
            ssl.forEach((k, v) -> spark.conf().set(k, v));
            spark.conf().set(PeerTls.KEY_STORE_PASSWORD, "not-the-password");
            Exception wrong = assertThrows(Exception.class, () -> TrainJob.run(spark, tls.toBuilder()
                    .runDir(root.resolve("wrong-password").toString()).build()));
            String chain = messages(wrong);
            assertTrue(chain.contains("spark.ssl.keyStorePassword is wrong for spark.ssl.keyStore"), chain);

            spark.conf().set(PeerTls.KEY_STORE_PASSWORD, ssl.get(PeerTls.KEY_STORE_PASSWORD));
            spark.conf().set(PeerSettings.HANDSHAKE_TIMEOUT, TLS_HANDSHAKE_MILLIS + "ms");
            PeerProbe.install(new PeerProbe.Listener() {
                @Override
                public void rendezvousOpen(HostPort at, PeerLink link) {
                    if (atRendezvous.compareAndSet(false, true)) {
                        attacks.run(() -> plaintext(at, link, Hostile.RENDEZVOUS, 0, attacks));
                    }
                }

                @Override
                public void listening(PeerLink link, int attempt, int partition, HostPort at) {
                    if (partition == 0 && atPeer.compareAndSet(false, true)) {
                        attacks.run(() -> plaintext(at, link, Hostile.PEER, 1, attacks));
                    }
                }

                @Override
                public void refused(String where, String reason) {
                    attacks.reasons.add(where + ": " + reason);
                }
            });
            long t0 = System.nanoTime();
            encrypted = TrainJob.run(spark, tls);
            System.out.printf("TLS run: %.1f s, refusals:%n  %s%n  %s%n", (System.nanoTime() - t0) / 1e9, String.join("\n  ", attacks.reasons),
                    attacks.refused);
        } finally {
            PeerProbe.install(null);
            ssl.keySet().forEach(spark.conf()::unset);
            spark.conf().unset(PeerSettings.HANDSHAKE_TIMEOUT);
        }
        assertTrue(atRendezvous.get() && atPeer.get(), "every attack point was reached");
        // refused by the TLS handshake itself (the reasons below), before its time limit
        attacks.assertRefused(4, TLS_HANDSHAKE_MILLIS, TLS_HANDSHAKE_MILLIS + 3_000);
        String all = String.join("\n", attacks.reasons);
        assertEquals(4, attacks.reasons.stream().filter(r -> r.contains("no TLS handshake") && r.contains("unrecognized SSL message")).count(), all);
        assertSameAsUndisturbed(encrypted, root.resolve("tls"));
    }

    /** Garbage, a plaintext hello as {@code partition}, and a silent connection: what a client without TLS can do. */
    private static void plaintext(HostPort at, PeerLink link, int purpose, int partition, Attacks attacks) throws IOException {
        attacks.stalled.add(Hostile.stall(at));
        attacks.refused.add(Hostile.garbage(at));
        attacks.refused.add(Hostile.claim(at, link, purpose, 0, partition));
    }

    private static String messages(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c).append('\n');
        }
        return b.toString();
    }

    /** The run both tests attack, W = 2, 20 steps; run once undisturbed, without TLS, to compare with. */
    private static TrainOptions calm() {
        return TrainFixtures.options(calmDir.resolve("calm")).workers(2).averagingFrequency(5).steps(20)
                .checkpointEvery(100).keepCheckpoints(0).peerAveraging(true).learningCurves(false).build();
    }

    private static final Path calmDir = TrainFixtures.tempDir("fql-calm");
    private static TrainResult undisturbed;

    /** The run undisturbed, made once (first, so that the runs compared with it find the JVM warm). */
    private static synchronized TrainResult undisturbed() {
        if (undisturbed == null) {
            undisturbed = TrainJob.run(TestSpark.session(), calm());
        }
        return undisturbed;
    }

    private static void assertSameAsUndisturbed(TrainResult run, Path runDir) throws IOException {
        assertEquals(20, run.finalStep());
        TrainFixtures.assertSameState(undisturbed().finalState().toAgentState(), run.finalState());
        assertEquals(TrainFixtures.lossColumns(calmDir.resolve("calm")), TrainFixtures.lossColumns(runDir));
    }

    private interface Attack {
        void run() throws IOException;
    }

    /** What the attacks on one run did, and what the run's side said when it refused them. */
    private static final class Attacks {
        final List<Hostile.Refusal> refused = Collections.synchronizedList(new ArrayList<>());
        final List<Hostile.Stalled> stalled = Collections.synchronizedList(new ArrayList<>());
        final List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        private final List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());

        /** Runs {@code a} on the thread that is about to go on; records what went wrong instead of throwing into Spark. */
        void run(Attack a) {
            try {
                a.run();
            } catch (IOException | RuntimeException e) {
                errors.add(e);
            }
        }

        /** Every attack ran; {@code n} were refused, each within {@code quickMillis}; each stall ended within {@code stallMillis}. */
        void assertRefused(int n, long quickMillis, long stallMillis) throws IOException {
            assertTrue(errors.isEmpty(), "an attack could not be run: " + errors);
            assertEquals(n, refused.size(), refused.toString());
            for (Hostile.Refusal r : refused) {
                assertTrue(r.closed() && r.millis() < quickMillis, r.toString());
            }
            for (Hostile.Stalled s : stalled) {
                Hostile.Refusal r = s.awaitClosed();
                assertTrue(r.closed() && r.millis() < stallMillis, r.toString());
            }
        }
    }
}
