package org.fqlspark.train.peer;

import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A host (name, IPv4 or IPv6 literal) and a port. On the wire the two travel as separate fields, never as one string to
 * split; {@link #toString()} writes the URI form ({@code host:port}, {@code [v6]:port}) and {@link #parse} reads it back.
 */
public record HostPort(String host, int port) implements Serializable {

    private static final long serialVersionUID = 1L;
    /** The longest host name a registration may carry, in UTF-8 bytes (DNS names are at most 253). */
    static final int MAX_HOST_BYTES = 255;

    public HostPort {
        if (host == null || host.isEmpty() || host.getBytes(StandardCharsets.UTF_8).length > MAX_HOST_BYTES) {
            throw new IllegalArgumentException("bad host '" + host + "'");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("bad port " + port);
        }
    }

    /** The host and port of a bound or connected socket address, as an IP literal. */
    public static HostPort of(InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        return new HostPort(ip != null ? ip.getHostAddress() : a.getHostString(), a.getPort());
    }

    /** Reads {@code host:port}, {@code [v6]:port}; a bare IPv6 literal without brackets is ambiguous and refused. */
    public static HostPort parse(String s) {
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("'" + s + "' is not [host]:port");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || s.indexOf(':') != colon) {
                throw new IllegalArgumentException("'" + s + "' is not host:port (write an IPv6 address as [address]:port)");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        try {
            return new HostPort(host, Integer.parseInt(port));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' has no port number", e);
        }
    }

    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
