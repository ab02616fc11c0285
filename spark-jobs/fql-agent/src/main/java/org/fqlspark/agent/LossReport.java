package org.fqlspark.agent;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The losses of one step at the pre-update weights, the metrics the official code logs, and (when asked for)
 * the named intermediates of the conformance dump.
 */
public record LossReport(
        double criticLoss,
        double bcFlowLoss,
        double distillLoss,
        double qLoss,
        double qMean,
        double qMax,
        double qMin,
        double actorQ,
        double gradNorm,
        Map<String, float[]> intermediates) {

    public double actorLoss(double alpha) {
        return bcFlowLoss + alpha * distillLoss + qLoss;
    }

    public double totalLoss(double alpha) {
        return criticLoss + actorLoss(alpha);
    }

    /** Metric names as in the official code's logs (the metrics glossary in the README). */
    public Map<String, Double> metrics(double alpha) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("critic/critic_loss", criticLoss);
        m.put("critic/q_mean", qMean);
        m.put("critic/q_max", qMax);
        m.put("critic/q_min", qMin);
        m.put("actor/actor_loss", actorLoss(alpha));
        m.put("actor/bc_flow_loss", bcFlowLoss);
        m.put("actor/distill_loss", distillLoss);
        m.put("actor/q_loss", qLoss);
        m.put("actor/q", actorQ);
        m.put("grad_norm", gradNorm);
        return m;
    }

    public boolean isFinite() {
        return Double.isFinite(criticLoss) && Double.isFinite(bcFlowLoss) && Double.isFinite(distillLoss)
                && Double.isFinite(qLoss) && Double.isFinite(gradNorm);
    }
}
