package org.fqlspark.train.peer;

/**
 * Where tests watch the peer exchange from the inside: the addresses the rendezvous and each task listen on, the
 * registrations the rendezvous accepts, and every connection it or a task refuses, with the reason. Nothing is
 * installed in production (every call is then a read of a null field); a test installs a listener in local mode,
 * where the tasks run in its JVM, and runs its attacks from the callbacks, which run on the thread that is about to
 * go on (so the attack lands while the port is open).
 */
public final class PeerProbe {

    /** Callbacks; each has a default that does nothing. */
    public interface Listener {
        /** The driver's rendezvous for {@code link}'s stage listens at {@code address}; the stage is not submitted yet. */
        default void rendezvousOpen(HostPort address, PeerLink link) {
        }

        /** The rendezvous accepted the registration of {@code partition} in {@code attempt}. */
        default void registered(PeerLink link, int attempt, int partition) {
        }

        /** Task {@code partition} of {@code attempt} accepts its peers at {@code address}; it registers next. */
        default void listening(PeerLink link, int attempt, int partition, HostPort address) {
        }

        /** A connection to {@code where} ("rendezvous" or "partition N") was refused for {@code reason}. */
        default void refused(String where, String reason) {
        }
    }

    private static volatile Listener listener;

    private PeerProbe() {
    }

    /** Installs {@code l} (null: none). Tests only. */
    public static void install(Listener l) {
        listener = l;
    }

    static void rendezvousOpen(HostPort address, PeerLink link) {
        Listener l = listener;
        if (l != null) {
            l.rendezvousOpen(address, link);
        }
    }

    static void registered(PeerLink link, int attempt, int partition) {
        Listener l = listener;
        if (l != null) {
            l.registered(link, attempt, partition);
        }
    }

    static void listening(PeerLink link, int attempt, int partition, HostPort address) {
        Listener l = listener;
        if (l != null) {
            l.listening(link, attempt, partition, address);
        }
    }

    static void refused(String where, String reason) {
        Listener l = listener;
        if (l != null) {
            l.refused(where, reason);
        }
    }
}
