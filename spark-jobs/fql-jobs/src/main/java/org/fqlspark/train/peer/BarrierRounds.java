package org.fqlspark.train.peer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
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
 * each, every worker takes its K steps, sends its state to the other workers over direct connections
 * ({@link PeerExchange}) and averages all W states itself with {@link ParameterAverager} (worker order, double sums:
 * the same arithmetic the driver uses, so the numbers are bit-identical to {@code --averaging driver}). The stage ends
 * where the driver has work to do (a checkpoint, an evaluation, the end of the offline phase) and returns each round's
 * metrics and the final average; per-round driver costs (a Spark job, a broadcast, collecting W states) are paid once
 * per stage instead of once per round.
 *
 * <p>A failed task fails the whole barrier stage, which Spark retries from its start: every worker starts again from the
 * broadcast state and recomputes the same rounds.
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
            Broadcast<TrainingState> start, String rendezvous) {
        BarrierTaskContext context = BarrierTaskContext.get();
        WorkerShard shard = shards.next();
        if (shards.hasNext()) {
            throw new IllegalStateException("a barrier task got more than one worker shard");
        }
        List<RoundSummary> rounds = new ArrayList<>();
        TrainingState state = start.value();
        try (PeerExchange peers = PeerExchange.connect(context, rendezvous)) {
            long step = state.step();
            while (step < endStep) {
                int steps = (int) Math.min(k - step % k, endStep - step);
                RoundSpec spec = template.at(step, steps);
                long r0 = System.nanoTime();
                WorkerOutcome mine = WorkerRound.runWorker(shard, spec, state);
                long e0 = System.nanoTime();
                ParameterAverager sum = new ParameterAverager();
                for (byte[] message : peers.exchange(serialize(mine))) {
                    sum.add((WorkerOutcome) deserialize(message));
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
        }
        return List.of(new Outcome(shard.worker(), rounds, shard.worker() == 0 ? state : null)).iterator();
    }

    public static byte[] serialize(Object o) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static Object deserialize(byte[] b) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
            return in.readObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }
}
