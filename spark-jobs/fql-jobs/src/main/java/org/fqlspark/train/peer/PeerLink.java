package org.fqlspark.train.peer;

import java.io.Serializable;

/**
 * What the tasks of one peer-averaging stage need to find and trust each other, shipped in the stage's closure: where
 * the driver's rendezvous listens, the run's secret, the stage's exchange id (a random number of this stage, in every
 * handshake and frame, so nothing of another stage is taken for this one's), the number of tasks, and the time
 * limits. {@link #toString()} does not show the secret.
 */
public record PeerLink(HostPort rendezvous, PeerAuth auth, long exchange, int parties, PeerSettings settings) implements Serializable {

    private static final long serialVersionUID = 1L;

    public PeerLink {
        if (parties < 1) {
            throw new IllegalArgumentException("a stage has at least one task, not " + parties);
        }
    }
}
