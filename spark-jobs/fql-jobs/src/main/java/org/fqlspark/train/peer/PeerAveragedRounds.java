package org.fqlspark.train.peer;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.fqlspark.train.online.OnlinePhase;
import org.fqlspark.train.worker.RoundContext;
import org.fqlspark.train.worker.RoundResult;
import org.fqlspark.train.worker.Rounds;
import org.fqlspark.train.worker.TrainingState;

/**
 * {@code --averaging peer}: offline rounds run in barrier stages whose workers average among themselves over direct
 * connections ({@link BarrierRounds}), with the same numbers as averaging through the driver. One stage runs the
 * rounds from where the loop stands up to the first round end where the driver has work (a checkpoint, an evaluation,
 * the end of the offline phase); the loop then books them one by one. Only the stage's last average comes back, so the
 * rounds before it report no state.
 */
public final class PeerAveragedRounds implements Rounds {

    private final RoundContext ctx;
    private final long phaseEnd;
    private final DriverWork driverWork;
    /** Rounds the last stage ran that the loop has not booked yet, the stage's last average, its driver-side cost. */
    private final ArrayDeque<BarrierRounds.RoundSummary> pending = new ArrayDeque<>();
    private TrainingState pendingFinal;
    private double pendingOverhead;
    /** This run's secret (made once, on the first stage) and the exchange's time limits. */
    private PeerAuth auth;
    private PeerSettings settings;

    /** Offline rounds up to {@code phaseEnd}, each stage stopping after a round where {@code driverWork} is due. */
    public PeerAveragedRounds(RoundContext ctx, long phaseEnd, DriverWork driverWork) {
        this.ctx = ctx;
        this.phaseEnd = phaseEnd;
        this.driverWork = driverWork;
    }

    @Override
    public RoundResult next(TrainingState state, long step, int round) {
        if (pending.isEmpty()) {
            runStage(state, step, round);
        }
        BarrierRounds.RoundSummary r = pending.poll();
        TrainingState next = pending.isEmpty() ? pendingFinal : null;   // the stage returns only its last average
        double seconds = r.seconds() + (pendingOverhead > 0 ? pendingOverhead : 0);
        pendingOverhead = 0;   // the stage's driver-side cost goes to its first round
        return new RoundResult(r.steps(), r.metrics(), r.maxComputeSeconds(), r.reported(), r.divergence(), next,
                r.nonFinite(), seconds, 0);
    }

    @Override
    public void metrics(Map<String, Double> row, RoundResult result) {
        OnlinePhase.offlineMetrics(row);
    }

    private void runStage(TrainingState state, long step, int round) {
        long s = step;
        int r = round;
        while (s < phaseEnd) {
            int n = ctx.stepsFrom(s, 0, phaseEnd);
            s += n;
            r++;
            if (driverWork.dueAfter(r, s, n)) {
                break;
            }
        }
        long end = s;
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
        ctx.describe("rounds " + (round + 1) + ".." + r + ", steps " + step + ".." + end
                + " (workers average among themselves)");
        if (auth == null) {
            auth = PeerAuth.forRun(ctx.spark().sparkContext().getConf(), ctx.runId());
            settings = PeerSettings.of(ctx.spark());
        }
        long t0 = System.nanoTime();
        Broadcast<TrainingState> broadcast = jsc.broadcast(state);
        List<BarrierRounds.Outcome> outcomes;
        try {
            outcomes = PeerStage.run(ctx.shards().get(), ctx.spec(step, ctx.stepsFrom(step, 0, phaseEnd)), ctx.k(), end,
                    broadcast, auth, settings);
        } finally {
            broadcast.destroy();
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        BarrierRounds.Outcome first = outcomes.stream().filter(o -> o.worker() == 0).findFirst()
                .orElseThrow(() -> new IllegalStateException("worker 0 did not report from the peer-averaging stage"));
        pending.addAll(first.rounds());
        pendingFinal = first.finalState();
        pendingOverhead = wall - first.rounds().stream().mapToDouble(BarrierRounds.RoundSummary::seconds).sum();
    }
}
