package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The action-chunking contract of the agent (docs/algorithm.md §11): sizes, policies, batches and checkpoints. */
class ChunkedAgentTest {

    static final int OBS = FqlAgentTest.OBS;
    static final int ACT = FqlAgentTest.ACT;
    static final int H = 3;

    static FqlConfig chunked() {
        return FqlAgentTest.tiny().with(FqlConfig.ALPHA, 100.0).with(FqlConfig.HORIZON_LENGTH, H);
    }

    @Test
    void theAgentKeepsThePerStepActionSizeAndItsNetworksSeeTheFlattenedChunk() {
        FqlAgent agent = new FqlAgent(chunked(), OBS, ACT, 1);
        assertEquals(ACT, agent.actionDim());
        assertEquals(H, agent.horizon());
        assertEquals(H * ACT, agent.chunkActionDim());
        ParameterLayout l = agent.layout();
        assertArrayEquals(new long[] {2, OBS + H * ACT, 6}, l.entry("critic/Dense_0/kernel").shape());
        assertArrayEquals(new long[] {OBS + H * ACT + 1, 6}, l.entry("actor_bc_flow/Dense_0/kernel").shape());
        assertArrayEquals(new long[] {5, H * ACT}, l.entry("actor_bc_flow/Dense_2/kernel").shape());
        assertArrayEquals(new long[] {OBS + H * ACT, 6}, l.entry("actor_onestep_flow/Dense_0/kernel").shape());
        assertArrayEquals(new long[] {H * ACT}, l.entry("actor_onestep_flow/Dense_2/bias").shape());
        // the layout of a checkpoint's (obs, per-step action, config) is the agent's
        assertEquals(l.size(), ParameterLayout.trainable(OBS, ACT, chunked()).size());
        // without chunking, the chunk is the action
        FqlAgent fql = new FqlAgent(FqlAgentTest.tiny(), OBS, ACT, 1);
        assertEquals(1, fql.horizon());
        assertEquals(ACT, fql.chunkActionDim());
    }

    @Test
    void policiesReturnOneClippedChunkPerObservation() {
        FqlAgent agent = new FqlAgent(chunked(), OBS, ACT, 1);
        int n = 4;
        float[] obs = new float[n * OBS];
        float[] chunk = agent.sampleActions(obs, n, new SplittableRandom(2));
        assertEquals(n * H * ACT, chunk.length);
        for (float a : chunk) assertTrue(a >= -1f && a <= 1f);
        float[] noise = StepNoise.gaussian(n * H * ACT, new SplittableRandom(3));
        assertEquals(n * H * ACT, agent.sampleActions(obs, noise, n).length);
        assertEquals(n * H * ACT, agent.computeFlowActions(obs, noise, n).length);
        // the same draws give the same chunk: the noise is n·h·A wide, nothing else is random
        assertArrayEquals(agent.sampleActions(obs, n, new SplittableRandom(2)), chunk);
    }

    @Test
    void batchesCarryTheChunkAndItsValidFlags() {
        Batch b = Batch.allocate(5, OBS, ACT, H);
        assertEquals(H, b.horizon());
        assertEquals(5 * H * ACT, b.actions().length);
        assertEquals(5 * H, b.valid().length);
        assertEquals(5, b.rewards().length);
        for (float v : b.valid()) assertEquals(1f, v);
        Batch fql = Batch.allocate(5, OBS, ACT);
        assertEquals(1, fql.horizon());
        assertArrayEquals(new float[] {1, 1, 1, 1, 1}, fql.valid());
        // the constructor of the first release means h = 1
        Batch old = new Batch(2, new float[2 * OBS], new float[2 * ACT], new float[2], new float[2], new float[2 * OBS]);
        assertArrayEquals(new float[] {1, 1}, old.valid());
        assertThrows(IllegalArgumentException.class,
                () -> new Batch(2, new float[2 * OBS], new float[2 * ACT], new float[2], new float[2], new float[2 * OBS], new float[3]));
        assertThrows(IllegalArgumentException.class,
                () -> new Batch(2, new float[2 * OBS], new float[2 * ACT + 2], new float[2], new float[2], new float[2 * OBS], new float[4]));
    }

    @Test
    void aBatchOfTheWrongShapeIsRefusedNamingWhat() {
        FqlAgent agent = new FqlAgent(chunked(), OBS, ACT, 1);
        Batch perStep = Batch.allocate(5, OBS, ACT);      // an FQL batch given to a chunked agent
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> agent.computeLossesAndGradients(perStep, StepNoise.sample(5, H * ACT, new SplittableRandom(1)),
                        FqlAgent.GradientTerms.total(agent.config()), false));
        assertTrue(e.getMessage().contains("actions"), e.getMessage());
        FqlAgent fql = new FqlAgent(FqlAgentTest.tiny(), OBS, ACT, 1);
        Batch invalidStep = FqlAgentTest.batch(1);
        invalidStep.valid()[2] = 0f;                         // impossible without chunks: a chunk's first step is valid
        e = assertThrows(IllegalArgumentException.class, () -> fql.update(invalidStep));
        assertTrue(e.getMessage().contains("valid"), e.getMessage());
    }

    @Test
    void aChunkedCheckpointRecordsThePerStepActionSizeAndTheHorizon(@TempDir Path dir) throws Exception {
        FqlAgent agent = new FqlAgent(chunked(), OBS, ACT, 4);
        Path file = dir.resolve("chunked.fql");
        Checkpoint.of(agent, Map.of()).save(file);
        String header = new String(java.nio.file.Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("\"action_dim\":" + ACT) && header.contains("\"horizonLength\":" + H), "header: action_dim A, h in the config");
        Checkpoint loaded = Checkpoint.load(file);
        assertEquals(ACT, loaded.actionDim());
        assertEquals(H, loaded.config().horizonLength());
        FqlAgent restored = loaded.restore(new org.fqlspark.tensor.JavaTensorOps());
        assertEquals(H * ACT, restored.chunkActionDim());
        assertArrayEquals(agent.parameters(), restored.parameters());
        assertArrayEquals(java.nio.file.Files.readAllBytes(file), loaded.toBytes());
    }

    @Test
    void chunkedLossesFollowTheRulesRecomputedFromTheIntermediates() {
        FqlConfig c = chunked().with(FqlConfig.DISCOUNT, 0.9).with(FqlConfig.Q_AGG, QAgg.MIN);
        FqlAgent agent = new FqlAgent(c, OBS, ACT, 6);
        int b = FqlAgentTest.B;
        Batch batch = FqlAgentTest.chunkedBatch(8, H);
        StepNoise noise = StepNoise.sample(b, H * ACT, new SplittableRandom(9));
        LossReport r = agent.computeLossesAndGradients(batch, noise, FqlAgent.GradientTerms.total(c), true);
        Map<String, float[]> in = r.intermediates();
        float[] nextQs = in.get("next_qs");
        float[] q = in.get("q");
        double critic = 0;
        for (int i = 0; i < b; i++) {
            // R_h + γ^h m_h min_k Q̄: rewards and masks are the last chunk step's
            double y = batch.rewards()[i] + Math.pow(0.9, H) * batch.masks()[i] * Math.min(nextQs[i], nextQs[b + i]);
            assertEquals(y, in.get("target_q")[i], 1e-5);
            double w = batch.valid()[i * H + H - 1];
            critic += w * (Math.pow(q[i] - y, 2) + Math.pow(q[b + i] - y, 2));
        }
        assertEquals(critic / (2 * b), r.criticLoss(), 1e-5);
        assertTrue(batch.valid()[3 * H + H - 1] == 0f, "a sample whose last chunk step is invalid");

        float[] pred = in.get("bc_pred");
        float[] vel = in.get("vel");
        float[] xt = in.get("x_t");
        double flow = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < H; j++) {
                for (int a = 0; a < ACT; a++) {
                    int k = i * H * ACT + j * ACT + a;
                    assertEquals(batch.actions()[k] - noise.x0()[k], vel[k], 1e-6);
                    assertEquals((1 - noise.t()[i]) * noise.x0()[k] + noise.t()[i] * batch.actions()[k], xt[k], 1e-6);
                    flow += batch.valid()[i * H + j] * Math.pow(pred[k] - vel[k], 2);
                }
            }
        }
        assertEquals(flow / (b * H * ACT), r.bcFlowLoss(), 1e-6, "mean over all B·h·A entries, invalid ones as zeros");

        float[] actor = in.get("actor_actions");
        float[] teacher = in.get("target_flow_actions");
        double distill = 0;
        for (int k = 0; k < actor.length; k++) distill += Math.pow(actor[k] - teacher[k], 2);
        assertEquals(distill / (b * H * ACT), r.distillLoss(), 1e-6, "distillation is not masked");
        float[] qActor = in.get("q_actor");
        double qPi = 0;
        for (int i = 0; i < b; i++) qPi += (qActor[i] + qActor[b + i]) / 2;
        assertEquals(-qPi / b, r.qLoss(), 1e-6, "the Q term is not masked");
    }

    @Test
    void withAllStepsValidAndHorizonOneTheChunkedRulesAreFql() {
        // an h = 1 agent given the same transitions through ChunkTargets computes exactly FQL's numbers
        FqlAgent a = new FqlAgent(FqlAgentTest.tiny(), OBS, ACT, 2);
        FqlAgent b = new FqlAgent(FqlAgentTest.tiny(), OBS, ACT, 2);
        Batch plain = FqlAgentTest.batch(4);
        Batch viaTargets = Batch.allocate(plain.size(), OBS, ACT, 1);
        System.arraycopy(plain.observations(), 0, viaTargets.observations(), 0, plain.observations().length);
        System.arraycopy(plain.nextObservations(), 0, viaTargets.nextObservations(), 0, plain.nextObservations().length);
        System.arraycopy(plain.actions(), 0, viaTargets.actions(), 0, plain.actions().length);
        float[] terminals = new float[plain.size()];
        for (int i = 0; i < plain.size(); i++) {
            terminals[i] = 1f - plain.masks()[i];
            ChunkTargets.fill(viaTargets, i, plain.rewards(), plain.masks(), terminals, i, 0.99);
        }
        StepNoise n = FqlAgentTest.noise(5);
        LossReport ra = a.update(plain, n);
        LossReport rb = b.update(viaTargets, n);
        assertEquals(ra.criticLoss(), rb.criticLoss(), 0.0);
        assertArrayEquals(a.parameters(), b.parameters());
    }
}
