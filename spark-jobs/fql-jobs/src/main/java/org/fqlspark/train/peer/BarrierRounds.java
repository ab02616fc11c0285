package org.fqlspark.train.peer;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.fqlspark.train.worker.ParameterAverager;
import org.fqlspark.train.worker.RoundMetrics;
import org.fqlspark.train.worker.RoundSpec;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerOutcome;
import org.fqlspark.train.worker.WorkerRound;
import org.fqlspark.train.worker.WorkerShard;

/**
 * Averaging without the driver in the data path ({@code --averaging peer}): one barrier stage runs several rounds; in
 * each, every worker takes its K steps, sends its state to the other workers over direct, authenticated connections
 * ({@link PeerExchange}, as {@link StateFrames}: no Java serialization) and averages all W states itself with
 * {@link ParameterAverager} (worker order, double sums: the same arithmetic the driver uses, so the numbers are
 * bit-identical to {@code --averaging driver}). The stage ends
 * where the driver has work to do (a checkpoint, an evaluation, the end of the offline phase) and returns each round's
 * metrics and the final average; per-round driver costs (a Spark job, a broadcast, collecting W states) are paid once
 * per stage instead of once per round.
 *
 * <p>A failed task fails the whole barrier stage, which Spark runs again from its start ({@link PeerStage}): every
 * worker starts again from the broadcast state and recomputes the same rounds.
 */
public final class BarrierRounds {

    private BarrierRounds() {
    }

    /** One round as the workers saw it: merged metrics, slowest compute, the exchange and the round's wall time. */
    public record RoundSummary(int steps, RoundMetrics metrics, double maxComputeSeconds, double exchangeSeconds, double seconds,
            int reported, WorkerOutcome.Divergence divergence, String nonFinite) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    public record Outcome(int worker, List<RoundSummary> rounds, TrainingState finalState) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    public static Iterator<Outcome> run(Iterator<WorkerShard> shards, RoundSpec template, int k, long endStep,
            Broadcast<TrainingState> start, PeerLink link) {
        BarrierTaskContext context = BarrierTaskContext.get();
        WorkerShard shard = shards.next();
        if (shards.hasNext()) {
            throw new IllegalStateException("a barrier task got more than one worker shard");
        }
        int me = context.partitionId();
        if (shard.worker() != me || context.getTaskInfos().length != link.parties()) {
            throw new IllegalStateException("task " + me + " of " + context.getTaskInfos().length + " holds the shard of worker "
                    + shard.worker() + " in a stage of " + link.parties() + " workers");
        }
        List<RoundSummary> rounds = new ArrayList<>();
        TrainingState state = start.value();
        int attempt = context.stageAttemptNumber();
        StateFrames.Expect expect = StateFrames.Expect.of(link.auth(), link.exchange(), attempt, state);
        try (PeerExchange peers = PeerExchange.connect(link, me, attempt, context::isInterrupted, expect)) {
            long step = state.step();
            while (step < endStep) {
                int steps = (int) Math.min(k - step % k, endStep - step);
                RoundSpec spec = template.at(step, steps);
                long r0 = System.nanoTime();
                WorkerOutcome mine = WorkerRound.runWorker(shard, spec, state);
                long e0 = System.nanoTime();
                ParameterAverager sum = new ParameterAverager();
                for (WorkerOutcome o : peers.exchange(mine, rounds.size())) {   // partition order, as before
                    sum.add(o);
                }
                TrainingState next = sum.divergence() == null ? sum.average() : state;
                String bad = sum.divergence() == null ? next.firstNonFinite() : null;
                long e1 = System.nanoTime();
                rounds.add(new RoundSummary(steps, sum.metrics(), sum.maxComputeSeconds(), (e1 - e0) / 1e9, (e1 - r0) / 1e9,
                        sum.count(), sum.divergence(), bad));
                if (sum.divergence() != null || bad != null) {
                    break;
                }
                state = next;
                step += steps;
            }
            peers.finish();
        }
        // every worker saw the same rounds and holds the same average: worker 0 reports for all
        return shard.worker() == 0 ? List.of(new Outcome(0, rounds, state)).iterator() : java.util.Collections.emptyIterator();
    }
}
