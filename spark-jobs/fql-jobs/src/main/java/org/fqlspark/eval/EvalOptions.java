package org.fqlspark.eval;

import java.io.Serializable;
import java.time.Duration;

import org.fqlspark.tensor.Backends;

/**
 * What to evaluate and where to write it; validated on construction, with messages that name the command-line flag.
 *
 * @param checkpoint            checkpoint file, or a training run directory (its latest checkpoint), any Hadoop path
 * @param env                   built-in id ({@code pointmaze-medium}) or {@code bridge:<command line>} ({@link EnvSpec})
 * @param episodes              number of episodes (the paper uses 50)
 * @param output                output directory (Hadoop path); must not exist unless {@code overwrite}
 * @param seed                  run seed: episode i's environment seed and noise stream derive from (seed, i)
 * @param partitions            Spark partitions the episodes are spread over; 0 = min(episodes, default parallelism)
 * @param overwrite             replace an existing output directory
 * @param maxEpisodeSteps       cap on steps per episode; 0 = the environment's own time limit
 * @param bridgeStartupTimeout  longest wait for an external environment's handshake
 * @param bridgeRequestTimeout  longest wait for each reset/step answer of an external environment
 * @param policy                who acts: the one-step policy or the BC flow
 * @param backend               {@code --backend}: auto, cpu or opencl. {@code opencl} acts through OpenCL on the
 *                              executors (the task's GPU, else the first OpenCL device); {@code auto} and {@code cpu}
 *                              act on the CPU, which answers an action at a time faster
 */
public record EvalOptions(
        String checkpoint,
        String env,
        int episodes,
        String output,
        long seed,
        int partitions,
        boolean overwrite,
        int maxEpisodeSteps,
        Duration bridgeStartupTimeout,
        Duration bridgeRequestTimeout,
        Policy policy,
        String backend) implements Serializable {

    /** The one-step policy (the FQL evaluation protocol). */
    public EvalOptions(String checkpoint, String env, int episodes, String output, long seed, int partitions, boolean overwrite,
                       int maxEpisodeSteps, Duration bridgeStartupTimeout, Duration bridgeRequestTimeout) {
        this(checkpoint, env, episodes, output, seed, partitions, overwrite, maxEpisodeSteps, bridgeStartupTimeout,
                bridgeRequestTimeout, Policy.ONE_STEP, Backends.AUTO);
    }

    public static final Duration DEFAULT_BRIDGE_STARTUP_TIMEOUT = Duration.ofMinutes(5);
    public static final Duration DEFAULT_BRIDGE_REQUEST_TIMEOUT = Duration.ofSeconds(60);
    /** Most episodes one evaluation may run (one row each, collected on the driver). */
    public static final int MAX_EPISODES = 1_000_000;

    public EvalOptions {
        if (checkpoint == null || checkpoint.isBlank()) throw new EvalInputException("--checkpoint is missing");
        if (env == null || env.isBlank()) throw new EvalInputException("--env is missing: a built-in id (e.g. pointmaze-medium) or bridge:COMMAND");
        if (episodes <= 0 || episodes > MAX_EPISODES) {
            throw new EvalInputException("--episodes must be in 1.." + MAX_EPISODES + ", was " + episodes);
        }
        if (output == null || output.isBlank()) throw new EvalInputException("--output is missing");
        if (partitions < 0) throw new EvalInputException("--partitions must be positive (or 0 for the default), was " + partitions);
        if (maxEpisodeSteps < 0) throw new EvalInputException("--max-episode-steps must be positive (or 0 for the environment's limit), was " + maxEpisodeSteps);
        if (policy == null) policy = Policy.ONE_STEP;
        backend = Backends.check(backend == null ? Backends.AUTO : backend);
        if (bridgeStartupTimeout == null) bridgeStartupTimeout = DEFAULT_BRIDGE_STARTUP_TIMEOUT;
        if (bridgeRequestTimeout == null) bridgeRequestTimeout = DEFAULT_BRIDGE_REQUEST_TIMEOUT;
        if (bridgeStartupTimeout.isNegative() || bridgeStartupTimeout.isZero()) {
            throw new EvalInputException("--bridge-startup-timeout must be positive, was " + bridgeStartupTimeout.toMillis() / 1000.0 + " s");
        }
        if (bridgeRequestTimeout.isNegative() || bridgeRequestTimeout.isZero()) {
            throw new EvalInputException("--bridge-timeout must be positive, was " + bridgeRequestTimeout.toMillis() / 1000.0 + " s");
        }
        if (bridgeStartupTimeout.compareTo(BridgeEnvironment.MAX_TIMEOUT) > 0) {
            throw new EvalInputException("--bridge-startup-timeout must be at most " + BridgeEnvironment.MAX_TIMEOUT.toSeconds()
                    + " s (a day), was " + bridgeStartupTimeout.toSeconds() + " s");
        }
        if (bridgeRequestTimeout.compareTo(BridgeEnvironment.MAX_TIMEOUT) > 0) {
            throw new EvalInputException("--bridge-timeout must be at most " + BridgeEnvironment.MAX_TIMEOUT.toSeconds()
                    + " s (a day), was " + bridgeRequestTimeout.toSeconds() + " s");
        }
        checkpoint = checkpoint.trim();
        env = env.trim();
        output = output.trim();
    }

    /** The defaults of everything but the four required values: seed 0, default partitions, no overwrite, env limit. */
    public static EvalOptions of(String checkpoint, String env, int episodes, String output) {
        return new EvalOptions(checkpoint, env, episodes, output, 0L, 0, false, 0, null, null);
    }

    public EvalOptions withSeed(long s) {
        return new EvalOptions(checkpoint, env, episodes, output, s, partitions, overwrite, maxEpisodeSteps, bridgeStartupTimeout, bridgeRequestTimeout, policy, backend);
    }

    public EvalOptions withPartitions(int p) {
        return new EvalOptions(checkpoint, env, episodes, output, seed, p, overwrite, maxEpisodeSteps, bridgeStartupTimeout, bridgeRequestTimeout, policy, backend);
    }

    public EvalOptions withOverwrite(boolean o) {
        return new EvalOptions(checkpoint, env, episodes, output, seed, partitions, o, maxEpisodeSteps, bridgeStartupTimeout, bridgeRequestTimeout, policy, backend);
    }

    public EvalOptions withMaxEpisodeSteps(int m) {
        return new EvalOptions(checkpoint, env, episodes, output, seed, partitions, overwrite, m, bridgeStartupTimeout, bridgeRequestTimeout, policy, backend);
    }

    public EvalOptions withEnv(String e) {
        return new EvalOptions(checkpoint, e, episodes, output, seed, partitions, overwrite, maxEpisodeSteps, bridgeStartupTimeout, bridgeRequestTimeout, policy, backend);
    }

    public EvalOptions withOutput(String o) {
        return new EvalOptions(checkpoint, env, episodes, o, seed, partitions, overwrite, maxEpisodeSteps, bridgeStartupTimeout, bridgeRequestTimeout, policy, backend);
    }

    public EvalOptions withBridgeTimeouts(Duration startup, Duration request) {
        return new EvalOptions(checkpoint, env, episodes, output, seed, partitions, overwrite, maxEpisodeSteps, startup, request, policy, backend);
    }

    public EvalOptions withPolicy(Policy p) {
        return new EvalOptions(checkpoint, env, episodes, output, seed, partitions, overwrite, maxEpisodeSteps, bridgeStartupTimeout,
                bridgeRequestTimeout, p, backend);
    }

    public EvalOptions withBackend(String b) {
        return new EvalOptions(checkpoint, env, episodes, output, seed, partitions, overwrite, maxEpisodeSteps, bridgeStartupTimeout,
                bridgeRequestTimeout, policy, b);
    }
}
