package org.fqlspark.policy;

import java.io.Serializable;
import java.util.Map;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.ParameterLayout;
import org.fqlspark.eval.Policy;
import org.fqlspark.tensor.Backends;

/**
 * What acting needs from a checkpoint, and nothing more: the config, the dimensions and the trainable parameters
 * (no target critic, no Adam moments, so a third of a checkpoint's size). This is what a transform broadcasts to the
 * executors; each task turns it back into an agent with {@link #agent()}.
 */
public record PolicyWeights(FqlConfig config, int obsDim, int actionDim, long seed, long step, float[] parameters)
        implements Serializable {

    public static PolicyWeights of(Checkpoint checkpoint) {
        return new PolicyWeights(checkpoint.config(), checkpoint.obsDim(), checkpoint.actionDim(), checkpoint.seed(),
                checkpoint.state().step(), checkpoint.state().parameters());
    }

    /**
     * An agent holding these weights on the default ops (ND4J GEMMs: acting is batched here, where they win), with a
     * zero target critic and zero Adam moments, which acting never reads.
     */
    public FqlAgent agent() {
        long targetSize = ParameterLayout.target(obsDim, actionDim, config).size();
        FqlAgent.AgentState state = new FqlAgent.AgentState(parameters, new float[Math.toIntExact(targetSize)],
                new float[parameters.length], new float[parameters.length], step);
        return new Checkpoint(config, obsDim, actionDim, seed, state, Map.of()).restore(Backends.defaultOps());
    }

    /** Actions of {@code n} observations and noises (row-major), clipped to [−1, 1]. */
    public static float[] act(FqlAgent agent, Policy policy, float[] observations, float[] noise, int n) {
        return policy == Policy.ONE_STEP
                ? agent.sampleActions(observations, noise, n)
                : agent.computeFlowActions(observations, noise, n);
    }
}
