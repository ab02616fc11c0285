package org.fqlspark.agent;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.fqlspark.tensor.Backends;
import org.fqlspark.tensor.Tensor;
import org.fqlspark.tensor.TensorOps;

/**
 * Flow Q-Learning (Park, Li, Levine, "Flow Q-Learning", ICML 2025, arXiv:2502.02538), following the official
 * code's semantics as written down in {@code docs/algorithm.md}.
 *
 * <p>One {@link #update} minimises, at the pre-update weights,
 * <pre>
 *   L = L_Q(φ) + L_flow(θ) + α · L_distill(ω) + L_q(ω)
 *   L_Q       = mean_k,i (Q_φk(s, a) − [r + γ m · agg_k Q_φ̄k(s', clip(μ_ω(s', z')))])²     (next action, target: sg)
 *   L_flow    = mean_i,j (v_θ(s, (1−t) x0 + t a, t) − (a − x0))²
 *   L_distill = mean_i,j (μ_ω(s, z) − sg(EulerFlow_θ(s, z)))²
 *   L_q       = −mean_i mean_k Q_φk(s, clip(μ_ω(s, z)))                                   (critic weights: sg)
 * </pre>
 * with one Adam step over (φ, θ, ω) (the gradient clipped to the global norm {@code max_grad_norm} first, when that is
 * set) and the Polyak update φ̄ ← τ φ_old + (1 − τ) φ̄ from the pre-update critic.
 * Forward and backward passes are written by hand over {@link TensorOps} (docs/algorithm.md §8); losses, TD targets and the
 * Euler update run on small host arrays so the backend only provides the heavy matrix work.
 *
 * <p>Not thread-safe; one agent per worker thread.
 */
public final class FqlAgent {

    /** Multipliers of the four loss terms in one gradient (total = 1, 1, α, 1); conformance takes them apart. */
    public record GradientTerms(double critic, double flow, double distill, double q) {
        public static GradientTerms total(FqlConfig c) {
            return new GradientTerms(1, 1, c.alpha(), 1);
        }
    }

    private final FqlConfig config;
    private final int obsDim;
    private final int actionDim;
    private final long seed;
    private final TensorOps ops;
    private final ParameterLayout layout;
    private final ParameterLayout targetLayout;
    private final Tensor params;
    private final Tensor grads;
    private final Tensor adamM;
    private final Tensor adamV;
    private final Tensor targetParams;
    private final Tensor criticParams;      // prefix view of params: the critic module
    private final Mlp critic;           // the critic ensemble as one stack (members along the rows)
    private final Mlp targetCritic;
    private final Mlp bcFlow;
    private final Mlp oneStep;
    private final Map<Integer, Buffers> buffers = new HashMap<>();
    private long step;

    /** A freshly initialised agent (Glorot-uniform kernels, zero biases, LN scale 1; target = critic) on ND4J. */
    public FqlAgent(FqlConfig config, int obsDim, int actionDim, long seed) {
        this(config, obsDim, actionDim, seed, Backends.defaultOps());
    }

    public FqlAgent(FqlConfig config, int obsDim, int actionDim, long seed, TensorOps ops) {
        if (obsDim <= 0 || actionDim <= 0) {
            throw new IllegalArgumentException("observation and action dims must be positive, were " + obsDim + ", " + actionDim);
        }
        this.config = config;
        this.obsDim = obsDim;
        this.actionDim = actionDim;
        this.seed = seed;
        this.ops = ops;
        this.layout = ParameterLayout.trainable(obsDim, actionDim, config);
        this.targetLayout = ParameterLayout.target(obsDim, actionDim, config);
        long n = layout.size();
        this.params = ops.zeros(1, Math.toIntExact(n));
        this.grads = ops.zeros(1, Math.toIntExact(n));
        this.adamM = ops.zeros(1, Math.toIntExact(n));
        this.adamV = ops.zeros(1, Math.toIntExact(n));
        this.targetParams = ops.zeros(1, Math.toIntExact(targetLayout.size()));
        this.criticParams = ops.view(params, 0, 1, Math.toIntExact(layout.moduleSize(ParameterLayout.CRITIC)));
        List<ParameterLayout.ModuleDims> modules = ParameterLayout.trainableModules(obsDim, actionDim, config);
        float eps = (float) config.layerNormEps();
        critic = new Mlp(ops, layout, modules.get(0), ParameterLayout.CRITIC, -1, params, grads, eps);
        targetCritic = new Mlp(ops, targetLayout, modules.get(0), ParameterLayout.TARGET_CRITIC, -1, targetParams, null, eps);
        bcFlow = new Mlp(ops, layout, modules.get(1), ParameterLayout.BC_FLOW, -1, params, grads, eps);
        oneStep = new Mlp(ops, layout, modules.get(2), ParameterLayout.ONE_STEP, -1, params, grads, eps);
        initialise(new SplittableRandom(seed));
    }

    private void initialise(SplittableRandom rng) {
        float[] p = new float[Math.toIntExact(layout.size())];
        for (ParameterLayout.Entry e : layout.entries()) {
            int off = (int) e.offset();
            long[] s = e.shape();
            if (e.name().endsWith("kernel")) {
                long fanIn = s[s.length - 2];
                long fanOut = s[s.length - 1];
                double limit = Math.sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < e.size(); i++) {
                    p[off + i] = (float) ((rng.nextDouble() * 2.0 - 1.0) * limit);
                }
            } else if (e.name().contains("/LayerNorm_") && e.name().endsWith("/scale")) {
                java.util.Arrays.fill(p, off, off + (int) e.size(), 1f);
            }
        }
        ops.upload(p, params);
        ops.copy(criticParams, targetParams);
        step = 0;
    }

    // ------------------------------------------------------------------ per-batch-size buffers

    /** Activations of every pass of one step, allocated once per batch size (critic passes: all members stacked). */
    private final class Buffers {
        final Mlp.Activations nextAction;
        final Mlp.Activations target;
        final Mlp.Activations criticTd;
        final Mlp.Activations criticActor;
        final Mlp.Activations flowMatching;
        final Mlp.Activations euler;
        final Mlp.Activations actor;     // the one-step policy at (s, z): actor_actions
        final Tensor gradQ;              // [members · B, 1]
        final Tensor gradAction;
        final Tensor gradVelocity;

        Buffers(int b) {
            nextAction = oneStep.newActivations(b);
            target = targetCritic.newActivations(b);
            criticTd = critic.newActivations(b);
            criticActor = critic.newActivations(b);
            flowMatching = bcFlow.newActivations(b);
            euler = bcFlow.newActivations(b);
            actor = oneStep.newActivations(b);
            gradQ = ops.zeros(critic.members * b, 1);
            gradAction = ops.zeros(b, actionDim);
            gradVelocity = ops.zeros(b, actionDim);
        }
    }

    private Buffers buffers(int b) {
        if (buffers.size() > 8 && !buffers.containsKey(b)) {
            buffers.clear();   // acting with many batch sizes: drop old buffers rather than grow without bound
        }
        return buffers.computeIfAbsent(b, Buffers::new);
    }

    // ------------------------------------------------------------------ policies

    /** The one-step policy: {@code clip(μ_ω(s, z))} for {@code n} observations and noises (row-major). */
    public float[] sampleActions(float[] observations, float[] noise, int n) {
        Mlp.Activations a = buffers(n).nextAction;
        float[] out = forward(oneStep, a, concat(n, observations, obsDim, noise, actionDim, null));
        clipInPlace(out);
        return out;
    }

    /** The one-step policy with fresh N(0, I) noise from {@code rng} (evaluation, docs/algorithm.md §7). */
    public float[] sampleActions(float[] observations, int n, java.util.random.RandomGenerator rng) {
        return sampleActions(observations, StepNoise.gaussian(n * actionDim, rng), n);
    }

    /** The BC flow policy: M Euler steps from {@code x = z} with times 0, 1/M, ..., (M−1)/M, clipped once at the end. */
    public float[] computeFlowActions(float[] observations, float[] noise, int n) {
        return computeFlowActions(observations, noise, n, buffers(n).euler);
    }

    /**
     * The Euler integration runs on the flow network's input tensor {@code [s, x, t]} itself: each step sets the
     * time column and adds {@code v / M} to the action columns in place, so the whole integration is one upload
     * and one download whatever M is (on a GPU: no host round trip per step).
     */
    private float[] computeFlowActions(float[] observations, float[] noise, int n, Mlp.Activations a) {
        int m = config.flowSteps();
        ops.upload(concat(n, observations, obsDim, noise, actionDim, new float[n]), a.input);
        for (int j = 0; j < m; j++) {
            ops.setColumn(a.input, obsDim + actionDim, (float) j / m);
            ops.addDividedToColumns(a.input, obsDim, bcFlow.forward(a), m);
        }
        float[] input = read(a.input);
        int w = obsDim + actionDim + 1;
        float[] x = new float[n * actionDim];
        for (int i = 0; i < n; i++) {
            System.arraycopy(input, i * w + obsDim, x, i * actionDim, actionDim);
        }
        clipInPlace(x);
        return x;
    }

    // ------------------------------------------------------------------ losses and gradients

    /**
     * Evaluates the four losses at the current weights and writes the gradient of
     * {@code terms.critic·L_Q + terms.flow·L_flow + terms.distill·L_distill + terms.q·L_q} into the gradient
     * buffer ({@link #gradients()}), with the stop-gradients of docs/algorithm.md §2.5. Each trainable network's
     * gradient comes from exactly one overwriting backward pass (critic members: the TD loss; BC flow: flow matching;
     * one-step policy: distillation plus Q); {@link Mlp} checks that rule and this method checks every network got its
     * pass.
     */
    public LossReport computeLossesAndGradients(Batch batch, StepNoise noise, GradientTerms terms, boolean keepIntermediates) {
        checkBatch(batch, noise);
        Buffers buf = buffers(batch.size());
        for (Mlp net : trainableNetworks()) {
            net.startGradientPass();
        }
        CriticPart criticPart = criticLossAndGradients(batch, noise, terms, buf);
        FlowPart flowPart = flowLossAndGradients(batch, noise, terms, buf);
        ActorPart actorPart = distillAndQLossAndGradients(batch, noise, terms, buf);
        for (Mlp net : trainableNetworks()) {
            net.requireGradientPass();
        }
        double gradNorm = Math.sqrt(ops.sumOfSquares(grads));
        Map<String, float[]> inter = null;
        if (keepIntermediates) {
            inter = new LinkedHashMap<>();
            inter.put("next_actions", criticPart.nextActions());
            inter.put("next_qs", stack(criticPart.nextQs()));
            inter.put("next_q", criticPart.nextQ());
            inter.put("target_q", criticPart.targetQ());
            inter.put("q", stack(criticPart.q()));
            inter.put("x_t", flowPart.xt());
            inter.put("vel", flowPart.velocity());
            inter.put("bc_pred", flowPart.prediction());
            inter.put("target_flow_actions", actorPart.targetFlowActions());
            inter.put("actor_actions", actorPart.actorActions());
            inter.put("actor_actions_clipped", actorPart.actorActionsClipped());
            inter.put("q_actor", stack(actorPart.qActor()));
        }
        return new LossReport(criticPart.loss(), flowPart.loss(), actorPart.distillLoss(), actorPart.qLoss(),
                criticPart.qMean(), criticPart.qMax(), criticPart.qMin(), actorPart.meanQ(), gradNorm, inter);
    }

    /**
     * The shape of each intermediate {@link #computeLossesAndGradients} keeps, for a batch of {@code batchSize}, under
     * the names it keeps them by (row-major, as {@code fql.py}'s arrays): actions [B, d], the critic members' values
     * [members, B], their aggregate and the TD target [B].
     */
    public Map<String, long[]> intermediateShapes(int batchSize) {
        long b = batchSize;
        long d = actionDim;
        long k = critic.members;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("next_actions", new long[] {b, d});
        shapes.put("next_qs", new long[] {k, b});
        shapes.put("next_q", new long[] {b});
        shapes.put("target_q", new long[] {b});
        shapes.put("q", new long[] {k, b});
        shapes.put("x_t", new long[] {b, d});
        shapes.put("vel", new long[] {b, d});
        shapes.put("bc_pred", new long[] {b, d});
        shapes.put("target_flow_actions", new long[] {b, d});
        shapes.put("actor_actions", new long[] {b, d});
        shapes.put("actor_actions_clipped", new long[] {b, d});
        shapes.put("q_actor", new long[] {k, b});
        return shapes;
    }

    private Mlp[] trainableNetworks() {
        return new Mlp[] {critic, bcFlow, oneStep};
    }

    /** The critic term's loss, metrics and the intermediates named as in {@code fql.py}. */
    private record CriticPart(double loss, double qMean, double qMax, double qMin,
                              float[] nextActions, float[][] nextQs, float[] nextQ, float[] targetQ, float[][] q) {
    }

    /** The BC flow-matching term's loss and intermediates. */
    private record FlowPart(double loss, float[] xt, float[] velocity, float[] prediction) {
    }

    /** The one-step policy's terms (distillation and Q) and intermediates. */
    private record ActorPart(double distillLoss, double qLoss, double meanQ, float[] targetFlowActions,
                             float[] actorActions, float[] actorActionsClipped, float[][] qActor) {
    }

    /**
     * Critic loss: TD target from the target critic at the current policy's next action (all sg); writes the
     * critic members' gradients.
     */
    private CriticPart criticLossAndGradients(Batch batch, StepNoise noise, GradientTerms terms, Buffers buf) {
        int b = batch.size();
        int d = actionDim;
        int k = critic.members;
        float[] nextActions = forward(oneStep, buf.nextAction, concat(b, batch.nextObservations(), obsDim, noise.nextNoise(), d, null));
        clipInPlace(nextActions);
        float[] targetInput = concat(b, batch.nextObservations(), obsDim, nextActions, d, null);
        float[][] nextQs = members(forward(targetCritic, buf.target, targetInput), k);
        float[] nextQ = new float[b];
        float[] targetQ = new float[b];
        for (int i = 0; i < b; i++) {
            double agg = config.qAgg() == QAgg.MIN ? Double.POSITIVE_INFINITY : 0;
            for (int j = 0; j < k; j++) {
                agg = config.qAgg() == QAgg.MIN ? Math.min(agg, nextQs[j][i]) : agg + nextQs[j][i] / (double) k;
            }
            nextQ[i] = (float) agg;
            targetQ[i] = (float) (batch.rewards()[i] + config.discount() * batch.masks()[i] * agg);
        }
        float[] criticInput = concat(b, batch.observations(), obsDim, batch.actions(), d, null);
        float[][] q = members(forward(critic, buf.criticTd, criticInput), k);
        double loss = 0;
        double qSum = 0;
        double qMax = Double.NEGATIVE_INFINITY;
        double qMin = Double.POSITIVE_INFINITY;
        float[] dq = new float[k * b];   // stacked like the critic's output: member after member
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < b; i++) {
                double diff = q[j][i] - targetQ[i];
                loss += diff * diff;
                dq[j * b + i] = (float) (terms.critic() * 2.0 * diff / (k * b));
                qSum += q[j][i];
                qMax = Math.max(qMax, q[j][i]);
                qMin = Math.min(qMin, q[j][i]);
            }
        }
        ops.upload(dq, buf.gradQ);
        critic.backward(buf.criticTd, buf.gradQ, true, false);
        return new CriticPart(loss / ((double) k * b), qSum / ((double) k * b), qMax, qMin, nextActions, nextQs, nextQ, targetQ, q);
    }

    /** BC flow matching: {@code x_t = (1 − t) x0 + t a}, target velocity {@code a − x0}; writes the BC flow's gradients. */
    private FlowPart flowLossAndGradients(Batch batch, StepNoise noise, GradientTerms terms, Buffers buf) {
        int b = batch.size();
        int d = actionDim;
        float[] xt = new float[b * d];
        float[] velocity = new float[b * d];
        for (int i = 0; i < b; i++) {
            float t = noise.t()[i];
            for (int c = 0; c < d; c++) {
                int idx = i * d + c;
                xt[idx] = (1 - t) * noise.x0()[idx] + t * batch.actions()[idx];
                velocity[idx] = batch.actions()[idx] - noise.x0()[idx];
            }
        }
        float[] prediction = forward(bcFlow, buf.flowMatching, concat(b, batch.observations(), obsDim, xt, d, noise.t()));
        double loss = 0;
        float[] dVel = new float[b * d];
        for (int idx = 0; idx < b * d; idx++) {
            double diff = prediction[idx] - velocity[idx];
            loss += diff * diff;
            dVel[idx] = (float) (terms.flow() * 2.0 * diff / ((double) b * d));
        }
        ops.upload(dVel, buf.gradVelocity);
        bcFlow.backward(buf.flowMatching, buf.gradVelocity, true, false);
        return new FlowPart(loss / ((double) b * d), xt, velocity, prediction);
    }

    /**
     * Distillation (the Euler-integrated BC flow, {@code target_flow_actions}, is a constant teacher for the one-step
     * policy's {@code actor_actions}) plus the Q term (mean critic at the clipped actor actions; its gradient reaches
     * the one-step policy through the action only). Writes the one-step policy's gradients.
     */
    private ActorPart distillAndQLossAndGradients(Batch batch, StepNoise noise, GradientTerms terms, Buffers buf) {
        int b = batch.size();
        int d = actionDim;
        int k = critic.members;
        float[] targetFlowActions = computeFlowActions(batch.observations(), noise.z(), b, buf.euler);
        float[] actorActions = forward(oneStep, buf.actor, concat(b, batch.observations(), obsDim, noise.z(), d, null));
        double distillLoss = 0;
        for (int idx = 0; idx < b * d; idx++) {
            double diff = actorActions[idx] - targetFlowActions[idx];
            distillLoss += diff * diff;
        }
        distillLoss /= (double) b * d;

        float[] actorActionsClipped = actorActions.clone();
        clipInPlace(actorActionsClipped);
        float[] actorInput = concat(b, batch.observations(), obsDim, actorActionsClipped, d, null);
        float[][] qActor = members(forward(critic, buf.criticActor, actorInput), k);
        float[] qPi = new float[b];
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < b; i++) {
                qPi[i] += qActor[j][i] / k;
            }
        }
        double meanQPi = 0;
        double meanAbsQPi = 0;
        for (int i = 0; i < b; i++) {
            meanQPi += qPi[i];
            meanAbsQPi += Math.abs(qPi[i]);
        }
        meanQPi /= b;
        meanAbsQPi /= b;
        double lambda = config.normalizeQLoss() ? 1.0 / meanAbsQPi : 1.0;   // a constant: no gradient through λ
        double qLoss = -lambda * meanQPi;

        // dL/d(actor actions): the Q term through both critic members' input gradients (critic weights: sg) ...
        float[] dAction = new float[b * d];
        ops.fill(buf.gradQ, (float) (-terms.q() * lambda / ((double) k * b)));
        critic.backward(buf.criticActor, buf.gradQ, false, true);
        int width = obsDim + d;
        float[] inputGrad = read(buf.criticActor.gradInput);   // [k · B, width]: member after member
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < b; i++) {
                for (int c = 0; c < d; c++) {
                    dAction[i * d + c] += inputGrad[(j * b + i) * width + obsDim + c];
                }
            }
        }
        // ... passed by the clip only inside [-1, 1], plus the distillation term's gradient.
        for (int idx = 0; idx < b * d; idx++) {
            boolean inside = actorActions[idx] >= -1f && actorActions[idx] <= 1f;
            double dDistill = terms.distill() * 2.0 * (actorActions[idx] - targetFlowActions[idx]) / ((double) b * d);
            dAction[idx] = (float) (dDistill + (inside ? dAction[idx] : 0f));
        }
        ops.upload(dAction, buf.gradAction);
        oneStep.backward(buf.actor, buf.gradAction, true, false);
        return new ActorPart(distillLoss, qLoss, meanQPi, targetFlowActions, actorActions, actorActionsClipped, qActor);
    }

    /**
     * One FQL training step (docs/algorithm.md §3, §8): losses and gradients at the current weights, Polyak from the
     * pre-update critic, then one Adam step over all trainable parameters.
     */
    public LossReport update(Batch batch, StepNoise noise) {
        LossReport report = computeLossesAndGradients(batch, noise, GradientTerms.total(config), false);
        clipGradient(report.gradNorm());
        ops.polyak(targetParams, criticParams, config.tau());
        step++;
        ops.adam(params, grads, adamM, adamV, config.learningRate(), config.adamBeta1(), config.adamBeta2(), config.adamEps(), step);
        return report;
    }

    /**
     * Scales the gradient to the global L2 norm {@code max_grad_norm} when it is longer (optax's
     * {@code clip_by_global_norm}); the report keeps the unclipped norm. Off (0) by default, as in the official code.
     */
    private void clipGradient(double norm) {
        double max = config.maxGradNorm();
        if (max > 0 && norm > max) {
            float[] g = read(grads);
            float scale = (float) (max / norm);
            for (int i = 0; i < g.length; i++) {
                g[i] *= scale;
            }
            ops.upload(g, grads);
        }
    }

    /** One step with noise drawn from the agent's own stream, a pure function of (seed, step) so resumes replay it. */
    public LossReport update(Batch batch) {
        return update(batch, StepNoise.sample(batch.size(), actionDim, noiseStream(step)));
    }

    /** The deterministic random stream of training step {@code s} (seeded from the agent seed). */
    public SplittableRandom noiseStream(long s) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + s + 1).split();
    }

    // ------------------------------------------------------------------ state

    public FqlConfig config() {
        return config;
    }

    public int obsDim() {
        return obsDim;
    }

    public int actionDim() {
        return actionDim;
    }

    public long seed() {
        return seed;
    }

    public long step() {
        return step;
    }

    public ParameterLayout layout() {
        return layout;
    }

    public ParameterLayout targetLayout() {
        return targetLayout;
    }

    public TensorOps ops() {
        return ops;
    }

    public float[] parameters() {
        return read(params);
    }

    public float[] targetParameters() {
        return read(targetParams);
    }

    public float[] gradients() {
        return read(grads);
    }

    public float[] adamFirstMoment() {
        return read(adamM);
    }

    public float[] adamSecondMoment() {
        return read(adamV);
    }

    /** Replaces the whole training state (parameters, target, Adam moments, step counter). */
    public void setState(AgentState s) {
        if (s.parameters().length != layout.size() || s.adamM().length != layout.size() || s.adamV().length != layout.size()
                || s.targetParameters().length != targetLayout.size()) {
            throw new IllegalArgumentException("state does not fit this agent: expected " + layout.size() + " parameters and "
                    + targetLayout.size() + " target parameters, got " + s.parameters().length + " and " + s.targetParameters().length);
        }
        ops.upload(s.parameters(), params);
        ops.upload(s.targetParameters(), targetParams);
        ops.upload(s.adamM(), adamM);
        ops.upload(s.adamV(), adamV);
        step = s.step();
    }

    public AgentState state() {
        return new AgentState(parameters(), targetParameters(), adamFirstMoment(), adamSecondMoment(), step);
    }

    /** Everything that changes during training, as flat arrays (checkpoints and parameter averaging). */
    public record AgentState(float[] parameters, float[] targetParameters, float[] adamM, float[] adamV, long step) {
    }

    // ------------------------------------------------------------------ helpers

    private float[] forward(Mlp net, Mlp.Activations a, float[] input) {
        ops.upload(input, a.input);
        return read(net.forward(a));
    }

    private float[] read(Tensor t) {
        float[] out = new float[Math.toIntExact(t.size())];
        ops.download(t, out);
        return out;
    }

    private void checkBatch(Batch batch, StepNoise noise) {
        int b = batch.size();
        expect("observations", batch.observations().length, b * obsDim);
        expect("next_observations", batch.nextObservations().length, b * obsDim);
        expect("actions", batch.actions().length, b * actionDim);
        expect("noise next_noise", noise.nextNoise().length, b * actionDim);
        expect("noise x0", noise.x0().length, b * actionDim);
        expect("noise t", noise.t().length, b);
        expect("noise z", noise.z().length, b * actionDim);
    }

    private static void expect(String what, int actual, int expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(what + " has " + actual + " values, expected " + expected);
        }
    }

    /** Row-wise concatenation {@code [a (aw), b (bw), c (1)]} of n rows; {@code c} may be null. */
    static float[] concat(int n, float[] a, int aw, float[] b, int bw, float[] c) {
        int w = aw + bw + (c == null ? 0 : 1);
        float[] out = new float[n * w];
        // element loops rather than two System.arraycopy calls per row: rows of a few values cost more in call
        // overhead than they move (at the quick-start size the copies were 5 % of a training step's samples)
        for (int i = 0; i < n; i++) {
            int o = i * w;
            int ao = i * aw;
            for (int j = 0; j < aw; j++) {
                out[o + j] = a[ao + j];
            }
            int bo = i * bw;
            for (int j = 0; j < bw; j++) {
                out[o + aw + j] = b[bo + j];
            }
            if (c != null) {
                out[o + aw + bw] = c[i];
            }
        }
        return out;
    }

    static void clipInPlace(float[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.max(-1f, Math.min(1f, x[i]));
        }
    }

    /** The {@code k} members' rows of a stacked output (member after member). */
    private static float[][] members(float[] stacked, int k) {
        int n = stacked.length / k;
        float[][] out = new float[k][];
        for (int j = 0; j < k; j++) {
            out[j] = java.util.Arrays.copyOfRange(stacked, j * n, (j + 1) * n);
        }
        return out;
    }

    private static float[] stack(float[][] rows) {
        int n = rows[0].length;
        float[] out = new float[rows.length * n];
        for (int j = 0; j < rows.length; j++) {
            System.arraycopy(rows[j], 0, out, j * n, n);
        }
        return out;
    }
}
