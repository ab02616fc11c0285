package org.fqlspark.train;

import java.util.Map;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.fqlspark.train.online.OnlinePhase;
import org.fqlspark.train.worker.ParameterAverager;
import org.fqlspark.train.worker.RoundContext;
import org.fqlspark.train.worker.RoundResult;
import org.fqlspark.train.worker.RoundSpec;
import org.fqlspark.train.worker.Rounds;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerRound;

/**
 * Offline rounds averaged through the driver (DL4J's parameter averaging): the driver broadcasts the state, every
 * worker takes K steps on its shard ({@link WorkerRound}), and a {@code treeAggregate} of depth
 * {@code aggregationDepth} sums the W states ({@link ParameterAverager}); their mean is the next round's state.
 */
final class DriverAveragedRounds implements Rounds {

    private final RoundContext ctx;
    private final long phaseEnd;
    private final int aggregationDepth;

    DriverAveragedRounds(RoundContext ctx, long phaseEnd, int aggregationDepth) {
        this.ctx = ctx;
        this.phaseEnd = phaseEnd;
        this.aggregationDepth = aggregationDepth;
    }

    @Override
    public RoundResult next(TrainingState state, long step, int round) {
        long t0 = System.nanoTime();
        int steps = ctx.stepsFrom(step, 0, phaseEnd);
        RoundSpec spec = ctx.spec(step, steps);
        ctx.describe("round " + (round + 1) + ", steps " + step + ".." + (step + steps));
        int depth = aggregationDepth;
        Broadcast<TrainingState> broadcast = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext()).broadcast(state);
        ParameterAverager sum;
        try {
            sum = ctx.shards().get().mapPartitions(it -> WorkerRound.run(it, spec, broadcast))
                    .treeAggregate(new ParameterAverager(), ParameterAverager::merge, ParameterAverager::merge, depth);
        } finally {
            broadcast.destroy();
        }
        return RoundResult.averaged(sum, steps, ctx.workers(), (System.nanoTime() - t0) / 1e9, 0);
    }

    @Override
    public void metrics(Map<String, Double> row, RoundResult result) {
        OnlinePhase.offlineMetrics(row);
    }
}
