package org.fqlspark.train.peer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where the W tasks of a peer-averaging stage learn each other's addresses: a small TCP server on the driver that
 * answers once all W tasks of the same stage attempt have registered. It replaces {@code BarrierTaskContext.allGather},
 * whose answer arrives on a one-second poll (measured: every stage started a second late, 25 % of a quick-start-size
 * run's time). Only addresses pass through it; states go between the executors directly ({@code PeerExchange}).
 */
public final class Rendezvous implements AutoCloseable {

    /**
     * How long a task waits for the rendezvous's answer, and then for its peers' connections and messages, before the
     * stage fails. The exchange takes its deadline from here: the rendezvous knows nothing of what follows it.
     */
    static final int TIMEOUT_MILLIS = 600_000;

    private final ServerSocket server;
    private final int parties;
    private final Thread acceptor;
    /** Per stage attempt: the registered tasks' sockets and addresses, by partition. */
    private final Map<Integer, TreeMap<Integer, Object[]>> attempts = new HashMap<>();

    private Rendezvous(ServerSocket server, int parties) {
        this.server = server;
        this.parties = parties;
        this.acceptor = new Thread(this::serve, "fql-rendezvous");
        this.acceptor.setDaemon(true);
    }

    /** Listens on {@code host} (the driver's address as executors reach it) for stages of {@code parties} tasks. */
    public static Rendezvous open(String host, int parties) {
        try {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(host, 0), Math.max(50, parties));
            Rendezvous r = new Rendezvous(s, parties);
            r.acceptor.start();
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("could not open the peer rendezvous on " + host + ": " + e.getMessage(), e);
        }
    }

    public String address() {
        return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
    }

    private void serve() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                s.setSoTimeout(TIMEOUT_MILLIS);
                DataInputStream in = new DataInputStream(s.getInputStream());
                int attempt = in.readInt();
                int partition = in.readInt();
                String address = in.readUTF();
                List<Object[]> complete = null;
                synchronized (attempts) {
                    TreeMap<Integer, Object[]> group = attempts.computeIfAbsent(attempt, a -> new TreeMap<>());
                    Object[] old = group.put(partition, new Object[] {s, address});
                    if (old != null) {
                        ((Socket) old[0]).close();   // a retried task of the same attempt: the newer one counts
                    }
                    if (group.size() == parties) {
                        complete = new ArrayList<>(group.values());
                        attempts.remove(attempt);
                    }
                }
                if (complete != null) {
                    for (Object[] member : complete) {
                        try (Socket m = (Socket) member[0]) {
                            DataOutputStream out = new DataOutputStream(m.getOutputStream());
                            out.writeInt(parties);
                            for (Object[] each : complete) {
                                out.writeUTF((String) each[1]);
                            }
                            out.flush();
                        } catch (IOException e) {
                            // that task will fail and its stage be retried, registering again
                        }
                    }
                }
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    /** Task side: registers {@code mine} for {@code partition} and returns every task's address, by partition. */
    public static String[] gather(String rendezvous, int attempt, int partition, String mine) throws IOException {
        String[] hp = rendezvous.split(":");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), TIMEOUT_MILLIS);
            s.setSoTimeout(TIMEOUT_MILLIS);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(attempt);
            out.writeInt(partition);
            out.writeUTF(mine);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            int n = in.readInt();
            String[] all = new String[n];
            for (int i = 0; i < n; i++) {
                all[i] = in.readUTF();
            }
            return all;
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // best effort
        }
        synchronized (attempts) {
            for (TreeMap<Integer, Object[]> group : attempts.values()) {
                for (Object[] member : group.values()) {
                    try {
                        ((Socket) member[0]).close();
                    } catch (IOException e) {
                        // best effort
                    }
                }
            }
            attempts.clear();
        }
    }
}
