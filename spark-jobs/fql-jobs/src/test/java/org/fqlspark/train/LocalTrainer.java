package org.fqlspark.train;

import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.LossReport;
import org.fqlspark.data.TransitionData;
import org.fqlspark.train.worker.BatchSampler;
import org.fqlspark.train.worker.Seeds;
import org.fqlspark.train.worker.WorkerShard;

/**
 * The single-process trainer: one agent, one sampler over the whole dataset, no Spark. It is the reference the
 * distributed {@link TrainJob} must reproduce bit for bit with one worker (same seed, CPU): the same batch stream
 * ({@link BatchSampler} as worker 0) and the agent's own per-step noise. A test tool (the tests and
 * {@link TrainBenchmark} use it), so it lives in the test sources, out of the production jar.
 */
public final class LocalTrainer {

    private final FqlAgent agent;
    private final BatchSampler sampler;

    public LocalTrainer(FqlConfig config, TransitionData data, long seed) {
        this.agent = new FqlAgent(config, data.obsDim(), data.actionDim(), Seeds.workerNoiseSeed(seed, 0));
        this.sampler = new BatchSampler(WorkerShard.of(data), config, seed);
    }

    /** One gradient step on the batch of the current step. */
    public LossReport step() {
        return agent.update(sampler.sample(agent.step()));
    }

    /** Trains until the agent has taken {@code totalSteps} steps; returns the last step's report (null if none). */
    public LossReport trainTo(long totalSteps) {
        LossReport last = null;
        while (agent.step() < totalSteps) {
            last = step();
        }
        return last;
    }

    public FqlAgent agent() {
        return agent;
    }
}
