package org.fqlspark.conformance;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlAgent.GradientTerms;
import org.fqlspark.agent.LossReport;
import org.fqlspark.agent.ParameterLayout;
import org.fqlspark.tensor.Backends;
import org.fqlspark.tensor.TensorOps;

/**
 * Replays a golden dump on our implementation and compares every loss, intermediate, per-loss gradient, Adam
 * moment and weight. The error of a tensor is {@code max |ours − reference| / max(max |reference|, 1e-6)}: relative
 * to the tensor's scale, so entries that are zero in the reference do not make the ratio meaningless.
 */
public final class Conformance {

    /** Default tolerance: float32 against a float64 reference, with margin (the dump's float32_reference is ~1e-6). */
    public static final double DEFAULT_TOLERANCE = 1e-4;

    public record Check(String group, String name, double error, boolean pass) {
    }

    public record Report(List<Check> checks, double tolerance) {
        public boolean passed() {
            return checks.stream().allMatch(Check::pass);
        }

        public Check worst() {
            return checks.stream().max((a, b) -> Double.compare(safe(a.error()), safe(b.error()))).orElseThrow();
        }

        private static double safe(double e) {
            return Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
        }

        public void print(PrintStream out) {
            String group = "";
            for (Check c : checks) {
                if (!c.group().equals(group)) {
                    group = c.group();
                    out.println("== " + group);
                }
                out.printf(Locale.ROOT, "  %-48s %10.3e  %s%n", c.name(), c.error(), c.pass() ? "ok" : "FAIL");
            }
            Check w = worst();
            out.printf(Locale.ROOT, "%d checks, largest relative error %.3e (%s %s), tolerance %.1e: %s%n",
                    checks.size(), w.error(), w.group(), w.name(), tolerance, passed() ? "PASS" : "FAIL");
        }
    }

    private final GoldenDump dump;
    private final double tolerance;
    private final TensorOps ops;
    private final List<Check> checks = new ArrayList<>();

    private Conformance(GoldenDump dump, double tolerance, TensorOps ops) {
        this.dump = dump;
        this.tolerance = tolerance;
        this.ops = ops;
    }

    public static Report run(GoldenDump dump, double tolerance) {
        return run(dump, tolerance, Backends.defaultOps());
    }

    public static Report run(GoldenDump dump, double tolerance, TensorOps ops) {
        Conformance c = new Conformance(dump, tolerance, ops);
        c.singleStep();
        c.multiStep();
        return new Report(List.copyOf(c.checks), tolerance);
    }

    private FqlAgent freshAgent() {
        FqlAgent agent = new FqlAgent(dump.config, dump.obsDim, dump.actionDim, 0, ops);
        float[] params = gather(agent.layout(), dump.paramsInit, "params_init");
        float[] target = gather(agent.targetLayout(), dump.paramsInit, "params_init");
        int n = params.length;
        agent.setState(new FqlAgent.AgentState(params, target, new float[n], new float[n], 0));
        return agent;
    }

    private void singleStep() {
        FqlAgent agent = freshAgent();
        double alpha = dump.config.alpha();
        Map<String, GradientTerms> termsByLoss = Map.of(
                "critic_loss", new GradientTerms(1, 0, 0, 0),
                "bc_flow_loss", new GradientTerms(0, 1, 0, 0),
                "distill_loss", new GradientTerms(0, 0, 1, 0),
                "q_loss", new GradientTerms(0, 0, 0, 1),
                "actor_loss", new GradientTerms(0, 1, alpha, 1),
                "total_loss", new GradientTerms(1, 1, alpha, 1));
        LossReport report = agent.computeLossesAndGradients(dump.batch, dump.noise, termsByLoss.get("total_loss"), true);
        compareLosses("losses (step 1)", report, alpha, dump.losses);
        for (Map.Entry<String, GoldenDump.Named> e : dump.intermediates.entrySet()) {
            float[] ours = report.intermediates().get(e.getKey());
            if (ours == null) {
                checks.add(new Check("intermediates", e.getKey() + " (not produced)", Double.NaN, false));
            } else {
                compare("intermediates", e.getKey(), ours, e.getValue().data());
            }
        }
        for (Map.Entry<String, Map<String, GoldenDump.Named>> g : dump.grads.entrySet()) {
            GradientTerms terms = termsByLoss.get(g.getKey());
            if (terms == null) {
                checks.add(new Check("grads", g.getKey() + " (unknown loss)", Double.NaN, false));
                continue;
            }
            agent.computeLossesAndGradients(dump.batch, dump.noise, terms, false);
            compareParameters("grads of " + g.getKey(), agent.layout(), agent.gradients(), g.getValue());
        }
        agent.update(dump.batch, dump.noise);
        if (agent.step() != dump.adamStep) {
            checks.add(new Check("adam", "t = " + agent.step() + ", reference " + dump.adamStep, Double.NaN, false));
        }
        compareParameters("adam m (step 1)", agent.layout(), agent.adamFirstMoment(), dump.adamM);
        compareParameters("adam v (step 1)", agent.layout(), agent.adamSecondMoment(), dump.adamV);
        compareParameters("params after step 1", agent.layout(), agent.parameters(), dump.paramsAfterStep);
        compareParameters("params after step 1", agent.targetLayout(), agent.targetParameters(), dump.paramsAfterStep);
    }

    private void multiStep() {
        FqlAgent agent = freshAgent();
        for (int s = 0; s < dump.multiBatches.size(); s++) {
            LossReport r = agent.update(dump.multiBatches.get(s), dump.multiNoises.get(s));
            compareLosses("losses (multi-step " + (s + 1) + ")", r, dump.config.alpha(), dump.multiLosses.get(s));
        }
        String group = "params after " + dump.multiBatches.size() + " steps";
        compareParameters(group, agent.layout(), agent.parameters(), dump.multiParamsAfter);
        compareParameters(group, agent.targetLayout(), agent.targetParameters(), dump.multiParamsAfter);
    }

    private void compareLosses(String group, LossReport r, double alpha, Map<String, Double> reference) {
        Map<String, Double> ours = Map.of(
                "critic_loss", r.criticLoss(), "bc_flow_loss", r.bcFlowLoss(), "distill_loss", r.distillLoss(),
                "q_loss", r.qLoss(), "actor_loss", r.actorLoss(alpha), "total_loss", r.totalLoss(alpha));
        for (Map.Entry<String, Double> e : reference.entrySet()) {
            Double mine = ours.get(e.getKey());
            if (mine == null) {
                checks.add(new Check(group, e.getKey() + " (not produced)", Double.NaN, false));
            } else {
                compare(group, e.getKey(), new float[] {mine.floatValue()}, new double[] {e.getValue()});
            }
        }
    }

    private void compareParameters(String group, ParameterLayout layout, float[] ours, Map<String, GoldenDump.Named> reference) {
        for (ParameterLayout.Entry e : layout.entries()) {
            GoldenDump.Named ref = reference.get(e.name());
            if (ref == null) {
                continue;   // e.g. target_critic is absent from gradient and Adam sections
            }
            if (!java.util.Arrays.equals(ref.shape(), e.shape())) {
                checks.add(new Check(group, e.name() + " shape " + java.util.Arrays.toString(ref.shape())
                        + " != ours " + java.util.Arrays.toString(e.shape()), Double.NaN, false));
                continue;
            }
            float[] slice = java.util.Arrays.copyOfRange(ours, (int) e.offset(), (int) (e.offset() + e.size()));
            compare(group, e.name(), slice, ref.data());
        }
    }

    private void compare(String group, String name, float[] ours, double[] reference) {
        if (ours.length < reference.length) {
            checks.add(new Check(group, name + " (" + ours.length + " values, reference " + reference.length + ")", Double.NaN, false));
            return;
        }
        double scale = 1e-6;
        double maxDiff = 0;
        for (int i = 0; i < reference.length; i++) {
            scale = Math.max(scale, Math.abs(reference[i]));
            double diff = Math.abs(ours[i] - reference[i]);
            maxDiff = Double.isNaN(diff) ? Double.NaN : Math.max(maxDiff, diff);
        }
        double error = maxDiff / scale;
        checks.add(new Check(group, name, error, error <= tolerance));
    }

    private float[] gather(ParameterLayout layout, Map<String, GoldenDump.Named> source, String where) {
        float[] flat = new float[Math.toIntExact(layout.size())];
        for (ParameterLayout.Entry e : layout.entries()) {
            GoldenDump.Named t = source.get(e.name());
            if (t == null) {
                throw new GoldenDump.GoldenFormatException(dump.source, where + "." + e.name(), "a tensor of shape "
                        + java.util.Arrays.toString(e.shape()));
            }
            if (!java.util.Arrays.equals(t.shape(), e.shape())) {
                throw new GoldenDump.GoldenFormatException(dump.source, where + "." + e.name(), "shape "
                        + java.util.Arrays.toString(e.shape()) + " for the stated config, found " + java.util.Arrays.toString(t.shape()));
            }
            float[] f = t.toFloats();
            System.arraycopy(f, 0, flat, (int) e.offset(), f.length);
        }
        return flat;
    }
}
