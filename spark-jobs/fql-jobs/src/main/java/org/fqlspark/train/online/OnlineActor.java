package org.fqlspark.train.online;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.fqlspark.env.Environment;
import org.fqlspark.env.StepResult;
import org.fqlspark.eval.EnvSpec;
import org.fqlspark.eval.EpisodeSeeds;
import org.fqlspark.train.worker.EpisodeEnd;
import org.fqlspark.train.worker.OnlineTransitions;
import org.fqlspark.train.worker.Seeds;

/**
 * One online actor (docs/algorithm.md §5): a live environment and the {@link ActorState} it is in. Each {@link #step} acts with
 * {@code clip(μ_ω(s, z))} for z ~ N(0, I) drawn from the actor's own stream (no other noise, no random warm-up), steps
 * the environment, and records {@code (s, a, r + shift, s', terminal = terminated or truncated, mask = 1 − terminated)};
 * on termination or truncation the environment is reset. Episode {@code i} of the run's online phase is reset with
 * {@link EpisodeSeeds#environmentSeed} of the online seed, so everything is a function of the run seed.
 *
 * <p>A failing environment (a bridge that crashed or hung) ends its episode as failed, is closed and replaced by a
 * fresh one on the next episode; {@link #MAX_RESTARTS} failures in a row stop the run with the error.
 *
 * <p>With action chunks (h &gt; 1, docs/algorithm.md §11.4) the policy returns h actions per call, which are played open
 * loop, one per {@link #step}: the policy is called (with z of h·A draws, seeded by the actor's step count at the
 * call) only when the previous chunk is used up, and an episode that ends inside a chunk drops the rest of it, as
 * qc's action queue does. Each environment step is still one stored transition. The unplayed rest of a chunk is part
 * of the {@link ActorState}, so a resumed or moved actor plays it as the original would have. With h = 1 every step
 * is a policy call with the same draws as before.
 */
public final class OnlineActor implements AutoCloseable {

    /** Consecutive environment failures after which the actor gives up. */
    static final int MAX_RESTARTS = 3;
    static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    /** The action chunk ({@code h·A} values, A without chunking) for one observation and its noise: the one-step policy. */
    public interface Actor {
        float[] act(float[] observation, float[] noise);
    }

    private final EnvSpec spec;
    private final int actors;
    private final long onlineSeed;
    private final float rewardShift;
    private final int obsDim;
    private final int actionDim;
    /** The chunk length h: a policy call's actions. */
    private final int horizon;
    private Environment env;
    // the ActorState, unpacked
    private final int actor;
    private long episode;
    private int t;
    private long steps;
    private float[] observation;
    private double episodeReturn;
    private float[] actions;
    private int restarts;
    private int failuresInARow;
    /** The current chunk's actions not played yet, step-major; null when the next step calls the policy. */
    private float[] pending;

    private OnlineActor(EnvSpec spec, ActorState s, int actors, long runSeed, float rewardShift, int obsDim, int actionDim,
            int horizon) {
        this.spec = spec;
        this.actors = actors;
        this.onlineSeed = Seeds.onlineSeed(runSeed);
        this.rewardShift = rewardShift;
        this.obsDim = obsDim;
        this.actionDim = actionDim;
        this.horizon = horizon;
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be positive, was " + horizon);
        }
        this.actor = s.actor();
        this.episode = s.episode();
        this.t = s.t();
        this.steps = s.steps();
        this.observation = s.observation() == null ? null : s.observation().clone();
        this.episodeReturn = s.episodeReturn();
        this.actions = Arrays.copyOf(s.actions(), Math.max(64, s.actions().length));
        this.restarts = s.restarts();
        this.pending = s.chunk() == null || s.chunk().length == 0 ? null : s.chunk().clone();
        if (pending != null && (pending.length % actionDim != 0 || pending.length >= horizon * actionDim)) {
            throw new IllegalArgumentException("actor " + actor + ": a pending chunk of " + pending.length + " values does not fit"
                    + " chunks of " + horizon + " actions of " + actionDim);
        }
    }

    /**
     * The actor in state {@code s} with a live environment: a fresh one is reset; one in the middle of an episode is
     * reset with that episode's seed and its actions are replayed. If the replay does not arrive at the saved
     * observation (a non-deterministic environment), the interrupted episode is dropped and a new one starts; the
     * returned actor says so through {@link #replayDiverged()}.
     */
    public static OnlineActor restore(EnvSpec spec, ActorState s, int actors, long runSeed, float rewardShift, int obsDim,
            int actionDim) {
        return restore(spec, s, actors, runSeed, rewardShift, obsDim, actionDim, 1);
    }

    /** As above, for a policy that returns chunks of {@code horizon} actions of {@code actionDim}. */
    public static OnlineActor restore(EnvSpec spec, ActorState s, int actors, long runSeed, float rewardShift, int obsDim,
            int actionDim, int horizon) {
        OnlineActor a = new OnlineActor(spec, s, actors, runSeed, rewardShift, obsDim, actionDim, horizon);
        a.open();
        return a;
    }

    private boolean replayDiverged;

    public boolean replayDiverged() {
        return replayDiverged;
    }

    private void open() {
        env = spec.create(STARTUP_TIMEOUT, REQUEST_TIMEOUT);
        if (env.observationDim() != obsDim || env.actionDim() != actionDim) {
            String id = env.id();
            close();
            throw new IllegalArgumentException("--env " + spec.text() + " (" + id + ") has observation dim " + obsDim
                    + " and action dim " + actionDim + " expected; it has " + env.observationDim() + " and " + env.actionDim());
        }
        if (observation == null) {
            observation = checked(env.reset(resetSeed()));
            return;
        }
        float[] saved = observation;
        float[] obs = checked(env.reset(resetSeed()));
        for (int i = 0; i < t; i++) {
            obs = checked(env.step(Arrays.copyOfRange(actions, i * actionDim, (i + 1) * actionDim)).observation());
        }
        if (!Arrays.equals(obs, saved)) {
            replayDiverged = true;
            episode++;
            startEpisode();
        }
    }

    private void startEpisode() {
        pending = null;   // an episode starts with a fresh policy call
        t = 0;
        episodeReturn = 0;
        observation = checked(env.reset(resetSeed()));
    }

    private long resetSeed() {
        long id = episode * actors + actor;
        return EpisodeSeeds.environmentSeed(onlineSeed, (int) Math.min(Integer.MAX_VALUE, id));
    }

    private float[] checked(float[] obs) {
        if (obs.length != obsDim) {
            throw new IllegalStateException(spec.text() + " returned an observation of " + obs.length + " values, expected " + obsDim);
        }
        return obs;
    }

    /**
     * Takes one environment step with {@code policy} and appends its transition to {@code out}; returns the episode
     * that ended with it, or null. {@code onlineIndex} is the transition's index in the online buffer.
     */
    public EpisodeEnd step(Actor policy, OnlineTransitions.Builder out, long onlineIndex) {
        float[] chunk = pending;
        if (chunk == null) {
            float[] noise = org.fqlspark.agent.StepNoise.gaussian(horizon * actionDim,
                    new SplittableRandom(Seeds.actionNoiseSeed(onlineSeed, actor, steps)));
            chunk = policy.act(observation, noise);
            if (chunk.length != horizon * actionDim) {
                throw new IllegalStateException("the policy returned " + chunk.length + " values, expected " + horizon + " × "
                        + actionDim);
            }
        }
        float[] action = horizon == 1 ? chunk : Arrays.copyOf(chunk, actionDim);
        StepResult r;
        try {
            r = env.step(action);
            checked(r.observation());
        } catch (RuntimeException e) {
            return failed(e, onlineIndex);
        }
        failuresInARow = 0;
        pending = chunk.length > actionDim ? Arrays.copyOfRange(chunk, actionDim, chunk.length) : null;
        steps++;
        long episodeId = episode * actors + actor;
        boolean truncated = r.truncated() || t + 1 >= env.maxEpisodeSteps();
        boolean done = r.terminated() || truncated;
        out.add(observation, action, r.reward() + rewardShift, r.terminated() ? 0f : 1f, done ? 1f : 0f, r.observation(),
                episodeId, t);
        episodeReturn += r.reward();
        t++;
        if (done) {
            EpisodeEnd end = new EpisodeEnd(episodeId, actor, episodeReturn, t, r.success(), false, onlineIndex + 1);
            episode++;
            resetAfterEnd(onlineIndex);
            return end;
        }
        if (actions.length < t * actionDim) {
            actions = Arrays.copyOf(actions, 2 * t * actionDim);
        }
        System.arraycopy(action, 0, actions, (t - 1) * actionDim, actionDim);
        observation = r.observation();
        return null;
    }

    private void resetAfterEnd(long onlineIndex) {
        try {
            startEpisode();
        } catch (RuntimeException e) {
            failed(e, onlineIndex);
        }
    }

    /** The environment failed: the episode ends as failed, the environment is replaced, the next episode begins. */
    private EpisodeEnd failed(RuntimeException e, long onlineIndex) {
        if (++failuresInARow > MAX_RESTARTS) {
            throw new IllegalStateException("online actor " + actor + ": environment " + spec.text() + " failed "
                    + failuresInARow + " times in a row; last error: " + e.getMessage(), e);
        }
        EpisodeEnd end = new EpisodeEnd(episode * actors + actor, actor, episodeReturn, t, false, true, onlineIndex);
        restarts++;
        close();
        episode++;
        observation = null;
        pending = null;
        t = 0;
        episodeReturn = 0;
        try {
            open();
        } catch (RuntimeException again) {
            return failed(again, onlineIndex);
        }
        return end;
    }

    public ActorState state() {
        return new ActorState(actor, episode, t, steps, observation.clone(), episodeReturn,
                Arrays.copyOf(actions, t * actionDim), restarts, pending == null ? null : pending.clone());
    }

    /** Runs until {@code n} transitions were added to {@code out} (whose row 0 has online index {@code firstIndex}). */
    public List<EpisodeEnd> run(int n, Actor policy, OnlineTransitions.Builder out, long firstIndex) {
        List<EpisodeEnd> ends = new java.util.ArrayList<>();
        int target = out.size() + n;
        while (out.size() < target) {   // a failed environment step adds no row; MAX_RESTARTS bounds the retries
            EpisodeEnd e = step(policy, out, firstIndex + out.size());
            if (e != null) ends.add(e);
        }
        return ends;
    }

    @Override
    public void close() {
        if (env instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                // best effort: a bridge that will not close has been killed
            }
        }
        env = null;
    }

}
