package org.fqlspark.eval;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.LongAccumulator;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.env.Environment;
import org.fqlspark.env.StepResult;
import org.fqlspark.tensor.Backends;
import org.fqlspark.train.worker.DeviceBinding;

/**
 * The work of one Spark task: restore the agent once from the broadcast checkpoint bytes, build the environment once,
 * and run the task's episodes one after the other. A failed episode (bridge crash, hang, garbage; any exception of
 * the environment) becomes a failed row, the environment is thrown away and the next episode gets a fresh one (for
 * the bridge: a new subprocess).
 */
final class EpisodeRollouts implements FlatMapFunction<Iterator<Integer>, EpisodeRollouts.Rollout> {

    /** An episode's row and, for the point-maze's picture, its (x, y) path flattened, or null. */
    record Rollout(EpisodeResult result, float[] path) implements Serializable {
    }

    private final Broadcast<byte[]> checkpoint;
    private final String checkpointName;
    private final EnvSpec env;
    private final long runSeed;
    private final int stepLimit;
    private final int recordPathsBelow;
    private final Duration bridgeStartupTimeout;
    private final Duration bridgeRequestTimeout;
    private final LongAccumulator episodesDone;
    private final LongAccumulator episodesFailed;
    private final Policy policy;
    /**
     * The tensor backend rollouts act on ({@code --backend}, {@link EvalOptions#backend()}), carried to the executors:
     * {@code opencl} acts through OpenCL (the task's GPU, else the first OpenCL device); {@code auto} and {@code cpu}
     * keep the CPU rule of {@link Checkpoint#restoreForActing()}, since an action at a time is latency-bound and the
     * CPU answers faster.
     */
    private final String backend;

    EpisodeRollouts(Broadcast<byte[]> checkpoint, String checkpointName, EnvSpec env, long runSeed, int stepLimit,
                    int recordPathsBelow, Duration bridgeStartupTimeout, Duration bridgeRequestTimeout,
                    LongAccumulator episodesDone, LongAccumulator episodesFailed, Policy policy, String backend) {
        this.policy = policy;
        this.backend = Backends.check(backend);
        this.checkpoint = checkpoint;
        this.checkpointName = checkpointName;
        this.env = env;
        this.runSeed = runSeed;
        this.stepLimit = stepLimit;
        this.recordPathsBelow = recordPathsBelow;
        this.bridgeStartupTimeout = bridgeStartupTimeout;
        this.bridgeRequestTimeout = bridgeRequestTimeout;
        this.episodesDone = episodesDone;
        this.episodesFailed = episodesFailed;
    }

    @Override
    public Iterator<Rollout> call(Iterator<Integer> episodes) {
        List<Rollout> out = new ArrayList<>();
        if (!episodes.hasNext()) return out.iterator();
        Checkpoint restored = Checkpoint.fromBytes(checkpoint.value(), checkpointName);
        // acting is one observation at a time: small networks run faster on plain Java than through ND4J's per-call set-up
        FqlAgent agent;
        if (backend.equals(Backends.OPENCL)) {
            org.fqlspark.tensor.TensorOps ops = Backends.forTask(backend, DeviceBinding.taskGpuAddress());
            System.err.println("fql evaluate: rollouts act on " + ops.deviceName() + " (backend opencl)");
            agent = restored.restore(ops);
        } else {
            agent = restored.restoreForActing();
        }
        Environment environment = null;
        try {
            while (episodes.hasNext()) {
                int episode = episodes.next();
                Rollout rollout;
                try {
                    if (environment == null) environment = openEnvironment(agent);
                    rollout = runEpisode(agent, environment, runSeed, episode, stepLimit, episode < recordPathsBelow, policy);
                } catch (RuntimeException e) {
                    rollout = new Rollout(EpisodeResult.failed(episode, EpisodeSeeds.environmentSeed(runSeed, episode), 0, 0,
                            describe(e)), null);
                }
                if (rollout.result().failed()) {
                    closeQuietly(environment);
                    environment = null;
                    if (episodesFailed != null) episodesFailed.add(1);
                }
                if (episodesDone != null) episodesDone.add(1);
                out.add(rollout);
            }
        } finally {
            closeQuietly(environment);
        }
        return out.iterator();
    }

    private Environment openEnvironment(FqlAgent agent) {
        Environment environment = env.create(bridgeStartupTimeout, bridgeRequestTimeout);
        if (environment.observationDim() != agent.obsDim() || environment.actionDim() != agent.actionDim()) {
            closeQuietly(environment);
            throw new EvalInputException("the checkpoint is for observation dim " + agent.obsDim() + " and action dim "
                    + agent.actionDim() + ", environment " + environment.id() + " has " + environment.observationDim() + " and "
                    + environment.actionDim());
        }
        return environment;
    }

    /**
     * Runs one episode: reset with the episode's seed, then act with {@code clip(μ_ω(s, z))}, fresh z from the
     * episode's noise stream each step (docs/algorithm.md §7), until the environment ends the episode or
     * {@code stepLimit} steps. Success is the environment's flag at the final step. Any exception ends the episode as
     * failed.
     *
     * <p>With action chunks (h = {@link FqlAgent#horizon()} &gt; 1, docs/algorithm.md §11.4) a policy call returns h
     * actions, which are played open loop, one per environment step, before the policy is called again (with fresh
     * z of h·A draws from the same stream); an episode that ends inside a chunk drops the rest of it. With h = 1 this
     * is the loop above, draw for draw.
     */
    static Rollout runEpisode(FqlAgent agent, Environment environment, long runSeed, int episode, int stepLimit, boolean recordPath) {
        return runEpisode(agent, environment, runSeed, episode, stepLimit, recordPath, Policy.ONE_STEP);
    }

    /** As above, acting with {@code policy}: the one-step policy, or the BC flow policy from the same noise stream. */
    static Rollout runEpisode(FqlAgent agent, Environment environment, long runSeed, int episode, int stepLimit, boolean recordPath,
                              Policy policy) {
        long seed = EpisodeSeeds.environmentSeed(runSeed, episode);
        SplittableRandom noise = EpisodeSeeds.actionNoise(runSeed, episode);
        double episodeReturn = 0;
        int length = 0;
        boolean success = false;
        PathRecorder path = recordPath ? new PathRecorder(stepLimit + 1) : null;
        try {
            float[] observation = environment.reset(seed);
            if (observation.length != agent.obsDim()) {
                throw new IllegalStateException("reset returned " + observation.length + " values, the agent takes " + agent.obsDim());
            }
            if (path != null) path.add(observation);
            int h = agent.horizon();
            int a = agent.actionDim();
            float[] chunk = null;
            int played = h;
            while (length < stepLimit) {
                if (played == h) {
                    chunk = policy == Policy.FLOW_BC
                            ? agent.computeFlowActions(observation, org.fqlspark.agent.StepNoise.gaussian(agent.chunkActionDim(), noise), 1)
                            : agent.sampleActions(observation, 1, noise);
                    played = 0;
                }
                float[] action = h == 1 ? chunk : Arrays.copyOfRange(chunk, played * a, (played + 1) * a);
                played++;
                StepResult step = environment.step(action);
                episodeReturn += step.reward();
                length++;
                success = step.success();
                observation = step.observation();
                if (path != null) path.add(observation);
                if (step.done()) break;
            }
            return new Rollout(EpisodeResult.completed(episode, seed, episodeReturn, length, success), path == null ? null : path.toArray());
        } catch (RuntimeException e) {
            return new Rollout(EpisodeResult.failed(episode, seed, episodeReturn, length, describe(e)), null);
        }
    }

    static String describe(RuntimeException e) {
        if (e instanceof BridgeException || e instanceof EvalInputException) return e.getMessage();
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static void closeQuietly(Environment environment) {
        if (environment instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // Closing is best effort; a bridge that will not close has already been killed.
            }
        }
    }

    /** (x, y) of each observation, appended to a growing float array. */
    private static final class PathRecorder {
        private float[] xy;
        private int size;

        PathRecorder(int expectedPoints) {
            xy = new float[2 * Math.max(1, Math.min(expectedPoints, 4096))];
        }

        void add(float[] observation) {
            if (observation.length < 2) return;
            if (size + 2 > xy.length) xy = Arrays.copyOf(xy, 2 * xy.length);
            xy[size++] = observation[0];
            xy[size++] = observation[1];
        }

        float[] toArray() {
            return Arrays.copyOf(xy, size);
        }
    }

}
