package org.fqlspark.train.peer;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.function.BooleanSupplier;

/**
 * A connected socket whose reads never block for long: each read waits at most {@link #SLICE_MILLIS}, and between
 * slices the read checks its limits, an absolute deadline (a handshake) and an idle limit (no byte for so long: a peer
 * gone silent), and whether the Spark task was killed. Partial reads are kept across slices, so a frame that arrives
 * slowly is read whole. Writes block (the socket's buffers), and are ended by {@link #close()} from another thread.
 */
final class Conn implements Closeable {

    static final int SLICE_MILLIS = 200;
    /** No deadline. */
    static final long NEVER = Long.MAX_VALUE;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final BooleanSupplier killed;
    private final String peer;
    /** What ended a wait when {@code killed} turned true. */
    private final String stopped;

    Conn(Socket socket, BooleanSupplier killed, String peer) throws IOException {
        this(socket, killed, peer, "the task was killed");
    }

    Conn(Socket socket, BooleanSupplier killed, String peer, String stopped) throws IOException {
        this.socket = socket;
        this.killed = killed;
        this.peer = peer;
        this.stopped = stopped;
        socket.setSoTimeout(SLICE_MILLIS);
        socket.setTcpNoDelay(true);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects to {@code to} within {@code timeoutMillis}. */
    static Conn connect(HostPort to, long timeoutMillis, BooleanSupplier killed, String peer) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(to.host(), to.port()), (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
            return new Conn(s, killed, peer);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    String peer() {
        return peer;
    }

    /** An absolute deadline {@code millis} from now, in {@link System#nanoTime()} terms. */
    static long deadline(long millis) {
        long now = System.nanoTime();
        long d = now + millis * 1_000_000L;
        return d < now ? NEVER : d;
    }

    /**
     * Reads exactly {@code len} bytes into {@code b}. Fails when {@code deadline} (nanoTime) passes before they are all
     * in, when no byte arrives for {@code idleMillis}, when the stream ends or when the task is killed.
     */
    void readFully(byte[] b, int off, int len, long deadline, long idleMillis, String what) throws IOException {
        int n = 0;
        long lastByte = System.nanoTime();
        while (n < len) {
            int r;
            try {
                r = in.read(b, off + n, len - n);
            } catch (SocketTimeoutException slice) {
                long now = System.nanoTime();
                checkKilled(what);
                if (now - deadline >= 0) {
                    throw new PeerException(peer + ": " + what + " not complete within its deadline (" + n + " of " + len + " bytes)");
                }
                if (idleMillis != NEVER && now - lastByte > idleMillis * 1_000_000L) {
                    throw new PeerException(peer + " sent nothing for " + idleMillis + " ms while " + what);
                }
                continue;
            }
            if (r < 0) {
                throw new EOFException(peer + " closed the connection during " + what + " (" + n + " of " + len + " bytes)");
            }
            n += r;
            lastByte = System.nanoTime();
        }
    }

    byte[] readFully(int len, long deadline, long idleMillis, String what) throws IOException {
        byte[] b = new byte[len];
        readFully(b, 0, len, deadline, idleMillis, what);
        return b;
    }

    /** Reads until the other side closes (a drain: everything read is thrown away), within the idle limit. */
    void drain(long idleMillis, String what) throws IOException {
        byte[] sink = new byte[4096];
        long lastByte = System.nanoTime();
        while (true) {
            int r;
            try {
                r = in.read(sink);
            } catch (SocketTimeoutException slice) {
                checkKilled(what);
                if (System.nanoTime() - lastByte > idleMillis * 1_000_000L) {
                    throw new PeerException(peer + " sent nothing for " + idleMillis + " ms while " + what);
                }
                continue;
            }
            if (r < 0) {
                return;
            }
            lastByte = System.nanoTime();
        }
    }

    void write(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
    }

    void flush() throws IOException {
        out.flush();
    }

    /** Sends FIN after everything written: the other side reads to the end and then sees the stream end. */
    void shutdownOutput() throws IOException {
        if (!socket.isClosed() && !socket.isOutputShutdown()) {
            socket.shutdownOutput();
        }
    }

    boolean isClosed() {
        return socket.isClosed();
    }

    void checkKilled(String what) throws PeerException {
        if (killed.getAsBoolean()) {
            throw new PeerException(stopped + " (" + what + ")");
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing is best effort
        }
    }

    /** A refusal or a limit reached on a peer connection. */
    static final class PeerException extends IOException {
        private static final long serialVersionUID = 1L;

        PeerException(String message) {
            super(message);
        }
    }
}
