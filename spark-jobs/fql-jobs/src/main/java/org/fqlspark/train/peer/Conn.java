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

import javax.net.ssl.SSLException;

/**
 * A connected socket whose reads never block for long: each read waits at most {@link #SLICE_MILLIS}, and between
 * slices the read checks its limits, an absolute deadline (a handshake) and an idle limit (no byte for so long: a peer
 * gone silent), and whether the Spark task was killed. Partial reads are kept across slices, so a frame that arrives
 * slowly is read whole. Writes block (the socket's buffers), and are ended by {@link #close()} from another thread.
 *
 * <p>Where the exchange runs over TLS ({@link PeerSettings#tls()}) the socket is a TLS socket over a plain one, its TLS
 * handshake done before the connection is made a {@code Conn}; the reads' slices work the same on it (a partial TLS
 * record is kept across a timeout).
 */
final class Conn implements Closeable {

    static final int SLICE_MILLIS = 200;
    /** No deadline. */
    static final long NEVER = Long.MAX_VALUE;

    private final Socket socket;
    /** The TCP socket under {@link #socket} (the same socket without TLS). */
    private final Socket raw;
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
        this(socket, socket, killed, peer, stopped);
    }

    private Conn(Socket socket, Socket raw, BooleanSupplier killed, String peer, String stopped) throws IOException {
        this.socket = socket;
        this.raw = raw;
        this.killed = killed;
        this.peer = peer;
        this.stopped = stopped;
        socket.setSoTimeout(SLICE_MILLIS);
        socket.setTcpNoDelay(true);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /**
     * Connects to {@code to} within the settings' timeout; over TLS where they say so, its handshake within their
     * handshake limit.
     */
    static Conn connect(HostPort to, PeerSettings settings, BooleanSupplier killed, String peer) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(to.host(), to.port()), (int) Math.min(Integer.MAX_VALUE, settings.timeoutMillis()));
            if (settings.tls() == null) {
                return new Conn(s, killed, peer);
            }
            Socket tls;
            try {
                tls = settings.tls().client(s, to, settings.handshakeMillis());
            } catch (IOException e) {
                throw new PeerException(peer + ": no TLS connection (" + e.getMessage() + ")");
            }
            return new Conn(tls, s, killed, peer, "the task was killed");
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * An accepted connection, through the server side of TLS where {@code settings} say so (its handshake done before
     * {@code deadline}, the client's certificate required); a client that does not complete it is refused with a
     * {@link PeerException}. The caller closes {@code accepted} when this throws.
     */
    static Conn accepted(Socket accepted, PeerSettings settings, long deadline, BooleanSupplier killed, String peer,
            String stopped) throws IOException {
        if (settings.tls() == null) {
            return new Conn(accepted, killed, peer, stopped);
        }
        Socket tls;
        try {
            tls = settings.tls().server(accepted, Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
        } catch (IOException e) {
            throw new PeerException("no TLS handshake from " + accepted.getRemoteSocketAddress() + ": " + e.getMessage());
        }
        return new Conn(tls, accepted, killed, peer, stopped);
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
            } catch (SSLException e) {   // over TLS: e.g. the other side refused this side's certificate
                throw new PeerException(peer + ": TLS failed during " + what + " (" + e.getMessage() + ")");
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
        write(b, 0, b.length);
        flush();
    }

    void write(byte[] b, int off, int len) throws IOException {
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            throw tlsFailure(e, "writing");
        }
    }

    void flush() throws IOException {
        try {
            out.flush();
        } catch (IOException e) {
            throw tlsFailure(e, "writing");
        }
    }

    /**
     * Over TLS a client's first write can fail because the server refused its certificate (TLS 1.3 finishes the client's
     * handshake before the server has checked it): says so. Plain connections' failures are left as they are.
     */
    private IOException tlsFailure(IOException e, String what) {
        return raw == socket || e instanceof PeerException ? e : new PeerException(peer + ": the TLS connection failed while "
                + what + " (" + e.getMessage() + "; at its first message: the other side may have refused this side's certificate)");
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

    /**
     * Closes the connection, at once: over TLS the TCP socket first (a TLS socket's own close waits for a write blocked
     * on a peer that reads nothing, to send its close_notify after it; an orderly end has sent that already, with
     * {@link #shutdownOutput()}).
     */
    @Override
    public void close() {
        if (raw != socket) {
            try {
                raw.close();
            } catch (IOException e) {
                // closing is best effort
            }
        }
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
