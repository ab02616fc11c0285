package org.fqlspark.train.worker;

import java.io.Serializable;

import org.apache.spark.util.CollectionAccumulator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.tensor.Backends;

/**
 * What every task of one round needs besides its shard and the broadcast start state: small, captured in the
 * task closure. The config travels as JSON because {@link FqlConfig} is not {@link Serializable}.
 *
 * @param backend the tensor backend the workers build their agents on: auto, cpu or opencl ({@code Backends.forTask})
 * @param devices where a worker reports the device it built its agent on (the run's provenance records it); null: nowhere
 */
public record RoundSpec(String runId, String configJson, int obsDim, int actionDim, long seed, long startStep, int steps, int threads,
        int workers, String backend, CollectionAccumulator<String> devices)
        implements Serializable {

    public RoundSpec {
        backend = Backends.check(backend);
    }

    /** A spec with the default backend, {@code auto} (a task's assigned GPU through OpenCL, else the CPU). */
    public RoundSpec(String runId, String configJson, int obsDim, int actionDim, long seed, long startStep, int steps, int threads,
            int workers) {
        this(runId, configJson, obsDim, actionDim, seed, startStep, steps, threads, workers, Backends.AUTO, null);
    }

    /** This spec for the round of {@code steps} steps from {@code step} (everything else, the backend included, kept). */
    public RoundSpec at(long step, int steps) {
        return new RoundSpec(runId, configJson, obsDim, actionDim, seed, step, steps, threads, workers, backend, devices);
    }

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
