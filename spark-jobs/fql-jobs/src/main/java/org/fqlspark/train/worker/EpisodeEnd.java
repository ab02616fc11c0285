package org.fqlspark.train.worker;

import java.io.Serializable;

/**
 * One online episode that ended (terminated, truncated, or cut by a failed environment).
 *
 * @param envStep the online environment step (over all actors) at which it ended, counted from the start of the phase
 */
public record EpisodeEnd(long episodeId, int actor, double episodeReturn, int length, boolean success, boolean failed,
        long envStep) implements Serializable {

    private static final long serialVersionUID = 1L;
}
