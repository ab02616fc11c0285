package org.fqlspark.train.peer;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;

/**
 * All-to-all exchange of byte messages between the W tasks of one barrier stage, over direct TCP connections between
 * their executors: the driver only brokers the addresses once per stage ({@link Rendezvous}), the messages never pass
 * through it. {@link #exchange} gives every task every task's message in task order, so each can average
 * the states itself, in the same order and with the same arithmetic as the driver would.
 *
 * <p>One connection per pair (task i connects to every j &lt; i); sends run on their own threads while this one
 * receives, so two tasks sending each other megabytes cannot block on full socket buffers.
 */
public final class PeerExchange implements AutoCloseable {

    /** How long a task waits for its peers' connections and messages before the stage fails (the rendezvous's). */
    static final int TIMEOUT_MILLIS = Rendezvous.TIMEOUT_MILLIS;

    private final int me;
    private final int peers;
    private final Socket[] sockets;
    private final DataOutputStream[] out;
    private final DataInputStream[] in;
    private final ExecutorService senders;

    private PeerExchange(int me, int peers) {
        this.me = me;
        this.peers = peers;
        this.sockets = new Socket[peers];
        this.out = new DataOutputStream[peers];
        this.in = new DataInputStream[peers];
        this.senders = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fql-peer-send-" + me);
            t.setDaemon(true);
            return t;
        });
    }

    /** Connects this barrier task to the others of its stage, learning their addresses from {@code rendezvous}. */
    public static PeerExchange connect(BarrierTaskContext context, String rendezvous) {
        int me = context.partitionId();
        int peers = context.getTaskInfos().length;
        PeerExchange x = new PeerExchange(me, peers);
        try (ServerSocket server = new ServerSocket()) {
            String host = SparkEnv.get() != null ? SparkEnv.get().blockManager().blockManagerId().host()
                    : InetAddress.getLoopbackAddress().getHostAddress();
            server.bind(new InetSocketAddress(host, 0), peers);
            server.setSoTimeout(TIMEOUT_MILLIS);
            String[] addresses = Rendezvous.gather(rendezvous, context.stageAttemptNumber(), me, host + ":" + server.getLocalPort());
            if (addresses.length != peers) {
                throw new IOException("the rendezvous knows " + addresses.length + " tasks, the stage has " + peers);
            }
            for (int j = 0; j < me; j++) {   // connect down, announcing who we are
                String[] hp = addresses[j].split(":");
                Socket s = new Socket();
                s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), TIMEOUT_MILLIS);
                x.attach(j, s);
                x.out[j].writeInt(me);
                x.out[j].flush();
            }
            for (int k = me + 1; k < peers; k++) {   // accept the ones above
                Socket s = server.accept();
                DataInputStream hello = new DataInputStream(new BufferedInputStream(s.getInputStream()));
                int who = hello.readInt();
                if (who <= me || who >= peers || x.sockets[who] != null) {
                    s.close();
                    throw new IOException("unexpected peer " + who + " at task " + me);
                }
                x.attach(who, s, hello);
            }
            return x;
        } catch (IOException e) {
            x.close();
            throw new UncheckedIOException("task " + me + " could not connect to its " + (peers - 1) + " peers: " + e.getMessage(), e);
        }
    }

    private void attach(int j, Socket s) throws IOException {
        attach(j, s, new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16)));
    }

    private void attach(int j, Socket s, DataInputStream input) throws IOException {
        s.setSoTimeout(TIMEOUT_MILLIS);
        s.setTcpNoDelay(true);
        sockets[j] = s;
        out[j] = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16));
        in[j] = input;
    }

    /** Sends {@code mine} to every peer and returns all W messages, index = task (this task's own included). */
    public List<byte[]> exchange(byte[] mine) {
        List<Future<?>> sends = new ArrayList<>();
        for (int j = 0; j < peers; j++) {
            if (j == me) continue;
            DataOutputStream o = out[j];
            sends.add(senders.submit(() -> {
                o.writeInt(mine.length);
                o.write(mine);
                o.flush();
                return null;
            }));
        }
        List<byte[]> all = new ArrayList<>(peers);
        try {
            for (int j = 0; j < peers; j++) {
                if (j == me) {
                    all.add(mine);
                    continue;
                }
                int n = in[j].readInt();
                if (n < 0 || n > (1 << 30)) {
                    throw new IOException("peer " + j + " announced a message of " + n + " bytes");
                }
                byte[] b = new byte[n];
                in[j].readFully(b);
                all.add(b);
            }
            for (Future<?> f : sends) {
                f.get();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("task " + me + ": exchange with its peers failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("task " + me + " interrupted during the exchange", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new UncheckedIOException("task " + me + ": sending to a peer failed: " + e.getCause().getMessage(),
                    e.getCause() instanceof IOException io ? io : new IOException(e.getCause()));
        }
        return all;
    }

    @Override
    public void close() {
        senders.shutdownNow();
        for (Socket s : sockets) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException e) {
                    // closing is best effort
                }
            }
        }
    }
}
