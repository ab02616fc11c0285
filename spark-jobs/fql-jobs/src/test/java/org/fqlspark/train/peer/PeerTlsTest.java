package org.fqlspark.train.peer;

import static org.fqlspark.train.peer.PeerExchangeTest.assertBitsEqual;
import static org.fqlspark.train.peer.PeerExchangeTest.async;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerOutcome;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The peer exchange over TLS (Spark's {@code spark.ssl.*} stores), without Spark: when it is on, what a
 * misconfiguration says, three tasks exchanging their states over it, and who is refused (plaintext clients, a
 * certificate the truststore does not know, and, inside TLS, a client without the run's secret).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeerTlsTest {

    private static final PeerSettings FAST = new PeerSettings(1_500, 1_000, 10_000);
    private static final long EXCHANGE = 77L;
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    @TempDir
    static Path dir;
    private static TlsStores stores;
    /** A key the truststore of {@link #stores} does not vouch for, with that truststore. */
    private static TlsStores stranger;
    private final PeerAuth auth = PeerAuth.random("run-tls");
    private final TrainingState shape = StateFramesTest.outcome(0, 0, null).state();
    private final StateFrames.Expect expect = StateFrames.Expect.of(auth, EXCHANGE, 0, shape);

    @BeforeAll
    static void makeStores() throws IOException {
        stores = TlsStores.make(dir);
        stranger = stores.stranger(dir.resolve("stranger.p12"));
    }

    private static PeerSettings settings(Map<String, String> conf) {
        return PeerSettings.of(conf::getOrDefault);
    }

    private static Map<String, String> with(Map<String, String> conf, String key, String value) {
        Map<String, String> m = new TreeMap<>(conf);
        if (value == null) {
            m.remove(key);
        } else {
            m.put(key, value);
        }
        return m;
    }

    @Test
    void tlsFollowsSparksSslSettingsUnlessTheProjectKeySaysOtherwise() {
        Map<String, String> ssl = stores.sparkConf();
        assertNull(settings(Map.of()).tls(), "off by default");
        assertNull(settings(with(ssl, PeerTls.ENABLED, "false")).tls(), "stores alone do not turn it on");
        PeerTls on = settings(ssl).tls();
        assertNotNull(on);
        assertEquals(PeerTls.DEFAULT_PROTOCOL, on.protocol());
        assertTrue(!on.toString().contains(stores.keyStorePassword()) && !settings(ssl).toString().contains(stores.keyStorePassword()),
                on.toString());
        assertNull(settings(with(ssl, PeerSettings.TLS, "false")).tls(), "forced off");
        assertNotNull(settings(with(with(ssl, PeerTls.ENABLED, null), PeerSettings.TLS, "true")).tls(), "forced on");
        assertEquals("TLSv1.2", settings(with(ssl, PeerTls.PROTOCOL, "TLSv1.2")).tls().protocol());
        assertMessage(with(ssl, PeerSettings.TLS, "maybe"), "spark.fql.peer.tls must be auto, true or false");
    }

    /** Each misconfiguration fails when the settings are read (on the driver), naming the setting at fault. */
    @Test
    void aMisconfigurationNamesTheSetting() {
        Map<String, String> ssl = stores.sparkConf();
        assertMessage(with(ssl, PeerTls.KEY_STORE_PASSWORD, "wrong"), "spark.ssl.keyStorePassword is wrong for spark.ssl.keyStore");
        assertMessage(with(ssl, PeerTls.TRUST_STORE_PASSWORD, "wrong"), "spark.ssl.trustStorePassword is wrong for spark.ssl.trustStore");
        assertMessage(with(ssl, PeerTls.KEY_STORE, dir.resolve("nowhere.p12").toString()), "spark.ssl.keyStore: there is no file");
        assertMessage(with(ssl, PeerTls.TRUST_STORE, null), "spark.ssl.trustStore is not set");
        assertMessage(with(ssl, PeerTls.KEY_STORE, null), "spark.ssl.keyStore is not set");
        assertMessage(with(ssl, PeerTls.KEY_PASSWORD, "wrong"), "spark.ssl.keyPassword does not unlock the key");
        assertMessage(with(with(ssl, PeerTls.KEY_STORE, stores.trustStore().toString()), PeerTls.KEY_STORE_PASSWORD,
                stores.trustStorePassword()), "holds no private key");
        assertMessage(with(ssl, PeerTls.PROTOCOL, "TLSv0.9"), "spark.ssl.protocol 'TLSv0.9'");
        assertMessage(with(ssl, PeerTls.ENABLED_ALGORITHMS, "TLS_NO_SUCH_SUITE"), "spark.ssl.enabledAlgorithms");
    }

    private static void assertMessage(Map<String, String> conf, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> settings(conf));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    /** Three tasks, two rounds, every connection TLS: the states arrive bit for bit. */
    @Test
    void threeTasksExchangeTheirStatesOverTls() throws Exception {
        PeerSettings tls = stores.settings(FAST);
        try (Rendezvous rv = Rendezvous.open(LOOPBACK, LOOPBACK, 3, auth, EXCHANGE, tls)) {
            for (List<List<WorkerOutcome>> got : PeerExchangeTest.twoRounds(rv.link(), expect, 0)) {
                for (int j = 0; j < 3; j++) {
                    assertBitsEqual(StateFramesTest.outcome(j, 10, null), got.get(0).get(j));
                    assertBitsEqual(StateFramesTest.outcome(j, 20, null), got.get(1).get(j));
                }
            }
        }
    }

    /**
     * At a TLS rendezvous: plaintext clients (garbage, a plaintext hello, silence) are refused, a certificate the
     * truststore does not know is refused by the TLS handshake, and a client with trusted stores but not the run's secret
     * is refused by the handshake inside TLS; the tasks that belong register meanwhile.
     */
    @Test
    void plaintextStrangersAndClientsWithoutTheSecretAreRefused() throws Exception {
        PeerSettings tls = stores.settings(FAST);
        List<String> refusals = new CopyOnWriteArrayList<>();
        PeerProbe.install(new PeerProbe.Listener() {
            @Override
            public void refused(String where, String reason) {
                refusals.add(where + ": " + reason);
            }
        });
        try (Rendezvous rv = Rendezvous.open(LOOPBACK, LOOPBACK, 2, auth, EXCHANGE, tls)) {
            PeerLink link = rv.link();
            HostPort at = link.rendezvous();
            Hostile.Stalled stalled = Hostile.stall(at);
            for (Hostile.Refusal r : List.of(Hostile.garbage(at), Hostile.claim(at, link, Hostile.RENDEZVOUS, 0, 0))) {
                assertTrue(r.closed() && r.millis() < 2_000, r.toString());
            }
            Hostile.Refusal silent = stalled.awaitClosed();
            assertTrue(silent.closed() && silent.millis() < FAST.handshakeMillis() + 2_000, silent.toString());
            ExecutionException untrusted = assertThrows(ExecutionException.class, () -> async(() -> Rendezvous.gather(
                    new PeerLink(at, auth, EXCHANGE, 2, stranger.settings(FAST)), 0, 1, new HostPort(LOOPBACK, 1001), () -> false)).get(10, TimeUnit.SECONDS));
            assertTrue(untrusted.getCause().getMessage().contains("TLS"), untrusted.getCause().getMessage());
            PeerAuth wrong = PeerAuth.random(auth.runId());
            ExecutionException noSecret = assertThrows(ExecutionException.class, () -> async(() -> Rendezvous.gather(
                    new PeerLink(at, wrong, EXCHANGE, 2, tls), 0, 1, new HostPort(LOOPBACK, 1001), () -> false)).get(10, TimeUnit.SECONDS));
            assertTrue(noSecret.getCause().getMessage().contains("does not know this run's secret"),
                    noSecret.getCause().getMessage());

            CompletableFuture<HostPort[]> g0 = async(() -> Rendezvous.gather(link, 0, 0, new HostPort(LOOPBACK, 1000), () -> false));
            CompletableFuture<HostPort[]> g1 = async(() -> Rendezvous.gather(link, 0, 1, new HostPort(LOOPBACK, 1001), () -> false));
            HostPort[] all = g0.get(10, TimeUnit.SECONDS);
            assertEquals(List.of(all), List.of(g1.get(10, TimeUnit.SECONDS)));
        } finally {
            PeerProbe.install(null);
        }
        String all = String.join("\n", refusals);
        assertEquals(4, refusals.stream().filter(r -> r.contains("no TLS handshake")).count(), all);   // all but the secret
    }
}
