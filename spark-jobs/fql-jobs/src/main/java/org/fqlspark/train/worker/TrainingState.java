package org.fqlspark.train.worker;

import java.io.Serializable;

import org.fqlspark.agent.FqlAgent;

/**
 * The agent's whole training state as plain arrays (Serializable, unlike {@link FqlAgent.AgentState}): what the
 * driver broadcasts at the start of a round, what each worker sends back, and what a checkpoint holds.
 */
public record TrainingState(float[] parameters, float[] targetParameters, float[] adamM, float[] adamV, long step)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    public static TrainingState of(FqlAgent.AgentState s) {
        return new TrainingState(s.parameters(), s.targetParameters(), s.adamM(), s.adamV(), s.step());
    }

    public FqlAgent.AgentState toAgentState() {
        return new FqlAgent.AgentState(parameters, targetParameters, adamM, adamV, step);
    }

    /** The four arrays in a fixed order: parameters, target critic, Adam first and second moments. */
    public float[][] arrays() {
        return new float[][] {parameters, targetParameters, adamM, adamV};
    }

    static final String[] ARRAY_NAMES = {"parameters", "target_parameters", "adam_m", "adam_v"};

    /** A description of the first NaN or infinite value, or null when every value is finite. */
    public String firstNonFinite() {
        float[][] a = arrays();
        for (int k = 0; k < a.length; k++) {
            for (int i = 0; i < a[k].length; i++) {
                if (!Float.isFinite(a[k][i])) {
                    return ARRAY_NAMES[k] + "[" + i + "] = " + a[k][i];
                }
            }
        }
        return null;
    }
}
