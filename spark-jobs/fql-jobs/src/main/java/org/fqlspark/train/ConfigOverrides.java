package org.fqlspark.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.QAgg;

/**
 * Hyper-parameters set on the command line over a preset; null = keep the preset's value. Names are the official
 * code's flag names. Validation happens in {@link FqlConfig}'s constructor when they are applied. {@code hidden_dims} sets
 * every network's widths; {@code value_hidden_dims}, applied after it, sets the critic's alone (the official
 * {@code value_hidden_dims}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConfigOverrides(
        @JsonProperty("alpha") Double alpha,
        @JsonProperty("discount") Double discount,
        @JsonProperty("q_agg") QAgg qAgg,
        @JsonProperty("normalize_q_loss") Boolean normalizeQLoss,
        @JsonProperty("hidden_dims") List<Integer> hiddenDims,
        @JsonProperty("batch_size") Integer batchSize,
        @JsonProperty("flow_steps") Integer flowSteps,
        @JsonProperty("lr") Double learningRate,
        @JsonProperty("tau") Double tau,
        @JsonProperty("value_hidden_dims") List<Integer> valueHiddenDims) {

    @JsonCreator
    public ConfigOverrides {
        hiddenDims = hiddenDims == null ? null : List.copyOf(hiddenDims);
        valueHiddenDims = valueHiddenDims == null ? null : List.copyOf(valueHiddenDims);
    }

    /** Overrides that leave the critic's widths to {@code hiddenDims} (or the preset). */
    public ConfigOverrides(Double alpha, Double discount, QAgg qAgg, Boolean normalizeQLoss, List<Integer> hiddenDims,
                           Integer batchSize, Integer flowSteps, Double learningRate, Double tau) {
        this(alpha, discount, qAgg, normalizeQLoss, hiddenDims, batchSize, flowSteps, learningRate, tau, null);
    }

    public static ConfigOverrides none() {
        return new ConfigOverrides(null, null, null, null, null, null, null, null, null);
    }

    /** {@code base} with every non-null override applied (same hidden widths for actors and critic). */
    public FqlConfig applyTo(FqlConfig base) {
        FqlConfig c = base;
        if (alpha != null) c = c.withAlpha(alpha);
        if (discount != null) c = c.withDiscount(discount);
        if (qAgg != null) c = c.withQAgg(qAgg);
        if (normalizeQLoss != null) c = c.withNormalizeQLoss(normalizeQLoss);
        if (hiddenDims != null) c = c.withHiddenDims(hiddenDims.stream().mapToInt(Integer::intValue).toArray());
        if (valueHiddenDims != null) c = c.withValueHiddenDims(valueHiddenDims.stream().mapToInt(Integer::intValue).toArray());
        if (batchSize != null) c = c.withBatchSize(batchSize);
        if (flowSteps != null) c = c.withFlowSteps(flowSteps);
        if (learningRate != null) c = c.withLearningRate(learningRate);
        if (tau != null) c = c.withTau(tau);
        return c;
    }

    /** {@code this} with every non-null field of {@code over} replacing its own. */
    public ConfigOverrides overriddenBy(ConfigOverrides over) {
        return new ConfigOverrides(
                over.alpha != null ? over.alpha : alpha,
                over.discount != null ? over.discount : discount,
                over.qAgg != null ? over.qAgg : qAgg,
                over.normalizeQLoss != null ? over.normalizeQLoss : normalizeQLoss,
                over.hiddenDims != null ? over.hiddenDims : hiddenDims,
                over.batchSize != null ? over.batchSize : batchSize,
                over.flowSteps != null ? over.flowSteps : flowSteps,
                over.learningRate != null ? over.learningRate : learningRate,
                over.tau != null ? over.tau : tau,
                over.valueHiddenDims != null ? over.valueHiddenDims : valueHiddenDims);
    }

    Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (alpha != null) m.put("alpha", alpha);
        if (discount != null) m.put("discount", discount);
        if (qAgg != null) m.put("q_agg", qAgg);
        if (normalizeQLoss != null) m.put("normalize_q_loss", normalizeQLoss);
        if (hiddenDims != null) m.put("hidden_dims", hiddenDims);
        if (batchSize != null) m.put("batch_size", batchSize);
        if (flowSteps != null) m.put("flow_steps", flowSteps);
        if (learningRate != null) m.put("lr", learningRate);
        if (tau != null) m.put("tau", tau);
        if (valueHiddenDims != null) m.put("value_hidden_dims", valueHiddenDims);
        return m;
    }
}
