package org.fqlspark.eval;

/**
 * The external environment failed: its process crashed, hung, answered something that is not protocol version 1,
 * or reported an error. The message says which, names the command, and ends with the tail of the process's stderr.
 * The evaluator marks the episode failed with this message and starts a new process for the next episode.
 */
public final class BridgeException extends RuntimeException {

    /** What went wrong. */
    public enum Kind {
        /** The process could not be started or exited (with its exit code). */
        CRASH,
        /** No answer within the timeout; the process was killed. */
        TIMEOUT,
        /** A line that is not valid protocol: not JSON, wrong protocol or version, wrong shapes, missing fields. */
        PROTOCOL,
        /** The server answered {@code {"ok": false, "error": ...}}, e.g. the environment raised. */
        REMOTE
    }

    private final Kind kind;

    public BridgeException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
