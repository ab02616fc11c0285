package org.fqlspark.train.peer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Where the W tasks of a peer-averaging stage learn each other's addresses: a small TCP server on the driver that
 * answers once all W tasks of the same stage attempt have registered. It replaces {@code BarrierTaskContext.allGather},
 * whose answer arrives on a one-second poll (measured: every stage started a second late, 25 % of a quick-start-size
 * run's time). Only addresses pass through it; states go between the executors directly ({@link PeerExchange}).
 *
 * <p>Every connection first passes the {@link Handshake} (the run's secret, this stage's exchange id, a partition in
 * 0..W-1), then registers: host length (int32, 1..255), host (UTF-8), port (int32). Within one stage attempt a
 * partition registers once; a second registration of it, one of an older attempt, or one after the attempt's group is
 * complete is refused (status 1, 2, 3; a malformed registration 4) and its socket closed. Once the group is complete
 * every member gets status 0, W, and the W addresses in partition order (length, host, port each), and is closed; a
 * newer attempt drops what an older one left. Connections are served concurrently, by at most
 * {@link #maxHandlers(int)} threads (more are closed at once), each within {@link PeerSettings#handshakeMillis()}:
 * a connection that sends nothing blocks nobody and is closed at its deadline. Where the exchange runs over TLS
 * ({@link PeerSettings#tls()}), the TLS handshake comes first, within the same limit.
 */
public final class Rendezvous implements AutoCloseable {

    static final int OK = 0;
    static final int DUPLICATE = 1;
    static final int STALE = 2;
    static final int COMPLETE = 3;
    static final int MALFORMED = 4;

    private final ServerSocket server;
    private final HostPort advertised;
    private final PeerLink link;
    private final Thread acceptor;
    private final ThreadPoolExecutor handlers;
    /** Connections being handled, closed by {@link #close()}. */
    private final Set<Conn> active = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** The newest stage attempt seen, its registrations by partition, and whether its group completed. */
    private int attempt = -1;
    private final TreeMap<Integer, Member> group = new TreeMap<>();
    private boolean complete;

    private record Member(Conn conn, HostPort address) {
    }

    private Rendezvous(ServerSocket server, HostPort advertised, PeerAuth auth, long exchange, int parties, PeerSettings settings) {
        this.server = server;
        this.advertised = advertised;
        this.link = new PeerLink(advertised, auth, exchange, parties, settings);
        this.handlers = new ThreadPoolExecutor(0, maxHandlers(parties), 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "fql-rendezvous-connection");
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::serve, "fql-rendezvous");
        this.acceptor.setDaemon(true);
    }

    /**
     * Listens on {@code bindHost} (the driver's {@code spark.driver.bindAddress}) and tells tasks to connect to
     * {@code advertiseHost} ({@code spark.driver.host}), for a stage of {@code parties} tasks.
     */
    public static Rendezvous open(String bindHost, String advertiseHost, int parties, PeerAuth auth, long exchange,
            PeerSettings settings) {
        try {
            ServerSocket s = new ServerSocket();
            try {
                s.bind(new InetSocketAddress(bindHost, 0), Math.max(50, 4 * parties));
            } catch (IOException e) {
                s.close();
                throw e;
            }
            Rendezvous r = new Rendezvous(s, new HostPort(advertiseHost, s.getLocalPort()), auth, exchange, parties, settings);
            r.acceptor.start();
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("could not open the peer rendezvous on " + bindHost + ": " + e.getMessage(), e);
        }
    }

    /** How many connections are served at once: a stage's W registrations, and room for as many again. */
    static int maxHandlers(int parties) {
        return Math.max(64, 4 * parties);
    }

    /** What the stage's tasks need: this rendezvous's advertised address, the secret, the exchange, W, the limits. */
    public PeerLink link() {
        return link;
    }

    public HostPort address() {
        return advertised;
    }

    private void serve() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
                continue;
            }
            try {
                handlers.execute(() -> handle(s));
            } catch (RejectedExecutionException busy) {
                closeQuietly(s);
                PeerProbe.refused("rendezvous", "too many connections at once (" + maxHandlers(link.parties()) + ")");
            }
        }
    }

    private void handle(Socket s) {
        long deadline = Conn.deadline(link.settings().handshakeMillis());
        Conn c;
        try {
            c = Conn.accepted(s, link.settings(), deadline, () -> closed, "a client of the rendezvous at " + s.getRemoteSocketAddress(),
                    "the rendezvous closed");
        } catch (IOException e) {
            closeQuietly(s);
            PeerProbe.refused("rendezvous", closed ? "the rendezvous closed (the stage is over)" : e.getMessage());
            return;
        }
        active.add(c);
        boolean kept = false;
        try {
            int parties = link.parties();
            Handshake.Hello hello = Handshake.server(c, link.auth(), Handshake.PURPOSE_RENDEZVOUS, link.exchange(), -1,
                    h -> h.partition() < 0 || h.partition() >= parties ? "partition " + h.partition() + " is not in 0.." + (parties - 1)
                            : h.attempt() < 0 ? "stage attempt " + h.attempt() : null, deadline);
            int length = ByteBuffer.wrap(c.readFully(4, deadline, Conn.NEVER, "the registration")).getInt();
            if (length < 1 || length > HostPort.MAX_HOST_BYTES) {
                refuse(c, MALFORMED, "a registration whose host has " + length + " bytes");
                return;
            }
            String host = new String(c.readFully(length, deadline, Conn.NEVER, "the registration"), StandardCharsets.UTF_8);
            int port = ByteBuffer.wrap(c.readFully(4, deadline, Conn.NEVER, "the registration")).getInt();
            HostPort address;
            try {
                address = new HostPort(host, port);
            } catch (IllegalArgumentException e) {
                refuse(c, MALFORMED, "a registration of " + e.getMessage());
                return;
            }
            kept = register(hello, c, address);
        } catch (IOException e) {
            PeerProbe.refused("rendezvous", closed ? "the rendezvous closed (the stage is over)" : e.getMessage());
        } finally {
            active.remove(c);
            if (!kept) {
                c.close();
            }
        }
    }

    /** Adds a member; answers the whole group when it is complete. Returns whether {@code c} is kept open. */
    private boolean register(Handshake.Hello hello, Conn c, HostPort address) throws IOException {
        List<Member> members = null;
        int status = OK;
        List<Member> dropped = List.of();
        synchronized (group) {
            if (hello.attempt() < attempt) {
                status = STALE;
            } else {
                if (hello.attempt() > attempt) {
                    dropped = new ArrayList<>(group.values());   // an older attempt's tasks were killed
                    group.clear();
                    attempt = hello.attempt();
                    complete = false;
                }
                if (complete) {
                    status = COMPLETE;
                } else if (group.containsKey(hello.partition())) {
                    status = DUPLICATE;
                } else {
                    group.put(hello.partition(), new Member(c, address));
                    if (group.size() == link.parties()) {
                        members = new ArrayList<>(group.values());
                        group.clear();
                        complete = true;
                    }
                }
            }
        }
        for (Member m : dropped) {
            m.conn().close();
        }
        if (status != OK) {
            refuse(c, status, switch (status) {
                case STALE -> "a registration for stage attempt " + hello.attempt() + " after attempt " + attempt + " began";
                case COMPLETE -> "a registration for stage attempt " + hello.attempt() + ", whose tasks have all registered";
                default -> "a second registration of partition " + hello.partition() + " in stage attempt " + hello.attempt();
            });
            return false;
        }
        PeerProbe.registered(link, hello.attempt(), hello.partition());
        if (members != null) {
            ByteBuffer answer = answer(members);
            for (Member m : members) {
                try (Conn conn = m.conn()) {
                    conn.write(answer.array());
                } catch (IOException e) {
                    // that task fails, which fails the stage; Spark runs it again and the tasks register again
                }
            }
        }
        return true;
    }

    private static ByteBuffer answer(List<Member> members) {
        List<byte[]> hosts = members.stream().map(m -> m.address().host().getBytes(StandardCharsets.UTF_8)).toList();
        ByteBuffer b = ByteBuffer.allocate(8 + hosts.stream().mapToInt(h -> 8 + h.length).sum());
        b.putInt(OK).putInt(members.size());
        for (int i = 0; i < members.size(); i++) {
            b.putInt(hosts.get(i).length).put(hosts.get(i)).putInt(members.get(i).address().port());
        }
        return b;
    }

    private static void refuse(Conn c, int status, String why) {
        try {
            c.write(ByteBuffer.allocate(4).putInt(status).array());
        } catch (IOException e) {
            // it is closed next anyway
        }
        PeerProbe.refused("rendezvous", why);
    }

    /**
     * Task side: registers {@code mine} as {@code partition} of stage attempt {@code attempt} with the rendezvous of
     * {@code link} and returns every task's address, by partition.
     */
    static HostPort[] gather(PeerLink link, int attempt, int partition, HostPort mine, BooleanSupplier killed) throws IOException {
        PeerSettings limits = link.settings();
        try (Conn c = Conn.connect(link.rendezvous(), limits, killed, "the rendezvous at " + link.rendezvous())) {
            long deadline = Conn.deadline(limits.handshakeMillis());
            Handshake.client(c, link.auth(), new Handshake.Hello(Handshake.PURPOSE_RENDEZVOUS, link.exchange(), attempt, partition),
                    -1, deadline);
            byte[] host = mine.host().getBytes(StandardCharsets.UTF_8);
            c.write(ByteBuffer.allocate(8 + host.length).putInt(host.length).put(host).putInt(mine.port()).array());
            long wait = Conn.deadline(limits.gatherMillis());
            String what = "waiting for the other tasks of stage attempt " + attempt + " to register";
            int status = readInt(c, wait, what);
            if (status != OK) {
                throw new Conn.PeerException("the rendezvous refused partition " + partition + " of stage attempt " + attempt + ": "
                        + switch (status) {
                            case DUPLICATE -> "that partition had registered already";
                            case STALE -> "a newer attempt of the stage has begun";
                            case COMPLETE -> "that attempt's tasks had all registered";
                            default -> "status " + status;
                        });
            }
            int n = readInt(c, wait, what);
            if (n != link.parties()) {
                throw new Conn.PeerException("the rendezvous answered with " + n + " tasks, the stage has " + link.parties());
            }
            HostPort[] all = new HostPort[n];
            for (int i = 0; i < n; i++) {
                int length = readInt(c, wait, what);
                if (length < 1 || length > HostPort.MAX_HOST_BYTES) {
                    throw new Conn.PeerException("the rendezvous answered with a host of " + length + " bytes");
                }
                String h = new String(c.readFully(length, wait, Conn.NEVER, what), StandardCharsets.UTF_8);
                all[i] = new HostPort(h, readInt(c, wait, what));
            }
            return all;
        }
    }

    static int readInt(Conn c, long deadline, String what) throws IOException {
        return ByteBuffer.wrap(c.readFully(4, deadline, Conn.NEVER, what)).getInt();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // best effort
        }
        handlers.shutdownNow();
        for (Conn c : active) {
            c.close();
        }
        synchronized (group) {
            for (Member m : group.values()) {
                m.conn().close();
            }
            group.clear();
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // best effort
        }
    }

    /** The registrations of the current attempt, for tests. */
    Map<Integer, HostPort> registered() {
        synchronized (group) {
            TreeMap<Integer, HostPort> m = new TreeMap<>();
            group.forEach((p, member) -> m.put(p, member.address()));
            return m;
        }
    }
}
