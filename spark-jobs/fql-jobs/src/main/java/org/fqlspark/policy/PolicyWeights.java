package org.fqlspark.policy;

import java.io.Serializable;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.ParameterLayout;
import org.fqlspark.eval.Policy;
import org.fqlspark.tensor.Backends;
import org.fqlspark.tensor.JavaTensorOps;
import org.fqlspark.tensor.TensorOps;

/**
 * What acting needs from a checkpoint, and nothing more: the config, the dimensions and the trainable parameters
 * (no target critic, no Adam moments, so a third of a checkpoint's size). This is what a transform broadcasts to the
 * executors; each task turns it back into an agent with {@link #agent()}.
 */
public record PolicyWeights(String configJson, int obsDim, int actionDim, long seed, long step, float[] parameters)
        implements Serializable {

    /** The config travels as the JSON a checkpoint header holds (FqlConfig is a plain record, not Serializable). */
    private static final ObjectMapper JSON = new ObjectMapper();

    public static PolicyWeights of(Checkpoint checkpoint) {
        try {
            return new PolicyWeights(JSON.writeValueAsString(checkpoint.config()), checkpoint.obsDim(), checkpoint.actionDim(),
                    checkpoint.seed(), checkpoint.state().step(), checkpoint.state().parameters());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public FqlConfig config() {
        try {
            return JSON.readValue(configJson, FqlConfig.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An agent holding these weights, with a zero target critic and zero Adam moments, which acting never reads: on the
     * default ops (ND4J GEMMs, fastest for batches), or with {@code exact} on {@link JavaTensorOps}, whose results for
     * a row do not depend on the other rows of its batch.
     */
    public FqlAgent agent(boolean exact) {
        return agent(exact ? new JavaTensorOps() : Backends.defaultOps());
    }

    /** An agent holding these weights on {@code ops}. */
    public FqlAgent agent(TensorOps ops) {
        FqlConfig config = config();
        long targetSize = ParameterLayout.target(obsDim, actionDim, config).size();
        FqlAgent.AgentState state = new FqlAgent.AgentState(parameters, new float[Math.toIntExact(targetSize)],
                new float[parameters.length], new float[parameters.length], step);
        return new Checkpoint(config, obsDim, actionDim, seed, state, Map.of()).restore(ops);
    }

    /** The action-chunk length h of the config: a policy call returns h·{@code actionDim} values per row. */
    public int horizon() {
        return config().horizonLength();
    }

    /**
     * Actions of {@code n} observations and noises (row-major, h·A values per row), clipped to [−1, 1]: one chunk
     * {@code [n, h·A]} per observation, step-major (A values without chunking).
     */
    public static float[] act(FqlAgent agent, Policy policy, float[] observations, float[] noise, int n) {
        return policy == Policy.ONE_STEP
                ? agent.sampleActions(observations, noise, n)
                : agent.computeFlowActions(observations, noise, n);
    }
}
