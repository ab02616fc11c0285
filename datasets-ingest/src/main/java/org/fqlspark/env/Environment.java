package org.fqlspark.env;

/**
 * A single-task episodic environment with continuous observations and actions, as the evaluator drives it: reset
 * with a seed, then step until {@code terminated} or {@code truncated}.
 *
 * <p>Implementations are not thread-safe: one instance per rollout thread. They are cheap to build through
 * {@link EnvironmentRegistry#create(String)}, so Spark tasks should ship the id string, not an instance.
 */
public interface Environment {

    /** The registry id this instance was built from, e.g. {@code pointmaze-medium-task1}. */
    String id();

    int observationDim();

    int actionDim();

    /** Steps after which an episode is truncated (the evaluation time limit). */
    int maxEpisodeSteps();

    /**
     * Starts a new episode. The same seed always gives the same initial observation, whatever happened before.
     *
     * @return the first observation, a fresh array of length {@link #observationDim()}
     */
    float[] reset(long seed);

    /**
     * Applies one action. Actions outside [−1, 1] are clipped, as the point-maze's actuators would.
     *
     * @throws IllegalStateException if no episode is running (never reset, or the last step ended it)
     * @throws IllegalArgumentException if the action has the wrong length or is not finite
     */
    StepResult step(float[] action);
}
