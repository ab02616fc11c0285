package org.fqlspark.train.online;

import java.io.Serializable;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Where one online actor stands, small enough to travel with every round and to live in a checkpoint: which of its
 * episodes is running and how far, the observation it will act on, and the actions taken since that episode's reset.
 * An actor rebuilt from this (a new executor, a resumed run) resets its environment with the episode's seed and
 * replays the actions, which restores a deterministic environment exactly, bridge environments included.
 *
 * @param actor         actor index e of E
 * @param episode       the actor's own count of episodes started before the running one (its episode id is
 *                      {@code episode · E + e})
 * @param t             steps taken in the running episode
 * @param steps         environment steps this actor has taken in all (the index of its action-noise draw)
 * @param observation   the observation the next action is for; null before the first reset
 * @param episodeReturn sum of the environment's rewards in the running episode so far (unshifted)
 * @param actions       the running episode's actions, {@code t · actionDim} values
 * @param restarts      environments restarted after a failure (a crashed bridge)
 * @param chunk         with action chunks (h &gt; 1, docs/algorithm.md §11.4): the actions of the current chunk not
 *                      played yet, step-major, a multiple of {@code actionDim} values; null when none is pending (always
 *                      without chunks, so an FQL state's JSON has no such field)
 */
public record ActorState(
        @JsonProperty("actor") int actor,
        @JsonProperty("episode") long episode,
        @JsonProperty("t") int t,
        @JsonProperty("steps") long steps,
        @JsonProperty("observation") float[] observation,
        @JsonProperty("episode_return") double episodeReturn,
        @JsonProperty("actions") float[] actions,
        @JsonProperty("restarts") int restarts,
        @JsonProperty("chunk") @JsonInclude(JsonInclude.Include.NON_NULL) float[] chunk) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** An actor that has not reset its environment yet. */
    public static ActorState fresh(int actor) {
        return new ActorState(actor, 0, 0, 0, null, 0, new float[0], 0, null);
    }

    /** A state without a pending chunk (what every FQL actor's state is). */
    public ActorState(int actor, long episode, int t, long steps, float[] observation, double episodeReturn, float[] actions,
            int restarts) {
        this(actor, episode, t, steps, observation, episodeReturn, actions, restarts, null);
    }

    /** The running episode's id in the online dataset, unique over all E actors. */
    public long episodeId(int actors) {
        return episode * actors + actor;
    }
}
