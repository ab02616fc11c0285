package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    static FqlAgent trained() {
        FqlAgent agent = new FqlAgent(FqlAgentTest.tiny().with(FqlConfig.Q_AGG, QAgg.MIN), FqlAgentTest.OBS, FqlAgentTest.ACT, 5);
        for (int s = 0; s < 3; s++) {
            agent.update(FqlAgentTest.batch(s));
        }
        return agent;
    }

    @Test
    void loadSaveRoundTripsExactly(@TempDir Path dir) throws Exception {
        FqlAgent agent = trained();
        Path file = dir.resolve("ckpt.fql");
        Checkpoint.of(agent, Map.of("dataset", "unit-test")).save(file);
        Checkpoint loaded = Checkpoint.load(file);
        assertArrayEquals(Files.readAllBytes(file), loaded.toBytes());
        FqlAgent restored = loaded.restore();
        assertArrayEquals(agent.parameters(), restored.parameters());
        assertArrayEquals(agent.targetParameters(), restored.targetParameters());
        assertArrayEquals(agent.adamFirstMoment(), restored.adamFirstMoment());
        assertArrayEquals(agent.adamSecondMoment(), restored.adamSecondMoment());
        assertEquals(3, restored.step());
        assertEquals(agent.config(), restored.config());
        assertEquals("unit-test", loaded.provenance().get("dataset"));
        // continuing from the checkpoint equals continuing in memory
        agent.update(FqlAgentTest.batch(9));
        restored.update(FqlAgentTest.batch(9));
        assertArrayEquals(agent.parameters(), restored.parameters());
    }

    @Test
    void truncatedCheckpointIsDetected(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ckpt.fql");
        Checkpoint.of(trained(), Map.of()).save(file);
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, b.length - 100));
        Checkpoint.CheckpointException e = assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.load(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void corruptCheckpointFailsTheChecksum(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ckpt.fql");
        Checkpoint.of(trained(), Map.of()).save(file);
        byte[] b = Files.readAllBytes(file);
        b[b.length - 200] ^= 0x10;
        Files.write(file, b);
        Checkpoint.CheckpointException e = assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.load(file));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void notACheckpointIsNamed(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("notes.txt");
        Files.writeString(file, "hello, this is not a checkpoint at all, but it is long enough to be read");
        Checkpoint.CheckpointException e = assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.load(file));
        assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
        assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.load(dir.resolve("missing.fql")));
    }

    @Test
    void theDigestIsVerifiedBeforeAnyHeaderFieldIsParsed(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ckpt.fql");
        Checkpoint.of(trained(), Map.of()).save(file);
        byte[] good = Files.readAllBytes(file);
        // a flipped bit in the header length, the version and the JSON header each reads as a checksum failure
        for (int offset : new int[] {9, 14, 30}) {
            byte[] b = good.clone();
            b[offset] ^= 0x40;
            Files.write(file, b);
            Checkpoint.CheckpointException e = assertThrows(Checkpoint.CheckpointException.class, () -> Checkpoint.load(file));
            assertTrue(e.getMessage().contains("checksum"), "offset " + offset + ": " + e.getMessage());
        }
    }

    @Test
    void magicAndSizeAreCheckedBeforeTheFileIsRead() {
        long[] read = {0};
        java.io.InputStream endless = new java.io.InputStream() {
            @Override
            public int read() {
                read[0]++;
                return 'x';
            }
        };
        Checkpoint.CheckpointException notOne = assertThrows(Checkpoint.CheckpointException.class,
                () -> Checkpoint.read(endless, 50L << 30, "huge.bin"));
        assertTrue(notOne.getMessage().contains("huge.bin") && notOne.getMessage().contains("magic"), notOne.getMessage());
        assertTrue(read[0] <= 8, "read " + read[0] + " bytes of a 50 GiB file that is not a checkpoint");

        java.io.InputStream magicThenEndless = new java.io.SequenceInputStream(
                new java.io.ByteArrayInputStream(Checkpoint.MAGIC), endless);
        read[0] = 0;
        Checkpoint.CheckpointException tooBig = assertThrows(Checkpoint.CheckpointException.class,
                () -> Checkpoint.read(magicThenEndless, 50L << 30, "huge.fqlckpt"));
        assertTrue(tooBig.getMessage().contains("size"), tooBig.getMessage());
        assertEquals(0, read[0], "nothing past the magic is read when the size is impossible");
    }

    /**
     * {@code checkpoint/checkpoint-0.1.0.fql} was written by the release before {@code horizon_length} existed (commit
     * 23c463e): {@code FqlConfig.defaults().withHiddenDims(6, 5).withFlowSteps(3).withBatchSize(4).withQAgg(MIN)},
     * obs 3, action 2, seed 5, on {@code JavaTensorOps}, after two updates. Its header has no horizon key.
     */
    @Test
    void aCheckpointWrittenBeforeHorizonLengthLoadsAsHorizonOneAndSavesTheSameBytes() throws Exception {
        Path file = Path.of(CheckpointTest.class.getResource("/checkpoint/checkpoint-0.1.0.fql").toURI());
        byte[] bytes = Files.readAllBytes(file);
        assertTrue(!new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).contains("horizonLength"), "the fixture predates the key");
        Checkpoint loaded = Checkpoint.load(file);
        assertEquals(1, loaded.config().horizonLength());
        assertEquals(2, loaded.actionDim());
        assertEquals(2, loaded.state().step());
        assertArrayEquals(bytes, loaded.toBytes());
        FqlAgent agent = loaded.restore(new org.fqlspark.tensor.JavaTensorOps());
        assertEquals(1, agent.config().horizonLength());
        agent.update(Batch.allocate(4, 3, 2));
        assertEquals(3, agent.step());
    }
}
