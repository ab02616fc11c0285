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
 * Forward and backward passes are written by hand over {@link TensorOps} (docs/algorithm.md §8), and so is the loss
 * stage between them (TD targets, the losses and their output gradients, the clip of actions into the next network's
 * input): on a CPU backend that stage runs on host arrays, on a GPU backend as kernels, and a training step then
 * hands the host nothing but its metrics, read once at its end ({@link #update}). The batch and the noise are drawn
 * on the host and uploaded without waiting.
 *
 * <p><b>Action chunks</b> ({@link FqlConfig#horizonLength()} h &gt; 1; docs/algorithm.md §11, Q-chunking's QC-FQL,
 * {@code acfql.py} with {@code action_chunking=True}): every network's action input and output is a chunk of h actions
 * flattened step-major, {@code [n, h·A]}; the critic's target becomes {@code R_h + γ^h m_h Q̄(s_{t+h}, a')} and its
 * squared error is weighted by {@code valid} at the chunk's last step; the flow-matching error is weighted by
 * {@code valid} per chunk step; distillation and Q terms are FQL's ({@link Batch} says what the batch holds). With h = 1
 * the agent is FQL on the same code path, bit for bit.
 *
 * <p><b>Action sizes.</b> {@code actionDim} (the constructor's, {@link #actionDim()}, a checkpoint's) is always the
 * per-step action size A, the environment's. The networks' width is {@link #chunkActionDim()} = h·A: the policies
 * ({@link #sampleActions}, {@link #computeFlowActions}) take noise of {@code n·h·A} values and return n chunks
 * {@code [n, h·A]}, step-major, so the first A values of a row are the action to execute first; batches carry actions
 * {@code [B, h·A]} and a step's {@link StepNoise} is {@code h·A} wide. Without chunking h·A = A and nothing changes.
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
    private final int actionDim;        // per-step A
    private final int horizon;          // h
    private final int chunkActionDim;   // h·A: the networks' action width
    private final long seed;
    private final TensorOps ops;
    private final ParameterLayout layout;
    private final ParameterLayout targetLayout;
    private final Tensor state;             // one flat buffer: parameters, target critic, Adam m, Adam v
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
        this.horizon = config.horizonLength();
        this.chunkActionDim = Math.multiplyExact(actionDim, horizon);
        this.seed = seed;
        this.ops = ops;
        this.layout = ParameterLayout.trainable(obsDim, actionDim, config);
        this.targetLayout = ParameterLayout.target(obsDim, actionDim, config);
        int n = Math.toIntExact(layout.size());
        int t = Math.toIntExact(targetLayout.size());
        // Everything training changes lives in one buffer, in the checkpoint's order, so that loading or reading the
        // whole state (parameter averaging, checkpoints) is one copy each way on a device backend.
        this.state = ops.zeros(1, Math.addExact(Math.multiplyExact(3, n), t));
        this.params = ops.view(state, 0, 1, n);
        this.targetParams = ops.view(state, n, 1, t);
        this.adamM = ops.view(state, (long) n + t, 1, n);
        this.adamV = ops.view(state, 2L * n + t, 1, n);
        this.grads = ops.zeros(1, n);
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
        final Tensor rewards;            // [B, 1]
        final Tensor masks;
        final Tensor nextQ;              // aggregated over the target critic's members
        final Tensor targetQ;            // the TD target
        final Tensor velocity;           // the flow-matching target a − x0, [B, d]
        final Tensor teacher;            // target_flow_actions: the clipped Euler result, [B, d]
        final Tensor stats;              // the step's metrics, slots below

        Buffers(int b) {
            nextAction = oneStep.newActivations(b);
            target = targetCritic.newActivations(b);
            criticTd = critic.newActivations(b);
            criticActor = critic.newActivations(b);
            flowMatching = bcFlow.newActivations(b);
            euler = bcFlow.newActivations(b);
            actor = oneStep.newActivations(b);
            gradQ = ops.zeros(critic.members * b, 1);
            gradAction = ops.zeros(b, chunkActionDim);
            gradVelocity = ops.zeros(b, chunkActionDim);
            rewards = ops.zeros(b, 1);
            masks = ops.zeros(b, 1);
            nextQ = ops.zeros(b, 1);
            targetQ = ops.zeros(b, 1);
            velocity = ops.zeros(b, chunkActionDim);
            teacher = ops.zeros(b, chunkActionDim);
            stats = ops.zeros(1, STATS);
        }
    }

    // slots of Buffers.stats
    private static final int CRITIC_LOSS = 0;   // Σ over members and batch of the squared TD error
    private static final int Q_STATS = 1;       // Σ q, max q, min q
    private static final int FLOW_LOSS = 4;     // Σ squared velocity error
    private static final int DISTILL_LOSS = 5;  // Σ squared distillation error
    private static final int Q_LOSS = 6;        // the Q loss, mean qπ
    private static final int GRAD_SQUARES = 8;  // Σ grad²
    private static final int STATS = 9;

    private Buffers buffers(int b) {
        if (buffers.size() > 8 && !buffers.containsKey(b)) {
            buffers.clear();   // acting with many batch sizes: drop old buffers rather than grow without bound
        }
        return buffers.computeIfAbsent(b, Buffers::new);
    }

    // ------------------------------------------------------------------ policies

    /**
     * The one-step policy: {@code clip(μ_ω(s, z))} for {@code n} observations {@code [n, D]} and noises
     * {@code [n, h·A]} (row-major); returns {@code [n, h·A]}: one chunk per observation, step-major.
     */
    public float[] sampleActions(float[] observations, float[] noise, int n) {
        Mlp.Activations a = buffers(n).nextAction;
        float[] out = forward(oneStep, a, concat(n, observations, obsDim, noise, chunkActionDim, null));
        clipInPlace(out);
        return out;
    }

    /**
     * The one-step policy with fresh N(0, I) noise of {@code n·h·A} draws from {@code rng} (evaluation,
     * docs/algorithm.md §7); returns {@code [n, h·A]}.
     */
    public float[] sampleActions(float[] observations, int n, java.util.random.RandomGenerator rng) {
        return sampleActions(observations, StepNoise.gaussian(n * chunkActionDim, rng), n);
    }

    /**
     * The BC flow policy: M Euler steps from {@code x = z} with times 0, 1/M, ..., (M−1)/M, clipped once at the end;
     * noise {@code [n, h·A]} in, chunks {@code [n, h·A]} out.
     */
    public float[] computeFlowActions(float[] observations, float[] noise, int n) {
        return computeFlowActions(observations, noise, n, buffers(n).euler);
    }

    /**
     * The Euler integration runs on the flow network's input tensor {@code [s, x, t]} itself: each step sets the
     * time column and adds {@code v / M} to the action columns in place, so the whole integration is one upload
     * and one download whatever M is (on a GPU: no host round trip per step).
     */
    private float[] computeFlowActions(float[] observations, float[] noise, int n, Mlp.Activations a) {
        int d = chunkActionDim;
        ops.upload(concat(n, observations, obsDim, noise, d, new float[n]), a.input);
        integrateFlow(a);
        float[] input = read(a.input);
        int w = obsDim + d + 1;
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(input, i * w + obsDim, x, i * d, d);
        }
        clipInPlace(x);
        return x;
    }

    /** M Euler steps of the BC flow on its input {@code [s, x, t]}, in place: x ends as the flow's action (unclipped). */
    private void integrateFlow(Mlp.Activations a) {
        int m = config.flowSteps();
        for (int j = 0; j < m; j++) {
            ops.setColumn(a.input, obsDim + chunkActionDim, (float) j / m);
            ops.addDividedToColumns(a.input, obsDim, bcFlow.forward(a), m);
        }
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
        Step s = enqueueLossesAndGradients(batch, noise, terms);
        return report(s, keepIntermediates);
    }

    /**
     * The shape of each intermediate that {@link #computeLossesAndGradients} reports for a batch of {@code b}, row-major
     * as golden dumps store them: action-shaped ones {@code [b, h·A]}, per-member critic values {@code [2, b]}.
     */
    public Map<String, long[]> intermediateShapes(int b) {
        long[] actions = {b, chunkActionDim};
        long[] members = {critic.members, b};
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("next_actions", actions);
        shapes.put("next_qs", members);
        shapes.put("next_q", new long[] {b});
        shapes.put("target_q", new long[] {b});
        shapes.put("q", members);
        for (String name : List.of("x_t", "vel", "bc_pred", "target_flow_actions", "actor_actions", "actor_actions_clipped")) {
            shapes.put(name, actions);
        }
        shapes.put("q_actor", members);
        return shapes;
    }

    /** A step whose work is enqueued: its buffers, and the flow-matching inputs the host computed. */
    private record Step(Buffers buf, int b, float[] xt, float[] velocity) {
    }

    /**
     * Everything up to the gradients, without reading a value back: on a device backend this only enqueues work.
     * The metrics land in {@code buf.stats} ({@link #report} reads them).
     */
    private Step enqueueLossesAndGradients(Batch batch, StepNoise noise, GradientTerms terms) {
        checkBatch(batch, noise);
        Buffers buf = buffers(batch.size());
        for (Mlp net : trainableNetworks()) {
            net.startGradientPass();
        }
        criticLossAndGradients(batch, noise, terms, buf);
        Step step = flowLossAndGradients(batch, noise, terms, buf);
        distillAndQLossAndGradients(batch, noise, terms, buf);
        for (Mlp net : trainableNetworks()) {
            net.requireGradientPass();
        }
        ops.sumOfSquares(grads, buf.stats, GRAD_SQUARES);
        return step;
    }

    private Mlp[] trainableNetworks() {
        return new Mlp[] {critic, bcFlow, oneStep};
    }

    /**
     * Critic loss: TD target from the target critic at the current policy's next action (all sg); writes the
     * critic members' gradients. With chunks of h the backup is {@code R_h + γ^h m_h Q̄} and each sample's squared error
     * is weighted by {@code valid} at its last chunk step (§11); with h = 1 the unweighted operation runs and γ^h is γ.
     */
    private void criticLossAndGradients(Batch batch, StepNoise noise, GradientTerms terms, Buffers buf) {
        int b = batch.size();
        int d = chunkActionDim;
        int k = critic.members;
        ops.upload(concat(b, batch.nextObservations(), obsDim, noise.nextNoise(), d, null), buf.nextAction.input);
        Tensor nextActions = oneStep.forward(buf.nextAction);
        // the target critic's input [s', clip(μ_ω(s', z'))]: s' from the one-step policy's input, no second upload
        ops.copyColumns(buf.nextAction.input, 0, buf.target.input, 0, obsDim, false);
        ops.copyColumns(nextActions, 0, buf.target.input, obsDim, d, true);
        Tensor nextQs = targetCritic.forward(buf.target);
        ops.upload(batch.rewards(), buf.rewards);
        ops.upload(batch.masks(), buf.masks);
        double discount = horizon == 1 ? config.discount() : Math.pow(config.discount(), horizon);
        ops.tdTarget(k, nextQs, config.qAgg() == QAgg.MIN, buf.rewards, buf.masks, discount, buf.nextQ, buf.targetQ);
        ops.upload(concat(b, batch.observations(), obsDim, batch.actions(), d, null), buf.criticTd.input);
        Tensor q = critic.forward(buf.criticTd);
        if (horizon == 1) {
            ops.squaredErrorGradient(q, buf.targetQ, terms.critic(), buf.gradQ, buf.stats, CRITIC_LOSS);
        } else {   // member j's row i weighted by valid at sample i's last chunk step
            float[] w = new float[k * b];
            for (int i = 0; i < b; i++) {
                float last = batch.valid()[i * horizon + horizon - 1];
                for (int j = 0; j < k; j++) {
                    w[j * b + i] = last;
                }
            }
            ops.weightedSquaredErrorGradient(q, buf.targetQ, w, terms.critic(), buf.gradQ, buf.stats, CRITIC_LOSS);
        }
        ops.sumMaxMin(q, buf.stats, Q_STATS);
        critic.backward(buf.criticTd, buf.gradQ, true, false);
    }

    /**
     * BC flow matching: {@code x_t = (1 − t) x0 + t a}, target velocity {@code a − x0}; writes the BC flow's gradients.
     * With chunks each entry's squared error is weighted by {@code valid} at its chunk step, the mean still over all
     * B·h·A entries (§11); with h = 1 the unweighted operation runs.
     */
    private Step flowLossAndGradients(Batch batch, StepNoise noise, GradientTerms terms, Buffers buf) {
        int b = batch.size();
        int d = chunkActionDim;
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
        ops.upload(concat(b, batch.observations(), obsDim, xt, d, noise.t()), buf.flowMatching.input);
        ops.upload(velocity, buf.velocity);
        Tensor prediction = bcFlow.forward(buf.flowMatching);
        if (horizon == 1) {
            ops.squaredErrorGradient(prediction, buf.velocity, terms.flow(), buf.gradVelocity, buf.stats, FLOW_LOSS);
        } else {   // entry idx is step (idx / A) of the [B·h] chunk steps
            float[] w = new float[b * d];
            for (int idx = 0; idx < w.length; idx++) {
                w[idx] = batch.valid()[idx / actionDim];
            }
            ops.weightedSquaredErrorGradient(prediction, buf.velocity, w, terms.flow(), buf.gradVelocity, buf.stats, FLOW_LOSS);
        }
        bcFlow.backward(buf.flowMatching, buf.gradVelocity, true, false);
        return new Step(buf, b, xt, velocity);
    }

    /**
     * Distillation (the Euler-integrated BC flow, {@code target_flow_actions}, is a constant teacher for the one-step
     * policy's {@code actor_actions}) plus the Q term (mean critic at the clipped actor actions; its gradient reaches
     * the one-step policy through the action only). Writes the one-step policy's gradients.
     */
    private void distillAndQLossAndGradients(Batch batch, StepNoise noise, GradientTerms terms, Buffers buf) {
        int b = batch.size();
        int d = chunkActionDim;
        int k = critic.members;
        ops.upload(concat(b, batch.observations(), obsDim, noise.z(), d, null), buf.actor.input);
        // the teacher: M Euler steps from x = z, on the flow's input [s, z, t] (s and z from the actor's input)
        ops.copyColumns(buf.actor.input, 0, buf.euler.input, 0, obsDim + d, false);
        integrateFlow(buf.euler);
        ops.copyColumns(buf.euler.input, obsDim, buf.teacher, 0, d, true);   // clipped once at the end, as acting is
        Tensor actorActions = oneStep.forward(buf.actor);

        // the critic at [s, clip(actor actions)]: s from the TD pass's input
        ops.copyColumns(buf.criticTd.input, 0, buf.criticActor.input, 0, obsDim, false);
        ops.copyColumns(actorActions, 0, buf.criticActor.input, obsDim, d, true);
        Tensor qActor = critic.forward(buf.criticActor);
        ops.qLossGradient(k, qActor, config.normalizeQLoss(), terms.q(), buf.gradQ, buf.stats, Q_LOSS);

        // dL/d(actor actions): the Q term through both critic members' input gradients (critic weights: sg), passed
        // by the clip only inside [-1, 1], plus the distillation term's gradient.
        critic.backward(buf.criticActor, buf.gradQ, false, true);
        ops.actorActionGradient(k, buf.criticActor.gradInput, obsDim, actorActions, buf.teacher, terms.distill(), buf.gradAction,
                buf.stats, DISTILL_LOSS);
        oneStep.backward(buf.actor, buf.gradAction, true, false);
    }

    /**
     * The step's losses and metrics: one read of the stats slots (on a device backend, the step's one wait), and
     * when asked the named intermediates of the conformance dump (more reads).
     */
    private LossReport report(Step s, boolean keepIntermediates) {
        Buffers buf = s.buf();
        int b = s.b();
        int d = chunkActionDim;
        int k = critic.members;
        float[] st = read(buf.stats);
        double kb = (double) k * b;
        double bd = (double) b * d;
        Map<String, float[]> inter = null;
        if (keepIntermediates) {
            inter = new LinkedHashMap<>();
            inter.put("next_actions", columns(read(buf.target.input), obsDim + d, obsDim, d));
            inter.put("next_qs", read(buf.target.output));
            inter.put("next_q", read(buf.nextQ));
            inter.put("target_q", read(buf.targetQ));
            inter.put("q", read(buf.criticTd.output));
            inter.put("x_t", s.xt());
            inter.put("vel", s.velocity());
            inter.put("bc_pred", read(buf.flowMatching.output));
            inter.put("target_flow_actions", read(buf.teacher));
            inter.put("actor_actions", read(buf.actor.output));
            inter.put("actor_actions_clipped", columns(read(buf.criticActor.input), obsDim + d, obsDim, d));
            inter.put("q_actor", read(buf.criticActor.output));
        }
        return new LossReport(st[CRITIC_LOSS] / kb, st[FLOW_LOSS] / bd, st[DISTILL_LOSS] / bd, st[Q_LOSS],
                st[Q_STATS] / kb, st[Q_STATS + 1], st[Q_STATS + 2], st[Q_LOSS + 1], Math.sqrt(st[GRAD_SQUARES]), inter);
    }

    /** Columns {@code [from, from + width)} of a row-major matrix with {@code cols} columns. */
    private static float[] columns(float[] matrix, int cols, int from, int width) {
        int rows = matrix.length / cols;
        float[] out = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(matrix, r * cols + from, out, r * width, width);
        }
        return out;
    }

    /**
     * One FQL training step (docs/algorithm.md §3, §8): losses and gradients at the current weights, Polyak from the
     * pre-update critic, then one Adam step over all trainable parameters. The metrics are read after Adam is
     * enqueued, so on a device backend the step waits once, at its end.
     */
    public LossReport update(Batch batch, StepNoise noise) {
        Step s = enqueueLossesAndGradients(batch, noise, GradientTerms.total(config));
        clipGradient(s.buf());
        ops.polyak(targetParams, criticParams, config.tau());
        step++;
        ops.adam(params, grads, adamM, adamV, config.learningRate(), config.adamBeta1(), config.adamBeta2(), config.adamEps(), step);
        return report(s, false);
    }

    /**
     * Scales the gradient to the global L2 norm {@code max_grad_norm} when it is longer (optax's
     * {@code clip_by_global_norm}); the report keeps the unclipped norm. Off (0) by default, as in the official code;
     * when on, reading the norm is one more wait per step on a device backend.
     */
    private void clipGradient(Buffers buf) {
        double max = config.maxGradNorm();
        if (max <= 0) {
            return;
        }
        double norm = Math.sqrt(read(buf.stats)[GRAD_SQUARES]);
        if (norm > max) {
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
        return update(batch, StepNoise.sample(batch.size(), chunkActionDim, noiseStream(step)));
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

    /** The per-step action size A (the environment's; what checkpoints record). */
    public int actionDim() {
        return actionDim;
    }

    /** The chunk length h ({@link FqlConfig#horizonLength()}); 1 without action chunking. */
    public int horizon() {
        return horizon;
    }

    /** The networks' action width h·A: one policy call's output per observation, a batch's action row. */
    public int chunkActionDim() {
        return chunkActionDim;
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
        int n = s.parameters().length;
        int t = s.targetParameters().length;
        float[] all = new float[3 * n + t];
        System.arraycopy(s.parameters(), 0, all, 0, n);
        System.arraycopy(s.targetParameters(), 0, all, n, t);
        System.arraycopy(s.adamM(), 0, all, n + t, n);
        System.arraycopy(s.adamV(), 0, all, 2 * n + t, n);
        ops.upload(all, state);   // one copy (the state is one buffer)
        step = s.step();
    }

    /** The whole training state, read in one copy. */
    public AgentState state() {
        float[] all = read(state);
        int n = Math.toIntExact(layout.size());
        int t = Math.toIntExact(targetLayout.size());
        return new AgentState(java.util.Arrays.copyOfRange(all, 0, n), java.util.Arrays.copyOfRange(all, n, n + t),
                java.util.Arrays.copyOfRange(all, n + t, 2 * n + t), java.util.Arrays.copyOfRange(all, 2 * n + t, 3 * n + t), step);
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
        int d = chunkActionDim;
        expect("observations", batch.observations().length, b * obsDim);
        expect("next_observations", batch.nextObservations().length, b * obsDim);
        expect("actions", batch.actions().length, b * d);
        expect("valid", batch.valid().length, b * horizon);
        expect("noise next_noise", noise.nextNoise().length, b * d);
        expect("noise x0", noise.x0().length, b * d);
        expect("noise t", noise.t().length, b);
        expect("noise z", noise.z().length, b * d);
        if (horizon == 1) {
            for (float v : batch.valid()) {
                if (v != 1f) {
                    throw new IllegalArgumentException("valid must be all ones without action chunking (a chunk's first step "
                            + "is always valid), found " + v);
                }
            }
        }
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
}
