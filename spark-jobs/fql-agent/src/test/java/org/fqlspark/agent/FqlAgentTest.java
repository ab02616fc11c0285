package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.fqlspark.agent.FqlAgent.GradientTerms;
import org.junit.jupiter.api.Test;

class FqlAgentTest {

    static final int OBS = 3;
    static final int ACT = 2;
    static final int B = 5;

    static FqlConfig tiny() {
        return FqlConfig.defaults().withHiddenDims(6, 5).with(FqlConfig.FLOW_STEPS, 3).with(FqlConfig.BATCH_SIZE, B);
    }

    static Batch batch(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Batch b = Batch.allocate(B, OBS, ACT);
        for (int i = 0; i < b.observations().length; i++) {
            b.observations()[i] = (float) r.nextGaussian();
            b.nextObservations()[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < b.actions().length; i++) {
            b.actions()[i] = (float) (r.nextDouble() * 1.8 - 0.9);
        }
        for (int i = 0; i < B; i++) {
            b.rewards()[i] = (float) -r.nextDouble();
            b.masks()[i] = i == 2 ? 0f : 1f;
        }
        return b;
    }

    static StepNoise noise(long seed) {
        return StepNoise.sample(B, ACT, new SplittableRandom(seed));
    }

    // ------------------------------------------------------------------ shapes and init

    @Test
    void parameterCountsMatchThePaperTable() {
        // docs/algorithm.md §9.1, OGBench antmaze: obs 29, act 8, 4x512
        ParameterLayout l = ParameterLayout.trainable(29, 8, FqlConfig.defaults());
        assertEquals(1_624_066, l.moduleSize(ParameterLayout.CRITIC));
        assertEquals(812_040, l.moduleSize(ParameterLayout.BC_FLOW));
        assertEquals(811_528, l.moduleSize(ParameterLayout.ONE_STEP));
        assertEquals(3_247_634, l.size());
        assertEquals(1_624_066, ParameterLayout.target(29, 8, FqlConfig.defaults()).size());
        // humanoidmaze: obs 69, act 21
        assertEquals(3_369_516, ParameterLayout.trainable(69, 21, FqlConfig.defaults()).size());
    }

    @Test
    void initialisationIsGlorotUniformWithZeroBiasesAndTargetEqualToCritic() {
        FqlAgent agent = new FqlAgent(tiny(), OBS, ACT, 7);
        float[] p = agent.parameters();
        for (ParameterLayout.Entry e : agent.layout().entries()) {
            float[] v = Arrays.copyOfRange(p, (int) e.offset(), (int) (e.offset() + e.size()));
            if (e.name().endsWith("kernel")) {
                long[] s = e.shape();
                double limit = Math.sqrt(6.0 / (s[s.length - 2] + s[s.length - 1]));
                double maxAbs = 0;
                for (float x : v) {
                    maxAbs = Math.max(maxAbs, Math.abs(x));
                }
                assertTrue(maxAbs <= limit && maxAbs > 0.3 * limit, e.name() + " max " + maxAbs + " limit " + limit);
            } else if (e.name().endsWith("scale")) {
                for (float x : v) assertEquals(1f, x, e.name());
            } else {
                for (float x : v) assertEquals(0f, x, e.name());
            }
        }
        long criticSize = agent.layout().moduleSize(ParameterLayout.CRITIC);
        assertArrayEquals(Arrays.copyOf(p, (int) criticSize), agent.targetParameters());
        // the two critic members are initialised independently
        ParameterLayout.Entry k0 = agent.layout().entry("critic/Dense_0/kernel");
        int half = (int) (k0.size() / 2);
        assertFalse(Arrays.equals(Arrays.copyOfRange(p, (int) k0.offset(), (int) k0.offset() + half),
                Arrays.copyOfRange(p, (int) k0.offset() + half, (int) k0.offset() + 2 * half)));
    }

    @Test
    void sameSeedGivesSameParametersAndSameTraining() {
        FqlAgent a = new FqlAgent(tiny(), OBS, ACT, 42);
        FqlAgent b = new FqlAgent(tiny(), OBS, ACT, 42);
        FqlAgent c = new FqlAgent(tiny(), OBS, ACT, 43);
        assertArrayEquals(a.parameters(), b.parameters());
        assertFalse(Arrays.equals(a.parameters(), c.parameters()));
        for (int s = 0; s < 5; s++) {
            a.update(batch(s));
            b.update(batch(s));
        }
        assertArrayEquals(a.parameters(), b.parameters());
        assertArrayEquals(a.targetParameters(), b.targetParameters());
        assertArrayEquals(a.adamSecondMoment(), b.adamSecondMoment());
        assertEquals(5, a.step());
    }

    // ------------------------------------------------------------------ hand-computed cases

    @Test
    void tdTargetAggregatesTheTargetCriticByMeanOrMin() {
        for (QAgg agg : QAgg.values()) {
            FqlAgent agent = new FqlAgent(tiny().with(FqlConfig.Q_AGG, agg).with(FqlConfig.DISCOUNT, 0.9), OBS, ACT, 3);
            Batch b = batch(1);
            LossReport r = agent.computeLossesAndGradients(b, noise(2), GradientTerms.total(agent.config()), true);
            float[] nextQs = r.intermediates().get("next_qs");
            float[] targetQ = r.intermediates().get("target_q");
            float[] q = r.intermediates().get("q");
            double loss = 0;
            for (int i = 0; i < B; i++) {
                double q0 = nextQs[i];
                double q1 = nextQs[B + i];
                double aggregated = agg == QAgg.MIN ? Math.min(q0, q1) : (q0 + q1) / 2;
                double y = b.rewards()[i] + 0.9 * b.masks()[i] * aggregated;
                assertEquals(y, targetQ[i], 1e-6);
                loss += Math.pow(q[i] - y, 2) + Math.pow(q[B + i] - y, 2);
            }
            assertEquals(loss / (2 * B), r.criticLoss(), 1e-6);
            // mask 0 means no bootstrap: the target is the reward alone
            assertEquals(b.rewards()[2], targetQ[2], 0f);
        }
    }

    @Test
    void flowMatchingUsesTheLinearInterpolationPath() {
        FqlAgent agent = new FqlAgent(tiny(), OBS, ACT, 3);
        Batch b = batch(1);
        StepNoise n = noise(5);
        LossReport r = agent.computeLossesAndGradients(b, n, GradientTerms.total(agent.config()), true);
        float[] xt = r.intermediates().get("x_t");
        float[] vel = r.intermediates().get("vel");
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < ACT; j++) {
                int k = i * ACT + j;
                assertEquals((1 - n.t()[i]) * n.x0()[k] + n.t()[i] * b.actions()[k], xt[k], 1e-6);
                assertEquals(b.actions()[k] - n.x0()[k], vel[k], 1e-6);
            }
        }
    }

    @Test
    void eulerOnAConstantVelocityFieldMovesByThatVelocityThenClips() {
        FqlAgent agent = new FqlAgent(tiny(), OBS, ACT, 3);
        FqlAgent.AgentState s = agent.state();
        float[] p = s.parameters();
        // zero the last layer's kernel and set its bias: v(s, x, t) = (0.25, -0.5) everywhere
        ParameterLayout.Entry kernel = agent.layout().entry("actor_bc_flow/Dense_2/kernel");
        ParameterLayout.Entry bias = agent.layout().entry("actor_bc_flow/Dense_2/bias");
        Arrays.fill(p, (int) kernel.offset(), (int) (kernel.offset() + kernel.size()), 0f);
        p[(int) bias.offset()] = 0.25f;
        p[(int) bias.offset() + 1] = -0.5f;
        agent.setState(s);
        float[] obs = new float[2 * OBS];
        float[] z = {0.1f, 0.2f, 0.9f, -0.8f};
        float[] a = agent.computeFlowActions(obs, z, 2);
        // M steps of v/M each add exactly v
        assertEquals(0.35f, a[0], 1e-6);
        assertEquals(-0.3f, a[1], 1e-6);
        assertEquals(1f, a[2], 0f);     // 1.15 clipped
        assertEquals(-1f, a[3], 0f);    // -1.3 clipped
    }

    @Test
    void oneStepActionsAreClipped() {
        FqlAgent agent = new FqlAgent(tiny(), OBS, ACT, 3);
        float[] obs = new float[4 * OBS];
        float[] z = {50f, -50f, 0f, 0f, 100f, 100f, -100f, -100f};
        Arrays.fill(obs, 3f);
        for (float a : agent.sampleActions(obs, z, 4)) {
            assertTrue(a >= -1f && a <= 1f);
        }
    }

    // ------------------------------------------------------------------ stop-gradients (docs/algorithm.md §2.5)

    private static float[] module(FqlAgent agent, float[] flat, String module) {
        long[] r = agent.layout().moduleRange(module);
        return Arrays.copyOfRange(flat, (int) r[0], (int) r[1]);
    }

    private static boolean allZero(float[] a) {
        for (float x : a) if (x != 0f) return false;
        return true;
    }

    @Test
    void criticIsConstantInsideTheActorsQTerm() {
        FqlAgent agent = new FqlAgent(tiny(), OBS, ACT, 3);
        agent.computeLossesAndGradients(batch(1), noise(2), new GradientTerms(0, 0, 0, 1), false);
        float[] g = agent.gradients();
        assertTrue(allZero(module(agent, g, ParameterLayout.CRITIC)), "critic must get no gradient from L_q");
        assertTrue(allZero(module(agent, g, ParameterLayout.BC_FLOW)));
        assertFalse(allZero(module(agent, g, ParameterLayout.ONE_STEP)), "L_q must reach the one-step policy");
    }

    @Test
    void eulerTeacherIsConstantInTheDistillationLoss() {
        FqlAgent agent = new FqlAgent(tiny(), OBS, ACT, 3);
        agent.computeLossesAndGradients(batch(1), noise(2), new GradientTerms(0, 0, 1, 0), false);
        float[] g = agent.gradients();
        assertTrue(allZero(module(agent, g, ParameterLayout.BC_FLOW)), "the teacher must not train the flow");
        assertTrue(allZero(module(agent, g, ParameterLayout.CRITIC)));
        assertFalse(allZero(module(agent, g, ParameterLayout.ONE_STEP)));
    }

    @Test
    void nextActionsAndTargetCriticAreConstantInTheCriticLoss() {
        FqlAgent agent = new FqlAgent(tiny(), OBS, ACT, 3);
        Batch b = batch(1);
        StepNoise n = noise(2);
        GradientTerms criticOnly = new GradientTerms(1, 0, 0, 0);
        LossReport base = agent.computeLossesAndGradients(b, n, criticOnly, false);
        float[] g = agent.gradients();
        assertTrue(allZero(module(agent, g, ParameterLayout.ONE_STEP)), "next actions must not train the one-step policy");
        assertFalse(allZero(module(agent, g, ParameterLayout.CRITIC)));
        // ...although the critic loss does depend on ω through the next actions: a deliberate stop-gradient.
        FqlAgent.AgentState s = agent.state();
        ParameterLayout.Entry bias = agent.layout().entry("actor_onestep_flow/Dense_2/bias");
        s.parameters()[(int) bias.offset()] += 0.5f;
        agent.setState(s);
        LossReport moved = agent.computeLossesAndGradients(b, n, criticOnly, false);
        assertTrue(Math.abs(moved.criticLoss() - base.criticLoss()) > 1e-6);
    }

    @Test
    void qLossNormaliserIsAConstant() {
        Batch b = batch(1);
        StepNoise n = noise(2);
        FqlAgent plain = new FqlAgent(tiny(), OBS, ACT, 3);
        FqlAgent normalised = new FqlAgent(tiny().with(FqlConfig.NORMALIZE_Q_LOSS, true), OBS, ACT, 3);
        LossReport rp = plain.computeLossesAndGradients(b, n, new GradientTerms(0, 0, 0, 1), true);
        LossReport rn = normalised.computeLossesAndGradients(b, n, new GradientTerms(0, 0, 0, 1), false);
        float[] qPi = rp.intermediates().get("q_actor");
        double meanAbs = 0;
        for (int i = 0; i < B; i++) {
            meanAbs += Math.abs((qPi[i] + qPi[B + i]) / 2.0);
        }
        double lambda = B / meanAbs;
        assertEquals(lambda * rp.qLoss(), rn.qLoss(), 1e-6 * Math.abs(rn.qLoss()));
        // if λ carried a gradient, the normalised gradient would not be λ times the plain one
        float[] gp = module(plain, plain.gradients(), ParameterLayout.ONE_STEP);
        float[] gn = module(normalised, normalised.gradients(), ParameterLayout.ONE_STEP);
        for (int i = 0; i < gp.length; i++) {
            assertEquals(lambda * gp[i], gn[i], 1e-5 * Math.max(1, Math.abs(gn[i])));
        }
    }

    // ------------------------------------------------------------------ finite differences

    /** Checks the analytic gradient of one loss term against central differences on the largest entries. */
    private static void finiteDifferenceCheck(FqlConfig config, GradientTerms terms, String module) {
        finiteDifferenceCheck(config, terms, module, batch(3), noise(4));
    }

    private static void finiteDifferenceCheck(FqlConfig config, GradientTerms terms, String module, Batch b, StepNoise n) {
        FqlAgent agent = new FqlAgent(config, OBS, ACT, 11);
        agent.computeLossesAndGradients(b, n, terms, false);
        float[] g = agent.gradients();
        FqlAgent.AgentState base = agent.state();
        long[] range = agent.layout().moduleRange(module);
        Integer[] idx = new Integer[(int) (range[1] - range[0])];
        for (int i = 0; i < idx.length; i++) idx[i] = (int) range[0] + i;
        Arrays.sort(idx, (x, y) -> Float.compare(Math.abs(g[y]), Math.abs(g[x])));
        double h = 2e-3;
        int checked = 0;
        for (int t = 0; t < 12; t++) {
            int i = idx[t];
            double plus = perturbedLoss(agent, base, i, h, b, n, terms);
            double minus = perturbedLoss(agent, base, i, -h, b, n, terms);
            double fd = (plus - minus) / (2 * h);
            assertEquals(fd, g[i], 3e-3 + 2e-2 * Math.abs(fd), module + " parameter " + i + " (" + t + "th largest)");
            checked++;
        }
        agent.setState(base);
        assertEquals(12, checked);
    }

    private static double perturbedLoss(FqlAgent agent, FqlAgent.AgentState base, int i, double h, Batch b, StepNoise n,
                                        GradientTerms terms) {
        float[] p = base.parameters().clone();
        p[i] += (float) h;
        agent.setState(new FqlAgent.AgentState(p, base.targetParameters(), base.adamM(), base.adamV(), base.step()));
        LossReport r = agent.computeLossesAndGradients(b, n, terms, false);
        return terms.critic() * r.criticLoss() + terms.flow() * r.bcFlowLoss() + terms.distill() * r.distillLoss()
                + terms.q() * r.qLoss();
    }

    @Test
    void criticGradientMatchesFiniteDifferences() {
        finiteDifferenceCheck(tiny(), new GradientTerms(1, 0, 0, 0), ParameterLayout.CRITIC);
    }

    @Test
    void flowGradientMatchesFiniteDifferences() {
        finiteDifferenceCheck(tiny(), new GradientTerms(0, 1, 0, 0), ParameterLayout.BC_FLOW);
    }

    @Test
    void oneStepGradientOfDistillationPlusQMatchesFiniteDifferences() {
        finiteDifferenceCheck(tiny(), new GradientTerms(0, 0, 10, 1), ParameterLayout.ONE_STEP);
    }

    @Test
    void actorLayerNormGradientMatchesFiniteDifferences() {
        FqlConfig c = FqlConfig.defaults().with(FqlConfig.BATCH_SIZE, B).with(FqlConfig.ACTOR_HIDDEN_DIMS, java.util.List.of(6, 5))
                .with(FqlConfig.VALUE_HIDDEN_DIMS, java.util.List.of(4, 7)).with(FqlConfig.ACTOR_LAYER_NORM, true)
                .with(FqlConfig.Q_AGG, QAgg.MIN).with(FqlConfig.ALPHA, 3.0).with(FqlConfig.FLOW_STEPS, 2);  // λ is a stop-gradient, so FD would see through it
        finiteDifferenceCheck(c, new GradientTerms(0, 1, 0, 0), ParameterLayout.BC_FLOW);
        finiteDifferenceCheck(c, new GradientTerms(0, 0, 3, 1), ParameterLayout.ONE_STEP);
    }

    /**
     * A batch of B chunks of h steps: random actions inside the clip, a terminal at chunk step 0 for sample 1 (its
     * later steps invalid), one at step 1 for sample 3 (its last step invalid), a mask of 0 at the last step of sample 4
     * (valid, not bootstrapped); rewards, masks and valid as ChunkTargets derives them.
     */
    static Batch chunkedBatch(long seed, int h) {
        SplittableRandom r = new SplittableRandom(seed);
        Batch b = Batch.allocate(B, OBS, ACT, h);
        for (int i = 0; i < b.observations().length; i++) {
            b.observations()[i] = (float) r.nextGaussian();
            b.nextObservations()[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < b.actions().length; i++) {
            b.actions()[i] = (float) (r.nextDouble() * 1.8 - 0.9);
        }
        float[] rewards = new float[B * h];
        float[] masks = new float[B * h];
        float[] terminals = new float[B * h];
        for (int k = 0; k < B * h; k++) {
            rewards[k] = (float) -r.nextDouble();
            masks[k] = 1f;
        }
        terminals[h] = 1f;
        masks[h] = 0f;
        terminals[3 * h + 1] = 1f;
        masks[3 * h + 1] = 0f;
        terminals[4 * h + h - 1] = 1f;
        masks[4 * h + h - 1] = 0f;
        for (int i = 0; i < B; i++) {
            ChunkTargets.fill(b, i, rewards, masks, terminals, i * h, 0.99);
        }
        return b;
    }

    @Test
    void chunkedGradientsMatchFiniteDifferences() {
        // h = 3: every network sees 3·A actions, the critic and flow terms are weighted by valid (zeros included)
        int h = 3;
        FqlConfig c = tiny().with(FqlConfig.HORIZON_LENGTH, h);
        Batch b = chunkedBatch(3, h);
        assertTrue(b.valid()[h + 1] == 0f && b.valid()[3 * h + 2] == 0f, "the batch has invalid chunk steps");
        StepNoise n = StepNoise.sample(B, h * ACT, new SplittableRandom(4));
        finiteDifferenceCheck(c, new GradientTerms(1, 0, 0, 0), ParameterLayout.CRITIC, b, n);
        finiteDifferenceCheck(c, new GradientTerms(0, 1, 0, 0), ParameterLayout.BC_FLOW, b, n);
        finiteDifferenceCheck(c, new GradientTerms(0, 0, 10, 1), ParameterLayout.ONE_STEP, b, n);
    }

    // ------------------------------------------------------------------ update mechanics

    @Test
    void maxGradNormClipsTheGradientToThatGlobalNormBeforeAdam() {
        Batch b = batch(1);
        StepNoise n = noise(2);
        FqlAgent plain = new FqlAgent(tiny(), OBS, ACT, 3);
        double norm = plain.computeLossesAndGradients(b, n, GradientTerms.total(plain.config()), false).gradNorm();
        float[] g = plain.gradients();
        plain.update(b, n);

        // above the norm (and 0, the default): the step is the unclipped one, bit for bit
        FqlAgent loose = new FqlAgent(tiny().with(FqlConfig.MAX_GRAD_NORM, 2 * norm), OBS, ACT, 3);
        assertEquals(norm, loose.update(b, n).gradNorm(), 1e-9 * norm, "the report keeps the unclipped norm");
        assertArrayEquals(plain.parameters(), loose.parameters());
        assertEquals(0.0, FqlConfig.defaults().maxGradNorm());

        // below it: Adam sees g · max/|g| (its first moment after one step is (1 − β1) times the gradient it got)
        double max = norm / 4;
        FqlAgent clipped = new FqlAgent(tiny().with(FqlConfig.MAX_GRAD_NORM, max), OBS, ACT, 3);
        clipped.update(b, n);
        float[] m = clipped.adamFirstMoment();
        float[] gotGradient = clipped.gradients();
        double sumSquares = 0;
        for (int i = 0; i < g.length; i++) {
            assertEquals(g[i] * max / norm, gotGradient[i], 1e-6 * Math.abs(g[i]) + 1e-12, "gradient " + i);
            assertEquals((1 - 0.9) * g[i] * max / norm, m[i], 1e-6 * Math.abs(g[i]) + 1e-12, "first moment " + i);
            sumSquares += (double) gotGradient[i] * gotGradient[i];
        }
        assertEquals(max, Math.sqrt(sumSquares), 1e-5 * max);
        assertFalse(java.util.Arrays.equals(plain.parameters(), clipped.parameters()));
        assertThrows(IllegalArgumentException.class, () -> tiny().with(FqlConfig.MAX_GRAD_NORM, -1.0));
    }

    @Test
    void polyakUsesThePreUpdateCritic() {
        FqlAgent agent = new FqlAgent(tiny().with(FqlConfig.TAU, 0.5), OBS, ACT, 3);
        agent.update(batch(1));                      // target == critic before the first step
        FqlAgent.AgentState before = agent.state();
        int criticSize = (int) agent.layout().moduleSize(ParameterLayout.CRITIC);
        agent.update(batch(2));
        float[] target = agent.targetParameters();
        for (int i = 0; i < criticSize; i++) {
            float expected = 0.5f * before.parameters()[i] + 0.5f * before.targetParameters()[i];
            assertEquals(expected, target[i], 1e-6f);
        }
    }

    @Test
    void configValidationNamesTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FqlConfig.defaults().with(FqlConfig.DISCOUNT, 1.5));
        assertTrue(e.getMessage().contains("discount"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FqlConfig.defaults().with(FqlConfig.FLOW_STEPS, 0));
        assertTrue(e.getMessage().contains("flow_steps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> QAgg.parse("max"));
        assertTrue(e.getMessage().contains("q_agg"), e.getMessage());
    }

    @Test
    void presetsCarryThePaperSettings() {
        assertEquals(QAgg.MIN, FqlPresets.get("antmaze-large-navigate").config().qAgg());
        assertEquals(0.995, FqlPresets.get("antmaze-giant-navigate-singletask-task1-v0").config().discount());
        assertEquals(300, FqlPresets.get("cube-double-play").config().alpha());
        assertEquals(3, FqlPresets.get("antmaze-large-play-v2").config().alpha());
        assertEquals(500_000, FqlPresets.get("pen-human-v1").offlineSteps());
        assertThrows(IllegalArgumentException.class, () -> FqlPresets.get("no-such-task"));
    }
}
