package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.testing.TestSpark;
import org.fqlspark.train.peer.HostPort;
import org.fqlspark.train.peer.Hostile;
import org.fqlspark.train.peer.PeerLink;
import org.fqlspark.train.peer.PeerProbe;
import org.fqlspark.train.peer.PeerSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void hostileConnectionsDuringAPeerAveragedRunAreRefusedQuicklyAndChangeNothing() throws IOException {
        Path root = TrainFixtures.tempDir("fql-hostile");
        TrainOptions calm = TrainFixtures.options(root.resolve("calm")).workers(2).averagingFrequency(5).steps(20)
                .checkpointEvery(100).keepCheckpoints(0).peerAveraging(true).learningCurves(false).build();
        SparkSession spark = TestSpark.session();
        TrainResult undisturbed = TrainJob.run(spark, calm);

        List<Hostile.Refusal> refused = Collections.synchronizedList(new ArrayList<>());
        List<Hostile.Stalled> stalled = Collections.synchronizedList(new ArrayList<>());
        List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean atRendezvous = new AtomicBoolean();
        AtomicBoolean atRegistration = new AtomicBoolean();
        AtomicBoolean atPeer = new AtomicBoolean();
        PeerProbe.install(new PeerProbe.Listener() {
            @Override
            public void rendezvousOpen(HostPort at, PeerLink link) {
                if (atRendezvous.compareAndSet(false, true)) {
                    attack(errors, () -> {
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
                    attack(errors, () -> refused.add(Hostile.duplicateRegistration(link, attempt, partition)));
                }
            }

            @Override
            public void listening(PeerLink link, int attempt, int partition, HostPort at) {
                if (partition == 0 && atPeer.compareAndSet(false, true)) {   // partition 0 accepts partition 1
                    attack(errors, () -> {
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
            attacked = TrainJob.run(spark, calm.toBuilder().runDir(root.resolve("attacked").toString()).build());
        } finally {
            PeerProbe.install(null);
            spark.conf().unset(PeerSettings.HANDSHAKE_TIMEOUT);
        }
        System.out.printf("hostile-peer run: %.1f s, refusals:%n  %s%n", (System.nanoTime() - t0) / 1e9, String.join("\n  ", reasons));
        assertTrue(errors.isEmpty(), "an attack could not be run: " + errors);
        assertTrue(atRendezvous.get() && atRegistration.get() && atPeer.get(), "every attack point was reached");
        assertEquals(12, refused.size(), refused.toString());
        for (Hostile.Refusal r : refused) {
            assertTrue(r.closed() && r.millis() < 2_000, r.toString());
        }
        for (Hostile.Stalled s : stalled) {
            Hostile.Refusal r = s.awaitClosed();
            assertTrue(r.closed() && r.millis() < HANDSHAKE_MILLIS + 3_000, r.toString());
        }
        String all = String.join("\n", reasons);
        for (String reason : new String[] {"not a peer-protocol hello", "wrong proof", "partition 2 is not in 0..1",
                "partition -1 is not in 0..1", "purpose 2", "a registration whose host has 2147483647 bytes",
                "a second registration of partition", "partition 0 may not connect to partition 0",
                "partition 2 may not connect", "stage attempt 1, this task runs attempt 0"}) {
            assertTrue(all.contains(reason), "no refusal for '" + reason + "' among:\n" + all);
        }

        assertEquals(20, attacked.finalStep());
        TrainFixtures.assertSameState(undisturbed.finalState().toAgentState(), attacked.finalState());
        assertEquals(TrainFixtures.lossColumns(root.resolve("calm")), TrainFixtures.lossColumns(root.resolve("attacked")));
    }

    private interface Attack {
        void run() throws IOException;
    }

    /** Runs the attacks on the thread that is about to go on; records what went wrong instead of throwing into Spark. */
    private static void attack(List<Throwable> errors, Attack a) {
        try {
            a.run();
        } catch (IOException | RuntimeException e) {
            errors.add(e);
        }
    }
}
