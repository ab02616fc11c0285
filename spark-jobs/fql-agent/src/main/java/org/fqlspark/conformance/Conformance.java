package org.fqlspark.conformance;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.fqlspark.agent.ChunkTargets;
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
 *
 * <p>It cannot pass vacuously: a loss, intermediate, gradient, Adam moment or weight that one side has and the other
 * lacks is a failing check naming it, as is a shape or length mismatch (intermediates, gradients, moments and weights are
 * compared by shape before their values), and a report without checks fails.
 *
 * <p>A dump with action chunks ({@code fql-chunked-golden-v1}) is replayed the same way on an agent with its
 * {@code horizon_length}, and additionally {@link ChunkTargets} is run on each batch's raw rows and compared with the
 * rewards, masks and valid flags the reference derived from them.
 */
public final class Conformance {

    /** Default tolerance: float32 against a float64 reference, with margin (the dump's float32_reference is ~1e-6). */
    public static final double DEFAULT_TOLERANCE = 1e-4;

    public record Check(String group, String name, double error, boolean pass) {
    }

    /**
     * The checks, and notes on what the dump did not carry and so was not compared (never a missing piece of ours:
     * that is a failed check).
     */
    public record Report(List<Check> checks, double tolerance, List<String> notes) {
        public Report(List<Check> checks, double tolerance) {
            this(checks, tolerance, List.of());
        }

        /** True when there was at least one check and every check passed. */
        public boolean passed() {
            return !checks.isEmpty() && checks.stream().allMatch(Check::pass);
        }

        /** The check with the largest error (a failed one when any failed), or a failing placeholder when there were none. */
        public Check worst() {
            return checks.stream().max((a, b) -> Double.compare(rank(a), rank(b)))
                    .orElse(new Check("report", "no checks at all (nothing was compared)", Double.NaN, false));
        }

        private static double rank(Check c) {
            return c.pass() ? safe(c.error()) : Double.POSITIVE_INFINITY;
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
            for (String note : notes) out.println("note: " + note);
            Check w = worst();
            out.printf(Locale.ROOT, "%d checks, largest relative error %.3e (%s %s), tolerance %.1e: %s%n",
                    checks.size(), w.error(), w.group(), w.name(), tolerance, passed() ? "PASS" : "FAIL");
        }
    }

    /** The six losses we report and the dump must carry (values and gradients). */
    static final List<String> LOSSES = List.of("critic_loss", "bc_flow_loss", "distill_loss", "q_loss", "actor_loss", "total_loss");

    private final GoldenDump dump;
    private final double tolerance;
    private final TensorOps ops;
    private final List<Check> checks = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

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
        c.chunkTargets();
        return new Report(List.copyOf(c.checks), tolerance, List.copyOf(c.notes));
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
        compareIntermediates(report.intermediates(), agent.intermediateShapes(dump.batch.size()));
        for (String loss : LOSSES) {
            if (!dump.grads.containsKey(loss)) {
                checks.add(missing("grads", loss, "the reference has no gradients of this loss"));
            }
        }
        for (Map.Entry<String, Map<String, GoldenDump.Named>> g : dump.grads.entrySet()) {
            GradientTerms terms = termsByLoss.get(g.getKey());
            if (terms == null) {
                checks.add(missing("grads", g.getKey(), "the reference has gradients of a loss we do not compute"));
                continue;
            }
            agent.computeLossesAndGradients(dump.batch, dump.noise, terms, false);
            compareParameters("grads of " + g.getKey(), List.of(agent.layout()), List.of(agent.gradients()), g.getValue());
        }
        agent.update(dump.batch, dump.noise);
        compareAdam("(step 1)", agent, dump.adamStep, dump.adamM, dump.adamV);
        compareParameters("params after step 1", List.of(agent.layout(), agent.targetLayout()),
                List.of(agent.parameters(), agent.targetParameters()), dump.paramsAfterStep);
    }

    private void multiStep() {
        FqlAgent agent = freshAgent();
        if (dump.multiBatches.isEmpty()) {
            checks.add(missing("multi-step", "batches", "the reference has no steps in multi_step"));
        }
        for (int s = 0; s < dump.multiBatches.size(); s++) {
            LossReport r = agent.update(dump.multiBatches.get(s), dump.multiNoises.get(s));
            compareLosses("losses (multi-step " + (s + 1) + ")", r, dump.config.alpha(), dump.multiLosses.get(s));
        }
        String after = "after " + dump.multiBatches.size() + " steps";
        if (dump.multiAdam == null) {
            // Dumps of the first format (the original fql_tiny_default.json among them) stop at the weights after the
            // steps, which the Adam state determines; newer ones (make_golden.py) carry the moments too, and then they
            // must match.
            notes.add("multi_step.adam_state_after is not in this dump (its older format): the Adam moments " + after
                    + " were not compared, only the weights they produced");
        } else {
            compareAdam("(" + after + ")", agent, dump.multiAdam.step(), dump.multiAdam.m(), dump.multiAdam.v());
        }
        compareParameters("params " + after, List.of(agent.layout(), agent.targetLayout()),
                List.of(agent.parameters(), agent.targetParameters()), dump.multiParamsAfter);
    }

    /** Chunked dumps: our {@link ChunkTargets} from each batch's raw rows against the reference's derived rows. */
    private void chunkTargets() {
        for (GoldenDump.ChunkRows rows : dump.chunkRows) {
            int b = (int) rows.rewards().shape()[0];
            ChunkTargets ours = ChunkTargets.of(rows.stepRewards().toFloats(), rows.stepMasks().toFloats(),
                    rows.stepTerminals().toFloats(), b, dump.horizon, dump.config.discount());
            String group = "chunk targets from the raw rows";
            compare(group, rows.where() + ".rewards", ours.rewards(), rows.rewards().data());
            compare(group, rows.where() + ".masks", ours.masks(), rows.masks().data());
            compare(group, rows.where() + ".valid", ours.valid(), rows.valid().data());
        }
    }

    private void compareAdam(String when, FqlAgent agent, long referenceStep, Map<String, GoldenDump.Named> m,
                             Map<String, GoldenDump.Named> v) {
        if (agent.step() != referenceStep) {
            checks.add(new Check("adam " + when, "t = " + agent.step() + ", reference " + referenceStep, Double.NaN, false));
        }
        compareParameters("adam m " + when, List.of(agent.layout()), List.of(agent.adamFirstMoment()), m);
        compareParameters("adam v " + when, List.of(agent.layout()), List.of(agent.adamSecondMoment()), v);
    }

    /** Each intermediate's shape, then its values: a tensor of the right length but another shape fails. */
    private void compareIntermediates(Map<String, float[]> ours, Map<String, long[]> ourShapes) {
        for (Map.Entry<String, GoldenDump.Named> e : dump.intermediates.entrySet()) {
            float[] mine = ours.get(e.getKey());
            long[] shape = ourShapes.get(e.getKey());
            if (mine == null) {
                checks.add(missing("intermediates", e.getKey(), "in the reference, not produced by ours"));
            } else if (shape == null || !Arrays.equals(shape, e.getValue().shape())) {
                checks.add(new Check("intermediates", e.getKey() + " (shape " + Arrays.toString(e.getValue().shape())
                        + " in the reference, ours " + Arrays.toString(shape) + ")", Double.NaN, false));
            } else {
                compare("intermediates", e.getKey(), mine, e.getValue().data());
            }
        }
        for (String name : new TreeSet<>(ours.keySet())) {
            if (!dump.intermediates.containsKey(name)) {
                checks.add(missing("intermediates", name, "produced by ours, missing from the reference"));
            }
        }
    }

    private void compareLosses(String group, LossReport r, double alpha, Map<String, Double> reference) {
        Map<String, Double> ours = Map.of(
                "critic_loss", r.criticLoss(), "bc_flow_loss", r.bcFlowLoss(), "distill_loss", r.distillLoss(),
                "q_loss", r.qLoss(), "actor_loss", r.actorLoss(alpha), "total_loss", r.totalLoss(alpha));
        for (Map.Entry<String, Double> e : reference.entrySet()) {
            Double mine = ours.get(e.getKey());
            if (mine == null) {
                checks.add(missing(group, e.getKey(), "in the reference, not produced by ours"));
            } else {
                compare(group, e.getKey(), new float[] {mine.floatValue()}, new double[] {e.getValue()});
            }
        }
        for (String loss : LOSSES) {
            if (!reference.containsKey(loss)) {
                checks.add(missing(group, loss, "produced by ours, missing from the reference"));
            }
        }
    }

    /**
     * Compares every tensor of the layouts (ours) with the reference section, both ways: a tensor of ours that the
     * section lacks, and a tensor of the section that none of our layouts has, are failing checks.
     */
    private void compareParameters(String group, List<ParameterLayout> layouts, List<float[]> ours,
                                   Map<String, GoldenDump.Named> reference) {
        Set<String> seen = new HashSet<>();
        for (int l = 0; l < layouts.size(); l++) {
            for (ParameterLayout.Entry e : layouts.get(l).entries()) {
                seen.add(e.name());
                GoldenDump.Named ref = reference.get(e.name());
                if (ref == null) {
                    checks.add(missing(group, e.name(), "ours has it, the reference section lacks it"));
                    continue;
                }
                if (!Arrays.equals(ref.shape(), e.shape())) {
                    checks.add(new Check(group, e.name() + " shape " + Arrays.toString(ref.shape())
                            + " != ours " + Arrays.toString(e.shape()), Double.NaN, false));
                    continue;
                }
                float[] slice = Arrays.copyOfRange(ours.get(l), (int) e.offset(), (int) (e.offset() + e.size()));
                compare(group, e.name(), slice, ref.data());
            }
        }
        for (String name : reference.keySet()) {
            if (!seen.contains(name)) {
                checks.add(missing(group, name, "in the reference, ours has no such tensor"));
            }
        }
    }

    private static Check missing(String group, String name, String why) {
        return new Check(group, name + " MISSING (" + why + ")", Double.NaN, false);
    }

    private void compare(String group, String name, float[] ours, double[] reference) {
        if (ours.length != reference.length || reference.length == 0) {
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
                        + Arrays.toString(e.shape()));
            }
            if (!Arrays.equals(t.shape(), e.shape())) {
                throw new GoldenDump.GoldenFormatException(dump.source, where + "." + e.name(), "shape "
                        + Arrays.toString(e.shape()) + " for the stated config, found " + Arrays.toString(t.shape()));
            }
            float[] f = t.toFloats();
            System.arraycopy(f, 0, flat, (int) e.offset(), f.length);
        }
        return flat;
    }
}
