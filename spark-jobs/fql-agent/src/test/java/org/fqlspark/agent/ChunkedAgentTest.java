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
        return FqlAgentTest.tiny().withAlpha(100).withHorizonLength(H);
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
}
