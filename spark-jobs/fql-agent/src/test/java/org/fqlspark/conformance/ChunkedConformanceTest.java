package org.fqlspark.conformance;

import static org.fqlspark.conformance.EditedDumps.assertFailsNaming;
import static org.fqlspark.conformance.EditedDumps.failures;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The action-chunking dump ({@code acfql_tiny_h3.json}, {@code fql-chunked-golden-v1}, QC-FQL with h = 3): it passes
 * and everything in it is compared, it covers the cases it is named for, and implementations that get one chunking
 * rule wrong fail it. Each wrong implementation is simulated by editing the dump so that our correct agent computes
 * what the wrong one would compute on the original (BackendConformanceTest runs the dump on every backend).
 */
class ChunkedConformanceTest {

    static final String CHUNKED = "acfql_tiny_h3.json";

    @TempDir
    Path dir;

    private static ObjectNode root() throws Exception {
        return EditedDumps.read(ConformanceVariantsTest.golden(CHUNKED));
    }

    private Conformance.Report replay(Consumer<ObjectNode> edit) throws Exception {
        return EditedDumps.replay(ConformanceVariantsTest.golden(CHUNKED), dir, edit);
    }

    /** Every batch of the dump (the single step's and the multi-step ones). */
    private static void eachBatch(ObjectNode root, Consumer<ObjectNode> edit) {
        edit.accept((ObjectNode) root.get("batch"));
        for (JsonNode b : root.get("multi_step").get("batches")) {
            edit.accept((ObjectNode) b);
        }
    }

    private static ArrayNode data(ObjectNode batch, String key) {
        return (ArrayNode) batch.get(key).get("data");
    }

    @Test
    void theChunkedDumpPassesAndEverySectionIsCompared() throws Exception {
        Conformance.Report report = Conformance.run(GoldenDump.load(ConformanceVariantsTest.golden(CHUNKED)),
                Conformance.DEFAULT_TOLERANCE);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        report.print(new PrintStream(text, true, StandardCharsets.UTF_8));
        System.out.println("=== " + CHUNKED + "\n" + text.toString(StandardCharsets.UTF_8));
        assertTrue(report.passed(), "worst: " + report.worst());
        JsonNode root = root();
        int trainable = root.get("trainable_param_names").size();
        int all = root.get("param_names").size();
        int steps = root.get("multi_step").get("num_steps").asInt();
        int intermediates = root.get("intermediates").size();
        // as for FQL dumps, plus rewards, masks and valid of ChunkTargets for each of the 1 + steps batches
        assertEquals(6 * (1 + steps) + intermediates + 6 * trainable + 2 * trainable + 2 * trainable + all + all + 3 * (1 + steps),
                report.checks().size());
        assertTrue(report.notes().isEmpty(), report.notes().toString());
    }

    @Test
    void theDumpCoversEpisodeEndsInsideChunksAndActionsOutsideTheClip() throws Exception {
        GoldenDump dump = GoldenDump.load(ConformanceVariantsTest.golden(CHUNKED));
        assertTrue(dump.chunked);
        assertEquals(3, dump.horizon);
        assertEquals(3, dump.config.horizonLength());
        assertEquals(2, dump.actionDim, "config.action_dim is the per-step size");
        assertEquals(dump.batch.size() * 3 * 2, dump.batch.actions().length);
        int invalidSteps = 0;
        int invalidLast = 0;
        for (int i = 0; i < dump.batch.size(); i++) {
            for (int j = 0; j < 3; j++) {
                invalidSteps += dump.batch.valid()[i * 3 + j] == 0f ? 1 : 0;
            }
            invalidLast += dump.batch.valid()[i * 3 + 2] == 0f ? 1 : 0;
        }
        JsonNode coverage = root().get("coverage");
        assertEquals(coverage.get("invalid_chunk_steps").asInt(), invalidSteps);
        assertEquals(coverage.get("samples_with_invalid_last_step").asInt(), invalidLast);
        assertTrue(invalidSteps > invalidLast && invalidLast > 0, "both a masked last step and masked middle steps");
        int zeroMasks = 0;
        for (float m : dump.batch.masks()) zeroMasks += m == 0f ? 1 : 0;
        assertEquals(coverage.get("masks_zero_at_last_step").asInt(), zeroMasks);
        assertTrue(zeroMasks > 0);
        assertTrue(coverage.get("one_step_actions_outside_[-1,1]").asInt() > 0);
    }

    @Test
    void ignoringTheValidFlagsFails() throws Exception {
        // an agent that does not weight by valid computes what ours computes with valid all ones
        Conformance.Report report = replay(root -> eachBatch(root, b -> {
            ArrayNode valid = data(b, "valid");
            for (int k = 0; k < valid.size(); k++) valid.set(k, 1.0);
        }));
        assertFailsNaming(report, "losses (step 1): critic_loss", "losses (step 1): bc_flow_loss",
                "grads of critic_loss", "grads of bc_flow_loss");
    }

    @Test
    void bootstrappingWithGammaInsteadOfGammaToTheHFails() throws Exception {
        // with γ' = γ^(1/h) in the config, our γ'^h is the γ a wrong agent would use on the original dump
        Conformance.Report report = replay(root -> {
            ObjectNode config = (ObjectNode) root.get("config");
            config.put("discount", Math.pow(config.get("discount").asDouble(), 1.0 / 3));
        });
        assertFailsNaming(report, "intermediates: target_q", "losses (step 1): critic_loss", "grads of critic_loss");
    }

    @Test
    void flatteningTheChunkActionMajorFails() throws Exception {
        // [B, h, A] read as [B, A, h]: the same values in another order inside each sample's chunk
        Conformance.Report report = replay(root -> eachBatch(root, b -> {
            ArrayNode a = data(b, "actions");
            int h = 3;
            int act = 2;
            double[] copy = new double[a.size()];
            for (int k = 0; k < copy.length; k++) copy[k] = a.get(k).asDouble();
            for (int i = 0; i < copy.length / (h * act); i++) {
                for (int j = 0; j < h; j++) {
                    for (int c = 0; c < act; c++) {
                        a.set(i * h * act + j * act + c, copy[i * h * act + c * h + j]);
                    }
                }
            }
        }));
        assertFailsNaming(report, "losses (step 1): critic_loss", "losses (step 1): bc_flow_loss", "intermediates: x_t");
    }

    @Test
    void bootstrappingFromTheFirstStepsNextObservationFails() throws Exception {
        // s_{t+1} instead of s_{t+h}: put next_observations[:, 0] where the last step's is
        Conformance.Report report = replay(root -> eachBatch(root, b -> {
            ArrayNode next = data(b, "next_observations");
            int h = 3;
            int d = 3;
            for (int i = 0; i < next.size() / (h * d); i++) {
                for (int c = 0; c < d; c++) {
                    next.set(i * h * d + (h - 1) * d + c, next.get(i * h * d + c).asDouble());
                }
            }
        }));
        assertFailsNaming(report, "intermediates: next_actions", "intermediates: target_q", "losses (step 1): critic_loss");
    }

    @Test
    void anIntermediateWithTheRightValuesButAnotherShapeFails() throws Exception {
        // x_t stored as [B, h, A] instead of the networks' [B, h·A]: same values, another shape
        Conformance.Report report = replay(root -> {
            ArrayNode shape = ((ObjectNode) root.get("intermediates").get("x_t")).putArray("shape");
            shape.add(4).add(3).add(2);
        });
        assertFailsNaming(report, "intermediates: x_t (shape [4, 3, 2] in the reference, ours [4, 6])");
        assertEquals(1, report.checks().stream().filter(c -> !c.pass()).count(), failures(report));
    }

    @Test
    void chunkTargetsAreComparedWithTheReferencesDerivedRows() throws Exception {
        // a terminal removed from the raw rows of sample 1: the rows ChunkTargets derives no longer match the dump's
        Conformance.Report report = replay(root -> data((ObjectNode) root.get("batch"), "step_terminals").set(3, 0.0));
        assertFailsNaming(report, "chunk targets from the raw rows: batch.valid");
        assertEquals(1, report.checks().stream().filter(c -> !c.pass()).count(), failures(report));
    }

    @Test
    void aChunkedDumpWithMissingRowsOrWrongShapesIsRefusedNamingTheKey() throws Exception {
        ObjectNode root = root();
        ((ObjectNode) root.get("batch")).remove("valid");
        Path file = EditedDumps.write(root, dir, "no-valid.json");
        GoldenDump.GoldenFormatException e = assertThrows(GoldenDump.GoldenFormatException.class, () -> GoldenDump.load(file));
        assertTrue(e.getMessage().contains("batch.valid"), e.getMessage());

        ObjectNode flat = root();
        ObjectNode actions = (ObjectNode) flat.get("batch").get("actions");
        actions.putArray("shape").add(4).add(6);
        Path file2 = EditedDumps.write(flat, dir, "flat-actions.json");
        e = assertThrows(GoldenDump.GoldenFormatException.class, () -> GoldenDump.load(file2));
        assertTrue(e.getMessage().contains("batch.actions") && e.getMessage().contains("[4, 3, 2]"), e.getMessage());

        ObjectNode noH = root();
        ((ObjectNode) noH.get("config")).remove("horizon_length");
        Path file3 = EditedDumps.write(noH, dir, "no-horizon.json");
        e = assertThrows(GoldenDump.GoldenFormatException.class, () -> GoldenDump.load(file3));
        assertTrue(e.getMessage().contains("horizon_length"), e.getMessage());
    }
}
