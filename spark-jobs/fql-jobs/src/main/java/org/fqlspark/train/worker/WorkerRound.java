package org.fqlspark.train.worker;

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.spark.broadcast.Broadcast;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.LossReport;

/**
 * One round on one worker, inside its Spark task: lease the worker's live agent (or build it), load the broadcast
 * average into it, take the round's steps on batches sampled from the cached shard, and return the new state with
 * the round's metrics. A retried task repeats exactly the same computation, since it starts from the same broadcast
 * and every random draw is a function of (seed, worker, step).
 */
public final class WorkerRound {

    private WorkerRound() {
    }

    /** The partition function: each partition holds exactly one shard. */
    public static Iterator<ParameterAverager> run(Iterator<WorkerShard> shards, RoundSpec spec, Broadcast<TrainingState> start) {
        ParameterAverager partial = new ParameterAverager();
        while (shards.hasNext()) {
            partial.add(runWorker(shards.next(), spec, start.value()));
        }
        return List.of(partial).iterator();
    }

    public static WorkerOutcome runWorker(WorkerShard shard, RoundSpec spec, TrainingState start) {
        if (start.step() != spec.startStep()) {
            throw new IllegalStateException("broadcast state is at step " + start.step() + ", round starts at " + spec.startStep());
        }
        DeviceBinding.TaskDevice device = DeviceBinding.bindTaskDevice(spec.backend());
        DeviceBinding.applyThreads(spec.threads());
        WorkerRegistry.Key key = new WorkerRegistry.Key(spec.runId(), shard.worker(), device.name());
        try (WorkerRegistry.Lease lease = WorkerRegistry.acquire(key, () -> newAgent(spec, shard.worker(), device))) {
            FqlAgent agent = lease.agent();
            agent.setState(start.toAgentState());
            BatchSampler sampler = new BatchSampler(shard, agent.config(), spec.seed());
            RoundMetrics metrics = new RoundMetrics();
            WorkerOutcome.Divergence divergence = null;
            long t0 = System.nanoTime();
            for (int i = 0; i < spec.steps(); i++) {
                LossReport report = agent.update(sampler.sample(agent.step()));
                if (!report.isFinite()) {
                    divergence = new WorkerOutcome.Divergence(shard.worker(), agent.step(), describe(report, agent.config()));
                    break;
                }
                metrics.add(report);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (divergence != null) {
                // The state is garbage past this point; send the start state back so the average stays well-formed.
                return new WorkerOutcome(shard.worker(), start, metrics, seconds, divergence);
            }
            return new WorkerOutcome(shard.worker(), TrainingState.of(agent.state()), metrics, seconds, null);
        }
    }

    /**
     * The worker's agent on the task's device (the round's backend; see {@link DeviceBinding}). Built once per worker
     * and executor, and said so in the executor's log with the device's name, which also goes to the driver
     * ({@link RoundSpec#devices()}).
     */
    public static FqlAgent newAgent(RoundSpec spec, int worker, DeviceBinding.TaskDevice device) {
        FqlConfig config = spec.config();
        org.fqlspark.tensor.TensorOps ops = device.ops();
        String used = device.name().startsWith("cuda:") ? device.name() : ops.deviceName();
        System.err.println("fql train: worker " + worker + " (backend " + spec.backend() + ", " + device.name()
                + (used.equals(device.name()) ? "" : ", device " + used) + ") on " + ops.describe());
        if (spec.devices() != null) {
            spec.devices().add(used);
        }
        return new FqlAgent(config, spec.obsDim(), spec.actionDim(), Seeds.workerNoiseSeed(spec.seed(), worker), ops);
    }

    public static String describe(LossReport r, FqlConfig config) {
        Map<String, Double> m = r.metrics(config.alpha());
        return m.entrySet().stream().map(e -> e.getKey() + "=" + String.format(Locale.ROOT, "%.6g", e.getValue()))
                .collect(Collectors.joining(", "));
    }
}
