package org.fqlspark.policy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;

/** Checkpoints for the policy tests: untrained agents whose weights are spread out so that some actions clip. */
final class PolicyFixtures {

    static final FqlConfig TINY = FqlConfig.defaults().withHiddenDims(32, 32).with(FqlConfig.FLOW_STEPS, 4);

    private PolicyFixtures() {
    }

    /** The same config with LayerNorm in the actors too (off in the paper), to cover that branch of the export. */
    static FqlConfig withActorLayerNorm(FqlConfig c) {
        return c.with(FqlConfig.ACTOR_LAYER_NORM, true);
    }

    /** An agent whose parameters are its Glorot init plus N(0, 0.02²) noise (so biases and LN shifts are not zero), at step 42. */
    static Checkpoint checkpoint(FqlConfig config, int obsDim, int actionDim, long seed) {
        FqlAgent agent = new FqlAgent(config, obsDim, actionDim, seed);
        FqlAgent.AgentState s = agent.state();
        float[] p = s.parameters().clone();
        SplittableRandom rng = new SplittableRandom(seed + 1);
        for (int i = 0; i < p.length; i++) p[i] = p[i] + (float) (0.02 * rng.nextGaussian());
        float[] target = s.targetParameters().clone();
        for (int i = 0; i < target.length; i++) target[i] += (float) (0.01 * rng.nextGaussian());
        agent.setState(new FqlAgent.AgentState(p, target, s.adamM(), s.adamV(), 42));
        return Checkpoint.of(agent, Map.of("purpose", "policy test"));
    }

    static Path save(Checkpoint c, Path dir, String name) throws IOException {
        Path file = dir.resolve(name);
        c.save(file);
        return file;
    }

    static float[] gaussian(int n, double scale, SplittableRandom rng) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (scale * rng.nextGaussian());
        return a;
    }
}
