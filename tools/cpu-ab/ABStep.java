package org.fqlspark.bench;

import java.util.SplittableRandom;

import org.fqlspark.agent.Batch;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.StepNoise;

/**
 * One build's training step for {@code Interleaved}: compiled against each build's agent classes and loaded in a class
 * loader of its own, so two builds of the same classes train side by side in one JVM. {@code accept(n)} runs n CPU
 * training steps on a fixed batch (the bench's {@code AgentBenchmark.randomBatch}); {@code toString} is the sum of the
 * critic losses seen, which says whether the builds compute the same thing.
 */
public class ABStep implements java.util.function.IntConsumer {

    private final FqlAgent agent;
    private final Batch batch;
    private final StepNoise noise;
    private double lossSum;

    public ABStep() {
        boolean paper = "paper".equals(System.getProperty("ab.size"));
        FqlConfig config = paper ? FqlConfig.defaults() : FqlConfig.defaults().withHiddenDims(64, 64, 64);
        int obs = paper ? 29 : 2;
        int act = paper ? 8 : 2;
        agent = new FqlAgent(config, obs, act, 0);
        SplittableRandom rng = new SplittableRandom(1);
        batch = AgentBenchmark.randomBatch(config.batchSize(), obs, act, rng);
        noise = StepNoise.sample(config.batchSize(), act, rng);
    }

    @Override
    public void accept(int n) {
        for (int i = 0; i < n; i++) {
            lossSum += agent.update(batch, noise).criticLoss();
        }
    }

    @Override
    public String toString() {
        return Double.toString(lossSum);
    }
}
