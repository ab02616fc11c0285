package org.fqlspark.agent;

import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * FQL hyper-parameters with the paper's defaults (docs/algorithm.md §4.1, code {@code get_config}). Validated on
 * construction, so an agent never sees a negative discount or an empty network.
 *
 * <p>Serialised with Jackson under the component names (config.json, checkpoint headers, Spark task closures). The
 * last component, {@code horizonLength}, came after the first release: it is written only when it is not 1, so a
 * config without action chunking serialises to exactly the bytes it always did, and a file written without the key
 * reads as 1 ({@link #fromJson}).
 *
 * @param actorHiddenDims  hidden widths of both actors (BC flow and one-step policy)
 * @param valueHiddenDims  hidden widths of each critic member
 * @param layerNorm        LayerNorm after each hidden GELU of the critic
 * @param actorLayerNorm   the same for the actors (off in the paper)
 * @param alpha            weight of the distillation loss only (a BC coefficient, §2.5)
 * @param flowSteps        Euler steps of the BC flow (M)
 * @param normalizeQLoss   divide the Q loss by sg(mean |Q|) (§2.4); not available with action chunking
 * @param layerNormEps     flax LayerNorm epsilon
 * @param horizonLength    action chunk length h (docs/algorithm.md §11, Q-chunking's {@code horizon_length}): every
 *                         network acts on h consecutive actions and the critic backs up over h steps; 1 is FQL
 */
public record FqlConfig(
        double learningRate,
        int batchSize,
        List<Integer> actorHiddenDims,
        List<Integer> valueHiddenDims,
        boolean layerNorm,
        boolean actorLayerNorm,
        double discount,
        double tau,
        QAgg qAgg,
        double alpha,
        int flowSteps,
        boolean normalizeQLoss,
        double adamBeta1,
        double adamBeta2,
        double adamEps,
        double layerNormEps,
        @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = HorizonOne.class) int horizonLength) {

    /** The critic ensemble size is fixed at two in FQL. */
    public static final int CRITIC_ENSEMBLE = 2;

    public FqlConfig {
        actorHiddenDims = List.copyOf(actorHiddenDims);
        valueHiddenDims = List.copyOf(valueHiddenDims);
        require(learningRate > 0 && Double.isFinite(learningRate), "lr", learningRate, "a positive finite number");
        require(batchSize > 0, "batch_size", batchSize, "a positive integer");
        require(!actorHiddenDims.isEmpty() && actorHiddenDims.stream().allMatch(h -> h > 0),
                "actor_hidden_dims", actorHiddenDims, "a non-empty list of positive widths");
        require(!valueHiddenDims.isEmpty() && valueHiddenDims.stream().allMatch(h -> h > 0),
                "value_hidden_dims", valueHiddenDims, "a non-empty list of positive widths");
        require(discount >= 0 && discount <= 1, "discount", discount, "a number in [0, 1]");
        require(tau >= 0 && tau <= 1, "tau", tau, "a number in [0, 1]");
        require(qAgg != null, "q_agg", qAgg, "'mean' or 'min'");
        require(alpha >= 0 && Double.isFinite(alpha), "alpha", alpha, "a non-negative finite number");
        require(flowSteps > 0, "flow_steps", flowSteps, "a positive integer");
        require(adamBeta1 >= 0 && adamBeta1 < 1, "adam_b1", adamBeta1, "a number in [0, 1)");
        require(adamBeta2 >= 0 && adamBeta2 < 1, "adam_b2", adamBeta2, "a number in [0, 1)");
        require(adamEps >= 0, "adam_eps", adamEps, "a non-negative number");
        require(layerNormEps > 0, "ln_eps", layerNormEps, "a positive number");
        require(horizonLength >= 1, "horizon_length", horizonLength, "a positive integer (1 = no action chunking)");
        require(!(normalizeQLoss && horizonLength > 1), "normalize_q_loss", normalizeQLoss,
                "false with horizon_length " + horizonLength + " (action chunking, QC-FQL, has no Q-loss normalisation)");
    }

    /** The config without action chunking ({@code horizonLength} 1): the components of the first release. */
    public FqlConfig(double learningRate, int batchSize, List<Integer> actorHiddenDims, List<Integer> valueHiddenDims,
                     boolean layerNorm, boolean actorLayerNorm, double discount, double tau, QAgg qAgg, double alpha,
                     int flowSteps, boolean normalizeQLoss, double adamBeta1, double adamBeta2, double adamEps,
                     double layerNormEps) {
        this(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm, discount, tau, qAgg, alpha,
                flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, 1);
    }

    /**
     * How Jackson reads a config: as the canonical constructor, except that a missing {@code horizonLength} (every
     * config.json and checkpoint written before action chunking) is 1. An explicit value is validated as usual.
     */
    @JsonCreator
    static FqlConfig fromJson(
            @JsonProperty("learningRate") double learningRate,
            @JsonProperty("batchSize") int batchSize,
            @JsonProperty("actorHiddenDims") List<Integer> actorHiddenDims,
            @JsonProperty("valueHiddenDims") List<Integer> valueHiddenDims,
            @JsonProperty("layerNorm") boolean layerNorm,
            @JsonProperty("actorLayerNorm") boolean actorLayerNorm,
            @JsonProperty("discount") double discount,
            @JsonProperty("tau") double tau,
            @JsonProperty("qAgg") QAgg qAgg,
            @JsonProperty("alpha") double alpha,
            @JsonProperty("flowSteps") int flowSteps,
            @JsonProperty("normalizeQLoss") boolean normalizeQLoss,
            @JsonProperty("adamBeta1") double adamBeta1,
            @JsonProperty("adamBeta2") double adamBeta2,
            @JsonProperty("adamEps") double adamEps,
            @JsonProperty("layerNormEps") double layerNormEps,
            @JsonProperty("horizonLength") Integer horizonLength) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm, discount, tau,
                qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps,
                horizonLength == null ? 1 : horizonLength);
    }

    /** Jackson's value filter for {@code horizonLength}: true (leave the key out) for 1, the value before chunking existed. */
    static final class HorizonOne {
        @Override
        public boolean equals(Object value) {
            return value instanceof Integer h && h == 1;
        }

        @Override
        public int hashCode() {
            return 1;
        }
    }

    private static void require(boolean ok, String key, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("config '" + key + "' = " + value + ": expected " + expected);
        }
    }

    /** The paper's defaults: lr 3e-4, batch 256, 4×512 networks, γ 0.99, τ 0.005, mean, α 10, 10 flow steps. */
    public static FqlConfig defaults() {
        List<Integer> h = List.of(512, 512, 512, 512);
        return new FqlConfig(3e-4, 256, h, h, true, false, 0.99, 0.005, QAgg.MEAN, 10.0, 10, false,
                0.9, 0.999, 1e-8, 1e-6);
    }

    public FqlConfig withAlpha(double a) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, a, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }

    public FqlConfig withDiscount(double g) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                g, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }

    public FqlConfig withQAgg(QAgg q) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, q, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }

    public FqlConfig withNormalizeQLoss(boolean n) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, flowSteps, n, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }

    public FqlConfig withBatchSize(int b) {
        return new FqlConfig(learningRate, b, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }

    public FqlConfig withFlowSteps(int m) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, m, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }

    public FqlConfig withLearningRate(double lr) {
        return new FqlConfig(lr, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }

    public FqlConfig withTau(double t) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, t, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }

    /** Same widths for both actors and the critic members. */
    /** The critic's hidden widths alone (the official {@code value_hidden_dims}); the actor and flow keep theirs. */
    public FqlConfig withValueHiddenDims(int... dims) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, Arrays.stream(dims).boxed().toList(), layerNorm,
                actorLayerNorm, discount, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }

    /** Action chunks of {@code h} steps (docs/algorithm.md §11); 1 is FQL. */
    public FqlConfig withHorizonLength(int h) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, h);
    }

    public FqlConfig withHiddenDims(int... dims) {
        List<Integer> h = Arrays.stream(dims).boxed().toList();
        return new FqlConfig(learningRate, batchSize, h, h, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, horizonLength);
    }
}
