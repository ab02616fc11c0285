package org.fqlspark.train.online;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.spark.broadcast.Broadcast;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.LossReport;
import org.fqlspark.agent.ParameterLayout;
import org.fqlspark.eval.EnvSpec;
import org.fqlspark.tensor.Backends;
import org.fqlspark.train.worker.BatchSampler;
import org.fqlspark.train.worker.DeviceBinding;
import org.fqlspark.train.worker.EpisodeEnd;
import org.fqlspark.train.worker.OnlineBuffer;
import org.fqlspark.train.worker.OnlineTransitions;
import org.fqlspark.train.worker.RoundMetrics;
import org.fqlspark.train.worker.RoundSpec;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerOutcome;
import org.fqlspark.train.worker.WorkerRegistry;
import org.fqlspark.train.worker.WorkerRound;
import org.fqlspark.train.worker.WorkerShard;

/**
 * The executor side of the online phase (docs/algorithm.md §5), two kinds of task:
 * <ul>
 *   <li>{@link #learn}: a learner round. The worker takes the round's new online rows into its {@link OnlineBuffer}
 *       and takes its steps on batches drawn uniformly from its shard and its online rows. In the exact mode (one
 *       learner, one environment: the paper's loop) the same task is also the actor: before every gradient step it
 *       acts with the current weights, steps the environment and stores the transition;</li>
 *   <li>{@link #collect}: in the distributed mode, actor e of E steps its own environment R times with the policy
 *       snapshot of the round's start and returns the transitions.</li>
 * </ul>
 * Live buffers, environments and agents stay in the executor between rounds ({@link WorkerRegistry}); everything a
 * task needs to rebuild them travels with it, so a new executor, a retried task or a resumed run computes the same.
 */
public final class OnlineWork {

    /** The online modes' names, as {@code --online-mode} takes them. */
    public static final String EXACT = "exact";
    public static final String DISTRIBUTED = "distributed";

    private OnlineWork() {
    }

    /**
     * What the environment side of a run is: which environment, how it collects ({@code mode}: exact or distributed;
     * E actors, R steps between policy refreshes), the reward shift, the buffer capacity and the dataset's row count.
     */
    public record EnvSide(String env, String mode, int actors, int refreshEvery, float rewardShift, long capacity,
            long offlineRows) implements Serializable {
        private static final long serialVersionUID = 1L;

        /** The exact mode: one learner that is also the one actor, stepping the environment before every gradient step. */
        public boolean exact() {
            return EXACT.equals(mode);
        }

        public EnvSpec spec() {
            return EnvSpec.parse(env);
        }

        /** A worker's share of the buffer capacity: at least one slot more than its offline rows. */
        public long workerCapacity(int shardRows) {
            long share = (long) Math.ceil((double) capacity * shardRows / offlineRows);
            return Math.max(shardRows + 1L, share);
        }
    }

    /**
     * A learner round's broadcast input.
     *
     * @param state      the averaged state the round starts from
     * @param rows       online rows the learners have not seen yet ({@code rows.first()} = what they should have seen);
     *                   starting at 0 it is the whole buffer (sent again after a learner lost its rows)
     * @param actor      in the exact mode the actor's state at the round's start, else null
     */
    public record LearnInput(TrainingState state, OnlineTransitions rows, ActorState actor, EnvSide env) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /**
     * A learner's result: the usual outcome, plus in the exact mode the transitions it collected, its actor's state and
     * the episodes that ended. {@code resync}: the learner did not have the rows the round assumed and did nothing.
     */
    public record LearnOutcome(WorkerOutcome outcome, boolean resync, OnlineTransitions collected, ActorState actor,
            List<EpisodeEnd> ends, boolean replayDiverged) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    public static Iterator<LearnOutcome> learn(Iterator<WorkerShard> shards, RoundSpec spec, Broadcast<LearnInput> input) {
        List<LearnOutcome> out = new ArrayList<>();
        while (shards.hasNext()) {
            out.add(learnOne(shards.next(), spec, input.value()));
        }
        return out.iterator();
    }

    public static LearnOutcome learnOne(WorkerShard shard, RoundSpec spec, LearnInput in) {
        TrainingState start = in.state();
        if (start.step() != spec.startStep()) {
            throw new IllegalStateException("broadcast state is at step " + start.step() + ", round starts at " + spec.startStep());
        }
        DeviceBinding.TaskDevice device = DeviceBinding.bindTaskDevice(spec.backend());
        DeviceBinding.applyThreads(spec.threads());
        WorkerRegistry.Key key = new WorkerRegistry.Key(spec.runId(), shard.worker(), device.name());
        int workers = spec.workers();
        try (WorkerRegistry.Lease lease = WorkerRegistry.acquire(key, () -> WorkerRound.newAgent(spec, shard.worker(), device))) {
            OnlineBuffer buffer = lease.online();
            OnlineTransitions rows = in.rows();
            if (buffer == null || rows.first() == 0 || buffer.seen() != rows.first()) {
                if (rows.first() != 0) {
                    return new LearnOutcome(null, true, null, null, List.of(), false);   // send me everything
                }
                buffer = new OnlineBuffer(shard.obsDim(), shard.actionDim(), shard.worker(), workers,
                        spec.config().horizonLength());
                lease.online(buffer);
            }
            buffer.append(rows);
            FqlAgent agent = lease.agent();
            agent.setState(start.toAgentState());
            BatchSampler sampler = new BatchSampler(shard, agent.config(), spec.seed(), buffer,
                    in.env().workerCapacity(shard.size()));
            OnlineActor actor = null;
            boolean replayDiverged = false;
            if (in.actor() != null) {
                actor = lease.actor(OnlineActor.class);
                if (actor == null || !sameState(actor.state(), in.actor())) {
                    actor = OnlineActor.restore(in.env().spec(), in.actor(), in.env().actors(), spec.seed(),
                            in.env().rewardShift(), shard.obsDim(), shard.actionDim(), agent.horizon());
                    replayDiverged = actor.replayDiverged();
                    lease.actor(actor);
                }
            }
            long first = buffer.seen();
            OnlineTransitions.Builder collected = actor == null ? null
                    : new OnlineTransitions.Builder(shard.obsDim(), shard.actionDim(), first, spec.steps());
            List<EpisodeEnd> ends = new ArrayList<>();
            RoundMetrics metrics = new RoundMetrics();
            WorkerOutcome.Divergence divergence = null;
            OnlineActor.Actor policy = (obs, z) -> agent.sampleActions(obs, z, 1);
            long t0 = System.nanoTime();
            for (int i = 0; i < spec.steps(); i++) {
                if (actor != null) {   // exact mode: act, step, store, then one gradient step (update-to-data ratio 1)
                    int row = collected.size();
                    ends.addAll(actor.run(1, policy, collected, first));   // retries a failed environment step
                    buffer.append(collected.build(row, row + 1));
                }
                LossReport report = agent.update(sampler.sample(agent.step()));
                if (!report.isFinite()) {
                    divergence = new WorkerOutcome.Divergence(shard.worker(), agent.step(), WorkerRound.describe(report, agent.config()));
                    break;
                }
                metrics.add(report);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            TrainingState end = divergence != null ? start : TrainingState.of(agent.state());
            WorkerOutcome outcome = new WorkerOutcome(shard.worker(), end, metrics, seconds, divergence);
            if (actor == null) {
                return new LearnOutcome(outcome, false, null, null, List.of(), false);
            }
            return new LearnOutcome(outcome, false, collected.build(), actor.state(), ends, replayDiverged);
        }
    }

    private static boolean sameState(ActorState a, ActorState b) {
        return a.actor() == b.actor() && a.steps() == b.steps() && a.episode() == b.episode() && a.t() == b.t()
                && a.restarts() == b.restarts() && java.util.Arrays.equals(a.observation(), b.observation())
                && java.util.Arrays.equals(a.chunk(), b.chunk());
    }

    // ------------------------------------------------------------------ distributed actors

    /**
     * A collection round's broadcast input: the policy snapshot and every actor's state; actor e's R rows get online
     * indices {@code first + e·R ..}.
     */
    public record CollectInput(String runId, String configJson, int obsDim, int actionDim, long seed, TrainingState policy,
            List<ActorState> actors, long first, int stepsPerActor, EnvSide env) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    public record CollectOutcome(int actor, OnlineTransitions rows, ActorState state, List<EpisodeEnd> ends, boolean replayDiverged,
            double seconds) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private record ActorKey(String runId, int actor) {
    }

    /** Live actors of this JVM between collection rounds, each used by one task at a time. */
    private static final Map<ActorKey, OnlineActor> ACTORS = new ConcurrentHashMap<>();

    public static Iterator<CollectOutcome> collect(Iterator<Integer> actorIds, Broadcast<CollectInput> input) {
        CollectInput in = input.value();
        List<CollectOutcome> out = new ArrayList<>();
        if (!actorIds.hasNext()) {
            return out.iterator();
        }
        FqlConfig config = RoundSpec.config(in.configJson());
        long oneStep = ParameterLayout.trainable(in.obsDim(), in.actionDim(), config).moduleSize(ParameterLayout.ONE_STEP);
        FqlAgent agent = new FqlAgent(config, in.obsDim(), in.actionDim(), in.seed(), Backends.forActing(oneStep));
        agent.setState(in.policy().toAgentState());
        OnlineActor.Actor policy = (obs, z) -> agent.sampleActions(obs, z, 1);
        while (actorIds.hasNext()) {
            int e = actorIds.next();
            ActorState s = in.actors().get(e);
            ActorKey key = new ActorKey(in.runId(), e);
            OnlineActor actor = ACTORS.remove(key);
            boolean diverged = false;
            if (actor == null || !sameState(actor.state(), s)) {
                if (actor != null) actor.close();
                actor = OnlineActor.restore(in.env().spec(), s, in.env().actors(), in.seed(), in.env().rewardShift(),
                        in.obsDim(), in.actionDim(), agent.horizon());
                diverged = actor.replayDiverged();
            }
            long t0 = System.nanoTime();
            long first = in.first() + (long) e * in.stepsPerActor();
            OnlineTransitions.Builder rows = new OnlineTransitions.Builder(in.obsDim(), in.actionDim(), first, in.stepsPerActor());
            List<EpisodeEnd> ends;
            try {
                ends = actor.run(in.stepsPerActor(), policy, rows, first);
            } catch (RuntimeException ex) {
                actor.close();
                throw ex;
            }
            ACTORS.put(key, actor);
            out.add(new CollectOutcome(e, rows.build(), actor.state(), ends, diverged, (System.nanoTime() - t0) / 1e9));
        }
        return out.iterator();
    }

    /** Closes this JVM's actors of a run. */
    public static void releaseActors(String runId) {
        ACTORS.entrySet().removeIf(en -> {
            if (en.getKey().runId().equals(runId)) {
                en.getValue().close();
                return true;
            }
            return false;
        });
    }
}
