package org.fqlspark.train.online;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.fqlspark.run.RunDirectory;
import org.fqlspark.train.worker.OnlineTransitions;
import org.fqlspark.train.worker.ParameterAverager;
import org.fqlspark.train.worker.RoundContext;
import org.fqlspark.train.worker.RoundResult;
import org.fqlspark.train.worker.RoundSpec;
import org.fqlspark.train.worker.Rounds;
import org.fqlspark.train.worker.TrainingState;

/**
 * The rounds of the online phase (docs/algorithm.md §5), after the N offline steps up to the run's end. The phase's
 * driver-side state ({@link OnlinePhase}: the buffer, the actors, the episode counters) is started at the first online
 * round, or read back as the resumed checkpoint left it, and lives here. Two kinds:
 * <ul>
 *   <li>{@link Exact}: one learner that is also the one actor, stepping the environment before every gradient step
 *       (the paper's loop);</li>
 *   <li>{@link Distributed}: E actors on executors collect R steps each with the round's policy snapshot, then the W
 *       learners take as many gradient steps as there are new rows (update-to-data ratio 1).</li>
 * </ul>
 */
public abstract sealed class OnlineRounds implements Rounds permits OnlineRounds.Exact, OnlineRounds.Distributed {

    final RoundContext ctx;
    final RunDirectory dir;
    final OnlineWork.EnvSide env;
    private final OnlinePhase.Saved saved;
    final long offlineSteps;
    final long total;
    /** Null until the first online round of this invocation. */
    OnlinePhase phase;

    private OnlineRounds(RoundContext ctx, RunDirectory dir, OnlineWork.EnvSide env, OnlinePhase.Saved saved,
            long offlineSteps, long total) {
        this.ctx = ctx;
        this.dir = dir;
        this.env = env;
        this.saved = saved;
        this.offlineSteps = offlineSteps;
        this.total = total;
    }

    /**
     * The online rounds of a run with an online phase in {@code env}, from step {@code offlineSteps} to {@code total};
     * {@code saved} is the phase as the resumed checkpoint recorded it (null: it has not started).
     */
    public static OnlineRounds of(RoundContext ctx, RunDirectory dir, OnlineWork.EnvSide env, OnlinePhase.Saved saved,
            long offlineSteps, long total) {
        return env.exact() ? new Exact(ctx, dir, env, saved, offlineSteps, total)
                : new Distributed(ctx, dir, env, saved, offlineSteps, total);
    }

    @Override
    public final RoundResult next(TrainingState state, long step, int round) throws IOException {
        long t0 = System.nanoTime();
        if (phase == null) {
            phase = start();
        }
        double collectSeconds = collectIfDue(state, step);
        int steps = steps(step);
        RoundSpec spec = ctx.spec(step, steps);
        ctx.describe("online round " + (round + 1) + ", steps " + step + ".." + (step + steps));
        ParameterAverager sum = learn(state, spec);
        return RoundResult.averaged(sum, steps, ctx.workers(), (System.nanoTime() - t0) / 1e9, collectSeconds);
    }

    @Override
    public final void metrics(Map<String, Double> row, RoundResult result) {
        phase.metrics(row, result.collectSeconds());
    }

    /** Collects experience before the round where this mode does so; returns its seconds. */
    abstract double collectIfDue(TrainingState state, long step);

    /** Steps of the round from {@code step}: up to the next multiple of K counted from the phase's start. */
    int steps(long step) {
        return ctx.stepsFrom(step, offlineSteps, total);
    }

    /** Whether the phase has started in this invocation (its rows and state then go with every checkpoint). */
    public boolean started() {
        return phase != null;
    }

    /**
     * Saves the online rows not yet under {@code online/} and returns the phase's state for the checkpoint that refers
     * to them (under {@link OnlinePhase#CHECKPOINT_KEY}).
     */
    public String commit() throws IOException {
        OnlineDataset.commit(ctx.spark(), dir, phase.all, phase.committed, phase.count(), details());
        phase.committed = phase.count();
        return phase.stateJson(offlineSteps);
    }

    /** What result.json records of the phase. */
    public Map<String, Object> summary() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("mode", env.mode());
        o.put("env", env.env());
        o.put("env_steps", phase.count());
        o.put("episodes", phase.episodes);
        o.put("successes", phase.successes);
        o.put("failed_episodes", phase.failedEpisodes);
        o.put("dataset", OnlineDataset.dir(dir).toString());
        return o;
    }

    @Override
    public void release() {
        OnlineWork.releaseActors(ctx.runId());
    }

    /** The phase from its start, or as the resumed checkpoint left it. */
    private OnlinePhase start() throws IOException {
        if (saved == null) {
            ctx.log().printf("fql train: offline phase done at step %d; online phase: %d steps in %s%n", offlineSteps,
                    total - offlineSteps, env.env());
            return OnlinePhase.fresh(env, ctx.obsDim(), ctx.actionDim());
        }
        ctx.describe("read the online transitions");
        OnlineTransitions rows = OnlineDataset.read(ctx.spark(), dir, saved.transitions(), ctx.obsDim(), ctx.actionDim(),
                details());
        ctx.log().printf("fql train: online phase resumed with %d transitions, %d episodes%n", rows.size(), saved.episodes());
        return OnlinePhase.resume(env, saved, rows);
    }

    private Map<String, String> details() {
        // the rows' rewards carry the shift, as an ingested dataset's do, and the manifest says so the same way
        return Map.of("env", env.env(), "mode", env.mode(), "run", dir.root().toString(), "actors",
                Integer.toString(env.actors()), org.fqlspark.data.DatasetManifest.REWARD_SHIFT, String.valueOf(env.rewardShift()));
    }

    /**
     * One learner round: the learners get the rows they lack and take the round's steps on the union of their shard
     * and online rows; in the exact mode the one learner also acts before each step. A learner that lost its rows (a
     * new executor) asks for all of them, and the round runs again from the same start, which changes no number.
     */
    private ParameterAverager learn(TrainingState state, RoundSpec spec) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
        boolean everything = phase.learnersHave == 0;
        for (int attempt = 0; ; attempt++) {
            OnlineWork.LearnInput input = new OnlineWork.LearnInput(state, phase.unsent(everything),
                    env.exact() ? phase.actors.get(0) : null, env);
            Broadcast<OnlineWork.LearnInput> bc = jsc.broadcast(input);
            List<OnlineWork.LearnOutcome> outcomes;
            try {
                outcomes = ctx.shards().get().mapPartitions(it -> OnlineWork.learn(it, spec, bc)).collect();
            } finally {
                bc.destroy();
            }
            if (outcomes.stream().anyMatch(OnlineWork.LearnOutcome::resync)) {
                if (attempt > 0) {
                    throw new IllegalStateException("a learner still lacked online rows after it was sent all of them");
                }
                everything = true;
                continue;
            }
            phase.learnersHave = phase.count();
            ParameterAverager sum = new ParameterAverager();
            for (OnlineWork.LearnOutcome o : outcomes) {
                sum.add(o.outcome());
                if (o.collected() != null) {   // exact mode: the learner was the actor
                    phase.add(o.collected(), o.ends());
                    phase.actors.set(0, o.actor());
                    phase.learnersHave = phase.count();
                    if (o.replayDiverged()) {
                        ctx.log().println("fql train: the environment did not replay to its saved state (not deterministic?); "
                                + "a new episode was started");
                    }
                }
            }
            return sum;
        }
    }

    /** The exact mode: the learner acts inside its round; nothing is collected beforehand. */
    public static final class Exact extends OnlineRounds {
        private Exact(RoundContext ctx, RunDirectory dir, OnlineWork.EnvSide env, OnlinePhase.Saved saved, long offlineSteps,
                long total) {
            super(ctx, dir, env, saved, offlineSteps, total);
        }

        @Override
        double collectIfDue(TrainingState state, long step) {
            return 0;
        }
    }

    /** The distributed mode: E actor tasks collect before the learners take as many steps as there are new rows. */
    public static final class Distributed extends OnlineRounds {
        private Distributed(RoundContext ctx, RunDirectory dir, OnlineWork.EnvSide env, OnlinePhase.Saved saved,
                long offlineSteps, long total) {
            super(ctx, dir, env, saved, offlineSteps, total);
        }

        @Override
        double collectIfDue(TrainingState state, long step) {
            return step - offlineSteps >= phase.count() ? collect(state, total - step) : 0;
        }

        @Override
        int steps(long step) {
            return (int) Math.min(super.steps(step), phase.count() - (step - offlineSteps));   // update-to-data ratio 1
        }

        /**
         * E actor tasks step their environments R times each (fewer at the end of the budget) with the current averaged
         * policy; their rows join the buffer in actor order. Returns its seconds.
         */
        private double collect(TrainingState state, long remaining) {
            long t0 = System.nanoTime();
            int actors = env.actors();
            int perActor = (int) Math.min(env.refreshEvery(), (remaining + actors - 1) / actors);
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
            OnlineWork.CollectInput input = new OnlineWork.CollectInput(ctx.runId(), ctx.configJson(), ctx.obsDim(),
                    ctx.actionDim(), ctx.seed(), state, List.copyOf(phase.actors), phase.count(), perActor, env);
            ctx.describe("collect " + actors + " x " + perActor + " environment steps");
            Broadcast<OnlineWork.CollectInput> bc = jsc.broadcast(input);
            List<OnlineWork.CollectOutcome> outcomes;
            try {
                List<Integer> ids = IntStream.range(0, actors).boxed().toList();
                outcomes = new ArrayList<>(jsc.parallelize(ids, actors).mapPartitions(it -> OnlineWork.collect(it, bc)).collect());
            } finally {
                bc.destroy();
            }
            outcomes.sort(Comparator.comparingInt(OnlineWork.CollectOutcome::actor));
            for (OnlineWork.CollectOutcome o : outcomes) {
                phase.add(o.rows(), o.ends());
                phase.actors.set(o.actor(), o.state());
                if (o.replayDiverged()) {
                    ctx.log().printf("fql train: actor %d's environment did not replay to its saved state (not deterministic?); "
                            + "it started a new episode%n", o.actor());
                }
            }
            return (System.nanoTime() - t0) / 1e9;
        }

        @Override
        public void release() {
            if (phase == null) {   // no actor ever ran
                super.release();
                return;
            }
            String id = ctx.runId();
            int actors = env.actors();
            try {
                JavaSparkContext.fromSparkContext(ctx.spark().sparkContext())
                        .parallelize(IntStream.range(0, actors).boxed().toList(), actors)
                        .foreachPartition(it -> OnlineWork.releaseActors(id));
            } catch (RuntimeException e) {
                ctx.log().println("fql train: could not release the online actors on every executor: " + e.getMessage());
            }
            super.release();
        }
    }
}
