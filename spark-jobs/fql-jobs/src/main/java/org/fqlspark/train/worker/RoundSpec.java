package org.fqlspark.train.worker;

import java.io.Serializable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.fqlspark.agent.FqlConfig;

/**
 * What every task of one round needs besides its shard and the broadcast start state: small, captured in the
 * task closure. The config travels as JSON because {@link FqlConfig} is not {@link Serializable}.
 */
public record RoundSpec(String runId, String configJson, int obsDim, int actionDim, long seed, long startStep, int steps, int threads,
        int workers)
        implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    public static String toJson(FqlConfig config) {
        try {
            return JSON.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public FqlConfig config() {
        return config(configJson);
    }

    public static FqlConfig config(String configJson) {
        try {
            return JSON.readValue(configJson, FqlConfig.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("config does not parse: " + e.getMessage(), e);
        }
    }
}
