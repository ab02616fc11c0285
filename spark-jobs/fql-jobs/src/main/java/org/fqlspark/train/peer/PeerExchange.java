package org.fqlspark.train.peer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import org.apache.spark.SparkEnv;
import org.fqlspark.train.worker.WorkerOutcome;

/**
 * All-to-all exchange of worker states between the W tasks of one barrier stage, over direct TCP connections between
 * their executors: the driver only brokers the addresses once per stage ({@link Rendezvous}), the states never pass
 * through it. {@link #exchange} gives every task every task's state in task order, so each can average them itself,
 * in the same order and with the same arithmetic as the driver would.
 *
 * <p>Setup: each task listens, registers with the rendezvous, then connects to every partition below its own and
 * accepts every one above (one connection per pair). Each connection passes the {@link Handshake}: the run's secret,
 * this stage's exchange id and attempt, and a partition in range; a connection that claims a partition that may not
 * connect here (below or equal to this one, out of range) or one that is connected already is refused (status 1, a
 * closed socket), others are answered with status 0. Connections are served concurrently, each within the handshake
 * limit, so a silent or hostile one delays nobody; the listening socket closes once all peers are in.
 *
 * <p>Rounds: states travel as {@link StateFrames}, sends on their own threads while this one receives, so two tasks
 * sending each other megabytes cannot block on full socket buffers. While a task computes, it sends a heartbeat frame
 * on every idle connection every {@link PeerSettings#heartbeatMillis()}: a peer that sends nothing at all for
 * {@link PeerSettings#timeoutMillis()} is gone (its host vanished without closing its sockets), and the task fails,
 * which fails the barrier stage for Spark to run again. Every wait also ends as soon as Spark kills the task.
 *
 * <p>Encryption: where Spark's SSL settings are on ({@code spark.ssl.enabled}, or {@link PeerSettings#TLS}), every
 * connection, to the rendezvous and between tasks, is TLS with both ends verified against Spark's
 * {@code spark.ssl.*} keystore and truststore ({@link PeerTls}), and the handshake above runs inside it, binding the
 * connection to this run and stage. A client that does not speak TLS, or whose certificate the truststore does not
 * vouch for, is refused before the handshake. Without TLS (the default) the connections are authenticated but not
 * encrypted, and frames carry no MAC of their own: an observer on the network path reads the states and an active one
 * can alter or inject bytes in an established connection (see the README's "Peer averaging on the network"); use TLS,
 * or {@code --averaging driver} with {@code spark.authenticate} and {@code spark.network.crypto.enabled}, on a network
 * you do not trust.
 */
public final class PeerExchange implements AutoCloseable {

    private final PeerLink link;
    private final int me;
    private final int peers;
    private final int attempt;
    private final BooleanSupplier killed;
    private final StateFrames.Expect expect;
    private final Conn[] conns;
    private final ReentrantLock[] sendLocks;
    private final long[] lastWrite;
    private final ExecutorService senders;
    private final ScheduledExecutorService heartbeats;
    private final byte[] heartbeat;
    /** Where this task accepts its peers; null once setup is over. */
    private ServerSocket server;
    private Thread acceptor;
    private boolean setupOver;
    private volatile boolean closing;

    private PeerExchange(PeerLink link, int me, int attempt, BooleanSupplier killed, StateFrames.Expect expect) {
        this.link = link;
        this.me = me;
        this.peers = link.parties();
        this.attempt = attempt;
        this.killed = killed;
        this.expect = expect;
        this.conns = new Conn[peers];
        this.sendLocks = new ReentrantLock[peers];
        this.lastWrite = new long[peers];
        for (int j = 0; j < peers; j++) {
            sendLocks[j] = new ReentrantLock();
        }
        this.senders = Executors.newFixedThreadPool(Math.max(1, peers - 1), daemon("fql-peer-send-" + me));
        this.heartbeats = Executors.newSingleThreadScheduledExecutor(daemon("fql-peer-heartbeat-" + me));
        this.heartbeat = StateFrames.heartbeat(expect, me);
    }

    /**
     * Connects task {@code me} of stage attempt {@code attempt} to the other tasks of its stage, learning their
     * addresses from the rendezvous of {@code link}; {@code killed} says whether Spark has killed the task.
     */
    public static PeerExchange connect(PeerLink link, int me, int attempt, BooleanSupplier killed, StateFrames.Expect expect) {
        if (me < 0 || me >= link.parties()) {
            throw new IllegalArgumentException("partition " + me + " of a stage of " + link.parties());
        }
        PeerExchange x = new PeerExchange(link, me, attempt, killed, expect);
        try {
            x.setUp();
            return x;
        } catch (IOException | RuntimeException e) {
            x.close();
            throw new UncheckedIOException("task " + me + " could not connect to its " + (link.parties() - 1) + " peers: "
                    + e.getMessage(), e instanceof IOException io ? io : new IOException(e));
        }
    }

    private void setUp() throws IOException {
        String host = SparkEnv.get() != null ? SparkEnv.get().blockManager().blockManagerId().host()
                : InetAddress.getLoopbackAddress().getHostAddress();
        server = new ServerSocket();
        server.bind(new InetSocketAddress(host, 0), Math.max(50, 2 * peers));
        server.setSoTimeout(Conn.SLICE_MILLIS);
        HostPort mine = new HostPort(host, server.getLocalPort());
        acceptor = new Thread(this::accept, "fql-peer-accept-" + me);
        acceptor.setDaemon(true);
        acceptor.start();
        PeerProbe.listening(link, attempt, me, mine);
        HostPort[] addresses = Rendezvous.gather(link, attempt, me, mine, killed);
        long handshake = link.settings().handshakeMillis();
        for (int j = 0; j < me; j++) {   // connect down
            Conn c = Conn.connect(addresses[j], link.settings(), killed, "partition " + j + " at " + addresses[j]);
            try {
                long deadline = Conn.deadline(handshake);
                Handshake.client(c, link.auth(), new Handshake.Hello(Handshake.PURPOSE_PEER, link.exchange(), attempt, me), j, deadline);
                int status = Rendezvous.readInt(c, deadline, "the handshake");
                if (status != 0) {
                    throw new Conn.PeerException("partition " + j + " refused partition " + me + " (status " + status + ")");
                }
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
            synchronized (conns) {
                conns[j] = c;
            }
        }
        long deadline = Conn.deadline(link.settings().timeoutMillis());
        synchronized (conns) {   // wait for the ones above
            while (!allConnected()) {
                if (killed.getAsBoolean()) {
                    throw new Conn.PeerException("the task was killed while waiting for its peers to connect");
                }
                if (System.nanoTime() - deadline >= 0) {
                    throw new Conn.PeerException("partitions " + missing() + " did not connect within "
                            + link.settings().timeoutMillis() + " ms");
                }
                try {
                    conns.wait(Conn.SLICE_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Conn.PeerException("interrupted while waiting for the peers to connect");
                }
            }
            setupOver = true;
        }
        closeServer();
        long now = System.nanoTime();
        Arrays.fill(lastWrite, now);
        long every = link.settings().heartbeatMillis();
        heartbeats.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
    }

    private boolean allConnected() {
        for (int j = 0; j < peers; j++) {
            if (j != me && conns[j] == null) {
                return false;
            }
        }
        return true;
    }

    private List<Integer> missing() {
        List<Integer> m = new ArrayList<>();
        for (int j = 0; j < peers; j++) {
            if (j != me && conns[j] == null) {
                m.add(j);
            }
        }
        return m;
    }

    /** The acceptor: hands each connection to its own short-lived thread, at most a few at a time. */
    private void accept() {
        Semaphore pending = new Semaphore(2 * peers + 8);
        ServerSocket s = server;
        while (!s.isClosed()) {
            Socket socket;
            try {
                socket = s.accept();
            } catch (SocketTimeoutException slice) {
                continue;
            } catch (IOException e) {
                return;   // closed
            }
            if (!pending.tryAcquire()) {
                closeQuietly(socket);
                PeerProbe.refused("partition " + me, "too many connections at once");
                continue;
            }
            Thread t = new Thread(() -> {
                try {
                    admit(socket);
                } finally {
                    pending.release();
                }
            }, "fql-peer-admit-" + me);
            t.setDaemon(true);
            t.start();
        }
    }

    /** One incoming connection: the handshake, then a free slot above this partition, or a refusal. */
    private void admit(Socket socket) {
        long deadline = Conn.deadline(link.settings().handshakeMillis());
        Conn c;
        try {
            c = Conn.accepted(socket, link.settings(), deadline, () -> closing, "a connection to partition " + me + " from "
                    + socket.getRemoteSocketAddress(), "the exchange closed");
        } catch (IOException e) {
            closeQuietly(socket);
            PeerProbe.refused("partition " + me, e.getMessage());
            return;
        }
        try {
            Handshake.Hello hello = Handshake.server(c, link.auth(), Handshake.PURPOSE_PEER, link.exchange(), me,
                    h -> h.attempt() != attempt ? "stage attempt " + h.attempt() + ", this task runs attempt " + attempt
                            : h.partition() <= me || h.partition() >= peers
                                    ? "partition " + h.partition() + " may not connect to partition " + me + " of " + peers : null,
                    deadline);
            synchronized (conns) {
                if (!setupOver && !closing && conns[hello.partition()] == null) {
                    c.write(ByteBuffer.allocate(4).putInt(0).array());
                    conns[hello.partition()] = c;
                    conns.notifyAll();
                    return;
                }
            }
            c.write(ByteBuffer.allocate(4).putInt(Rendezvous.DUPLICATE).array());
            throw new Conn.PeerException("partition " + hello.partition() + " is connected already");
        } catch (IOException e) {
            c.close();
            PeerProbe.refused("partition " + me, e.getMessage());
        }
    }

    private void beat() {
        long now = System.nanoTime();
        long every = link.settings().heartbeatMillis() * 1_000_000L;
        for (int j = 0; j < peers; j++) {
            if (j == me || closing || now - lastWrite[j] < every || !sendLocks[j].tryLock()) {
                continue;
            }
            try {
                if (!closing) {
                    conns[j].write(heartbeat);
                    lastWrite[j] = System.nanoTime();
                }
            } catch (IOException e) {
                // the receiving side of this connection will fail the task
            } finally {
                sendLocks[j].unlock();
            }
        }
    }

    /**
     * Sends {@code mine}, the state of round {@code round} of this stage, to every peer and returns all W states, index =
     * partition (this task's own included, as given).
     */
    public List<WorkerOutcome> exchange(WorkerOutcome mine, int round) {
        byte[] frame = StateFrames.state(expect, me, round, mine);
        List<Future<?>> sends = new ArrayList<>();
        for (int j = 0; j < peers; j++) {
            if (j == me) continue;
            int to = j;
            sends.add(senders.submit(() -> {
                sendLocks[to].lock();
                try {
                    conns[to].write(frame);
                    lastWrite[to] = System.nanoTime();
                } finally {
                    sendLocks[to].unlock();
                }
                return null;
            }));
        }
        WorkerOutcome[] all = new WorkerOutcome[peers];
        try {
            for (int j = 0; j < peers; j++) {
                all[j] = j == me ? mine : StateFrames.readState(conns[j], expect, j, round, link.settings().timeoutMillis());
            }
            for (Future<?> f : sends) {
                awaitSend(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("task " + me + ": exchange with its peers failed: " + e.getMessage(), e);
        }
        return Arrays.asList(all);
    }

    private void awaitSend(Future<?> f) throws IOException {
        while (true) {
            try {
                f.get(Conn.SLICE_MILLIS, TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException slice) {
                if (killed.getAsBoolean()) {
                    throw new Conn.PeerException("the task was killed while sending its state");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Conn.PeerException("interrupted while sending its state");
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }
    }

    /**
     * The orderly end after the last round: no more heartbeats, every connection half-closed after what was sent, then
     * read until each peer has done the same (so no socket is closed with a peer's bytes unread, which would reset
     * the connection under a peer still reading). A peer that stops short of that is left after the idle limit.
     */
    public void finish() {
        closing = true;
        heartbeats.shutdownNow();
        for (int j = 0; j < peers; j++) {
            if (j == me) continue;
            sendLocks[j].lock();
            try {
                conns[j].shutdownOutput();
            } catch (IOException e) {
                // the drain below ends at once
            } finally {
                sendLocks[j].unlock();
            }
        }
        for (int j = 0; j < peers; j++) {
            if (j == me) continue;
            try {
                conns[j].drain(link.settings().timeoutMillis(), "closing the exchange");
            } catch (IOException e) {
                // the states are all in; what is left was heartbeats
            }
        }
        close();
    }

    @Override
    public void close() {
        closing = true;
        heartbeats.shutdownNow();
        senders.shutdownNow();
        closeServer();
        synchronized (conns) {
            setupOver = true;
            for (Conn c : conns) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    private void closeServer() {
        ServerSocket s = server;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // best effort
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // best effort
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
