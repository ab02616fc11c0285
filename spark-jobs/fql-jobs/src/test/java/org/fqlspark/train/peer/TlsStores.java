package org.fqlspark.train.peer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Throwaway TLS stores for the peer-averaging tests, made with the JDK's {@code keytool}: a PKCS12 keystore holding one
 * self-signed EC key ("the cluster's"), and a truststore holding its certificate under another password. Public so the
 * real-run test in {@code org.fqlspark.train} can use it.
 */
public record TlsStores(Path keyStore, String keyStorePassword, Path trustStore, String trustStorePassword) {

    /** Makes the keystore and its truststore in {@code dir}. */
    public static TlsStores make(Path dir) throws IOException {
        TlsStores s = new TlsStores(dir.resolve("peer-keys.p12"), "key-store-pw", dir.resolve("peer-trust.p12"), "trust-store-pw");
        Path cert = dir.resolve("peer.cer");
        keyPair(s.keyStore, s.keyStorePassword, "CN=fql-peer");
        keytool("-exportcert", "-alias", "peer", "-keystore", s.keyStore.toString(), "-storepass", s.keyStorePassword,
                "-file", cert.toString());
        keytool("-importcert", "-noprompt", "-alias", "peer", "-file", cert.toString(), "-keystore", s.trustStore.toString(),
                "-storetype", "PKCS12", "-storepass", s.trustStorePassword);
        return s;
    }

    /** Another self-signed key at {@code keyStore}, which this pair's truststore does not vouch for. */
    public TlsStores stranger(Path keyStore) throws IOException {
        keyPair(keyStore, "stranger-pw", "CN=stranger");
        return new TlsStores(keyStore, "stranger-pw", trustStore, trustStorePassword);
    }

    /** Spark's SSL settings for these stores, SSL on. */
    public Map<String, String> sparkConf() {
        Map<String, String> conf = new TreeMap<>();
        conf.put(PeerTls.ENABLED, "true");
        conf.put(PeerTls.KEY_STORE, keyStore.toString());
        conf.put(PeerTls.KEY_STORE_PASSWORD, keyStorePassword);
        conf.put(PeerTls.TRUST_STORE, trustStore.toString());
        conf.put(PeerTls.TRUST_STORE_PASSWORD, trustStorePassword);
        return conf;
    }

    /** The settings {@code limits} with TLS from these stores. */
    PeerSettings settings(PeerSettings limits) {
        return new PeerSettings(limits.timeoutMillis(), limits.handshakeMillis(), limits.gatherMillis(),
                PeerTls.of(sparkConf()::getOrDefault));
    }

    private static void keyPair(Path keyStore, String password, String name) throws IOException {
        keytool("-genkeypair", "-alias", "peer", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", name, "-validity", "2",
                "-keystore", keyStore.toString(), "-storetype", "PKCS12", "-storepass", password, "-keypass", password);
    }

    private static void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("keytool " + args[0] + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while keytool ran", e);
        }
    }
}
