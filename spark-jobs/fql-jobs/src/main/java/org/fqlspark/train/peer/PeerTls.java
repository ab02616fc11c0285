package org.fqlspark.train.peer;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.NoSuchAlgorithmException;
import java.security.UnrecoverableKeyException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS on the peer-averaging connections (the driver's {@link Rendezvous} and the tasks' {@link PeerExchange}), from
 * Spark's own SSL settings of the {@code spark.ssl} namespace, read as Spark's {@code SSLOptions} reads them:
 * {@value #KEY_STORE}, {@value #KEY_STORE_PASSWORD}, {@value #KEY_PASSWORD} (default: the keystore's password),
 * {@value #KEY_STORE_TYPE}, {@value #TRUST_STORE}, {@value #TRUST_STORE_PASSWORD}, {@value #TRUST_STORE_TYPE} (store
 * types default to the JVM's, PKCS12, which reads JKS too), {@value #PROTOCOL} (default {@value #DEFAULT_PROTOCOL}) and
 * {@value #ENABLED_ALGORITHMS} (cipher suites, comma-separated; default the JVM's). When it is on is
 * {@link PeerSettings#TLS}'s business.
 *
 * <p>Both ends authenticate: each side presents the key of its keystore and accepts the other only if the truststore
 * vouches for its certificate (the server requires a client certificate). The truststore is the only trust: executors
 * are addressed by IP, so there is no host name to verify and the JVM's default CAs are never used; a truststore is
 * therefore required. Inside TLS the {@link Handshake} still runs unchanged (defence in depth: a certificate the
 * truststore accepts is not by itself a member of this run). The stores must exist at the same paths on the driver and
 * on every executor, as for Spark's own SSL; passwords come from the Spark configuration only (not from Hadoop
 * credential providers) and travel to the tasks in the stage's closure, next to the run's secret ({@link PeerAuth}).
 *
 * <p>The stores are read once per JVM (again if a store file changes): the driver reads and checks them when the
 * settings are read, before any stage starts; an executor on its first connection. A misconfiguration fails with an
 * {@link IllegalArgumentException} naming the setting at fault.
 */
public final class PeerTls implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Spark's SSL switch; where {@link PeerSettings#TLS} is {@code auto}, the exchange's too. */
    public static final String ENABLED = "spark.ssl.enabled";
    /** This node's key and certificate: what it presents, as a server and as a client. */
    public static final String KEY_STORE = "spark.ssl.keyStore";
    public static final String KEY_STORE_PASSWORD = "spark.ssl.keyStorePassword";
    public static final String KEY_PASSWORD = "spark.ssl.keyPassword";
    public static final String KEY_STORE_TYPE = "spark.ssl.keyStoreType";
    /** The certificates this node accepts from the other end: the only trust. */
    public static final String TRUST_STORE = "spark.ssl.trustStore";
    public static final String TRUST_STORE_PASSWORD = "spark.ssl.trustStorePassword";
    public static final String TRUST_STORE_TYPE = "spark.ssl.trustStoreType";
    /** The TLS version both ends speak, and the cipher suites they may use. */
    public static final String PROTOCOL = "spark.ssl.protocol";
    public static final String ENABLED_ALGORITHMS = "spark.ssl.enabledAlgorithms";
    /** TLS 1.3: its half-close lets a task end the exchange in order ({@link PeerExchange#finish()}). */
    public static final String DEFAULT_PROTOCOL = "TLSv1.3";

    /** A keystore or truststore: its file, its password, its type (null: the JVM's default). Shows only its path. */
    private record Store(String path, String password, String type) implements Serializable {
        @Override
        public String toString() {
            return path;
        }
    }

    private final String protocol;
    private final Store keys;
    /** The password of the key in {@link #keys}; null: the store's. */
    private final String keyPassword;
    private final Store trust;
    /** The cipher suites to enable; empty: the JVM's defaults. */
    private final List<String> cipherSuites;
    /** Built from the stores on first use in this JVM; never serialized. */
    private transient volatile SSLContext context;

    private PeerTls(String protocol, Store keys, String keyPassword, Store trust, List<String> cipherSuites) {
        this.protocol = protocol;
        this.keys = keys;
        this.keyPassword = keyPassword;
        this.trust = trust;
        this.cipherSuites = List.copyOf(cipherSuites);
    }

    /** The TLS settings of {@code conf} (key, default: value), checked against the stores they name. */
    static PeerTls of(BiFunction<String, String, String> conf) {
        String keyStore = setting(conf, KEY_STORE);
        String trustStore = setting(conf, TRUST_STORE);
        if (keyStore == null) {
            throw new IllegalArgumentException(KEY_STORE + " is not set: peer-averaging TLS needs a keystore with this node's "
                    + "key and certificate (or turn it off with " + PeerSettings.TLS + "=false)");
        }
        if (trustStore == null) {
            throw new IllegalArgumentException(TRUST_STORE + " is not set: peer-averaging TLS accepts only certificates its "
                    + "truststore vouches for (executors have no host name to verify, so the JVM's default CAs are not used)");
        }
        String algorithms = setting(conf, ENABLED_ALGORITHMS);
        List<String> suites = algorithms == null ? List.of()
                : Arrays.stream(algorithms.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        String protocol = setting(conf, PROTOCOL);
        PeerTls tls = new PeerTls(protocol == null ? DEFAULT_PROTOCOL : protocol,
                new Store(keyStore, setting(conf, KEY_STORE_PASSWORD), setting(conf, KEY_STORE_TYPE)), setting(conf, KEY_PASSWORD),
                new Store(trustStore, setting(conf, TRUST_STORE_PASSWORD), setting(conf, TRUST_STORE_TYPE)), suites);
        tls.context();   // a misconfiguration fails here, on the driver, before any stage starts
        return tls;
    }

    private static String setting(BiFunction<String, String, String> conf, String key) {
        String v = conf.apply(key, null);
        return v == null || v.isBlank() ? null : v.trim();
    }

    /** The client side of TLS over {@code connected}, its handshake done within {@code handshakeMillis}. */
    Socket client(Socket connected, HostPort to, long handshakeMillis) throws IOException {
        SSLSocket s = (SSLSocket) context().getSocketFactory().createSocket(connected, to.host(), to.port(), true);
        s.setUseClientMode(true);
        return handshake(s, handshakeMillis);
    }

    /** The server side of TLS over {@code accepted}, the client's certificate required, within {@code handshakeMillis}. */
    Socket server(Socket accepted, long handshakeMillis) throws IOException {
        SSLSocket s = (SSLSocket) context().getSocketFactory().createSocket(accepted, null, accepted.getPort(), true);
        s.setUseClientMode(false);
        s.setNeedClientAuth(true);
        return handshake(s, handshakeMillis);
    }

    private Socket handshake(SSLSocket s, long handshakeMillis) throws IOException {
        s.setEnabledProtocols(protocol.startsWith("TLSv") ? new String[] {protocol} : s.getEnabledProtocols());
        if (!cipherSuites.isEmpty()) {
            s.setEnabledCipherSuites(cipherSuites.toArray(String[]::new));
        }
        s.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, handshakeMillis)));
        s.startHandshake();
        return s;
    }

    /**
     * The SSL context of these stores: read once per JVM while the store files stay as they are (reading a PKCS12 store
     * derives its keys from the password, which takes a noticeable part of a second; a task of every stage would pay
     * it again).
     */
    SSLContext context() {
        SSLContext c = context;
        if (c == null) {
            synchronized (this) {
                c = context;
                if (c == null) {
                    Key key = new Key(protocol, keys, keyPassword, trust, cipherSuites, modified(keys), modified(trust));
                    c = CONTEXTS.get(key);
                    if (c == null) {
                        c = build();
                        if (CONTEXTS.size() >= 16) {
                            CONTEXTS.clear();
                        }
                        CONTEXTS.put(key, c);
                    }
                    context = c;
                }
            }
        }
        return c;
    }

    /** Everything a context is made of, the stores' modification times included. */
    private record Key(String protocol, Store keys, String keyPassword, Store trust, List<String> cipherSuites, long keysModified,
            long trustModified) {
        @Override
        public String toString() {
            return "Key[" + keys + ", " + trust + ", passwords not shown]";
        }
    }

    private static final Map<Key, SSLContext> CONTEXTS = new ConcurrentHashMap<>();

    private static long modified(Store store) {
        try {
            return Files.getLastModifiedTime(Path.of(store.path())).toMillis();
        } catch (IOException | RuntimeException e) {
            return -1;   // reading it fails next, with the setting named
        }
    }

    private SSLContext build() {
        KeyStore ks = load(KEY_STORE, keys, KEY_STORE_PASSWORD, KEY_STORE_TYPE);
        KeyStore ts = load(TRUST_STORE, trust, TRUST_STORE_PASSWORD, TRUST_STORE_TYPE);
        try {
            if (!Collections.list(ks.aliases()).stream().anyMatch(a -> isKey(ks, a))) {
                throw new IllegalArgumentException(KEY_STORE + " " + keys + " holds no private key (peer-averaging TLS "
                        + "needs this node's key and certificate)");
            }
            if (!Collections.list(ts.aliases()).stream().anyMatch(a -> isCertificate(ts, a))) {
                throw new IllegalArgumentException(TRUST_STORE + " " + trust + " holds no certificate" + (trust.password() == null
                        ? " it can read without a password (" + TRUST_STORE_PASSWORD + " is not set)" : ""));
            }
        } catch (KeyStoreException e) {
            throw new IllegalStateException("a loaded keystore refused to list its entries", e);
        }
        KeyManagerFactory kmf;
        try {
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, chars(keyPassword != null ? keyPassword : keys.password()));
        } catch (UnrecoverableKeyException e) {
            throw new IllegalArgumentException((keyPassword != null ? KEY_PASSWORD : KEY_PASSWORD + " (not set, so "
                    + KEY_STORE_PASSWORD + ")") + " does not unlock the key in " + KEY_STORE + " " + keys + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the key in " + KEY_STORE + " " + keys + " cannot be used: " + e.getMessage(), e);
        }
        SSLContext ctx;
        try {
            ctx = SSLContext.getInstance(protocol);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException(PROTOCOL + " '" + protocol + "' is not a protocol this JVM offers", e);
        }
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the stores of " + KEY_STORE + " and " + TRUST_STORE + " do not make a TLS context: "
                    + e.getMessage(), e);
        }
        List<String> supported = Arrays.asList(ctx.getSupportedSSLParameters().getCipherSuites());
        List<String> unknown = cipherSuites.stream().filter(s -> !supported.contains(s)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(ENABLED_ALGORITHMS + " names cipher suites this JVM does not offer: " + unknown);
        }
        if (protocol.startsWith("TLSv") && !Arrays.asList(ctx.getSupportedSSLParameters().getProtocols()).contains(protocol)) {
            throw new IllegalArgumentException(PROTOCOL + " '" + protocol + "' is not a protocol this JVM offers");
        }
        return ctx;
    }

    private static KeyStore load(String key, Store store, String passwordKey, String typeKey) {
        String path = store.path();
        String password = store.password();
        String type = store.type();
        KeyStore ks;
        try {
            ks = KeyStore.getInstance(type != null ? type : KeyStore.getDefaultType());
        } catch (KeyStoreException e) {
            throw new IllegalArgumentException(typeKey + " '" + type + "' is not a keystore type this JVM knows", e);
        }
        try (InputStream in = Files.newInputStream(Path.of(path))) {
            ks.load(in, chars(password));
            return ks;
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(key + ": there is no file " + path, e);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new IllegalArgumentException(passwordKey + (password == null ? " is not set, and " + key + " " + path
                        + " needs one" : " is wrong for " + key + " " + path) + " (" + e.getMessage() + ")", e);
            }
            throw new IllegalArgumentException(key + " " + path + " could not be read as a " + ks.getType() + " keystore"
                    + (type == null ? " (set " + typeKey + " if it is of another type)" : "") + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(key + " " + path + " could not be read: " + e.getMessage(), e);
        }
    }

    private static boolean isKey(KeyStore ks, String alias) {
        try {
            return ks.isKeyEntry(alias);
        } catch (KeyStoreException e) {
            return false;
        }
    }

    private static boolean isCertificate(KeyStore ks, String alias) {
        try {
            return ks.getCertificate(alias) != null;
        } catch (KeyStoreException e) {
            return false;
        }
    }

    private static char[] chars(String password) {
        return password == null ? null : password.toCharArray();
    }

    /** The protocol TLS runs with. */
    public String protocol() {
        return protocol;
    }

    @Override
    public String toString() {
        return "PeerTls[" + protocol + ", keyStore " + keys + ", trustStore " + trust + ", passwords not shown]";
    }
}
