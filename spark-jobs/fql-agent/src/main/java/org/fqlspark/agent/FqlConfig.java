package org.fqlspark.agent;

import java.util.Arrays;
import java.util.List;

/**
 * FQL hyper-parameters with the paper's defaults (docs/algorithm.md §4.1, code {@code get_config}). Validated on
 * construction, so an agent never sees a negative discount or an empty network.
 *
 * @param actorHiddenDims  hidden widths of both actors (BC flow and one-step policy)
 * @param valueHiddenDims  hidden widths of each critic member
 * @param layerNorm        LayerNorm after each hidden GELU of the critic
 * @param actorLayerNorm   the same for the actors (off in the paper)
 * @param alpha            weight of the distillation loss only (a BC coefficient, §2.5)
 * @param flowSteps        Euler steps of the BC flow (M)
 * @param normalizeQLoss   divide the Q loss by sg(mean |Q|) (§2.4)
 * @param layerNormEps     flax LayerNorm epsilon
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
        double layerNormEps) {

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
                discount, tau, qAgg, a, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }

    public FqlConfig withDiscount(double g) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                g, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }

    public FqlConfig withQAgg(QAgg q) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, q, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }

    public FqlConfig withNormalizeQLoss(boolean n) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, flowSteps, n, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }

    public FqlConfig withBatchSize(int b) {
        return new FqlConfig(learningRate, b, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }

    public FqlConfig withFlowSteps(int m) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, m, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }

    public FqlConfig withLearningRate(double lr) {
        return new FqlConfig(lr, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }

    public FqlConfig withTau(double t) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm,
                discount, t, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }

    /** Same widths for both actors and the critic members. */
    /** The critic's hidden widths alone (the official {@code value_hidden_dims}); the actor and flow keep theirs. */
    public FqlConfig withValueHiddenDims(int... dims) {
        return new FqlConfig(learningRate, batchSize, actorHiddenDims, Arrays.stream(dims).boxed().toList(), layerNorm,
                actorLayerNorm, discount, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }

    public FqlConfig withHiddenDims(int... dims) {
        List<Integer> h = Arrays.stream(dims).boxed().toList();
        return new FqlConfig(learningRate, batchSize, h, h, layerNorm, actorLayerNorm,
                discount, tau, qAgg, alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps);
    }
}
