package org.fqlspark.conformance;

import static org.fqlspark.conformance.EditedDumps.assertFailsNaming;
import static org.fqlspark.conformance.EditedDumps.failures;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conformance must not pass by comparing less than it should: whatever one side has and the other lacks, an empty
 * section, a shape mismatch and an empty report all fail, naming what was missing. Each case edits the tiny golden
 * dump in one place and replays it.
 */
class ConformanceNotVacuousTest {

    private static final String KERNEL = "critic/Dense_0/kernel";

    @TempDir
    Path dir;

    private Path edited(Consumer<ObjectNode> edit) throws Exception {
        return EditedDumps.edited(ConformanceTest.golden(), dir, edit);
    }

    private Conformance.Report replay(Consumer<ObjectNode> edit) throws Exception {
        return EditedDumps.replay(ConformanceTest.golden(), dir, edit);
    }

    private static ObjectNode section(ObjectNode root, String... path) {
        ObjectNode n = root;
        for (String p : path) n = (ObjectNode) n.get(p);
        return n;
    }

    @Test
    void theUneditedDumpStillPasses() throws Exception {
        Conformance.Report report = replay(root -> { });
        assertTrue(report.passed(), failures(report));
    }

    @Test
    void aGradientMissingFromTheReferenceFails() throws Exception {
        assertFailsNaming(replay(root -> section(root, "grads", "critic_loss").remove(KERNEL)),
                "grads of critic_loss", KERNEL, "MISSING");
    }

    @Test
    void aGradientSectionOfALossMissingFromTheReferenceFails() throws Exception {
        assertFailsNaming(replay(root -> section(root, "grads").remove("q_loss")), "grads", "q_loss", "MISSING");
    }

    @Test
    void anAdamMomentMissingFromTheReferenceFails() throws Exception {
        assertFailsNaming(replay(root -> section(root, "adam_state_after_step", "v").remove(KERNEL)),
                "adam v", KERNEL, "MISSING");
    }

    @Test
    void aWeightMissingFromTheReferenceFails() throws Exception {
        // the target critic used to be skipped silently wherever it was absent
        assertFailsNaming(replay(root -> section(root, "params_after_step").remove("target_critic/Dense_0/kernel")),
                "params after step 1", "target_critic/Dense_0/kernel", "MISSING");
        assertFailsNaming(replay(root -> section(root, "multi_step", "params_after").remove(KERNEL)),
                "params after 3 steps", KERNEL, "MISSING");
    }

    @Test
    void aTensorOursLacksFails() throws Exception {
        assertFailsNaming(replay(root -> section(root, "grads", "total_loss").set("critic/Dense_9/kernel",
                section(root, "grads", "total_loss").get(KERNEL).deepCopy())), "critic/Dense_9/kernel", "MISSING");
    }

    @Test
    void anIntermediateMissingOnEitherSideFails() throws Exception {
        // missing from the reference: ours produces q_actor, nothing compares it
        assertFailsNaming(replay(root -> section(root, "intermediates").remove("q_actor")), "intermediates", "q_actor", "MISSING");
        // missing from ours: the reference has an intermediate we do not produce
        assertFailsNaming(replay(root -> section(root, "intermediates").set("made_up",
                section(root, "intermediates").get("q").deepCopy())), "intermediates", "made_up", "MISSING");
    }

    @Test
    void aLossMissingFromTheReferenceFails() throws Exception {
        assertFailsNaming(replay(root -> section(root, "losses").remove("distill_loss")), "losses (step 1)", "distill_loss");
        assertFailsNaming(replay(root -> ((ObjectNode) root.get("multi_step").get("losses_per_step").get(1)).remove("q_loss")),
                "losses (multi-step 2)", "q_loss");
    }

    @Test
    void anIntermediateOfAnotherShapeFails() throws Exception {
        // 'q' truncated to its first half, shape and data consistent: a prefix comparison would pass; the shape check
        // names it before any value is compared
        assertFailsNaming(replay(root -> {
            ObjectNode q = (ObjectNode) section(root, "intermediates").get("q");
            ArrayNode data = (ArrayNode) q.get("data");
            int half = data.size() / 2;
            while (data.size() > half) data.remove(data.size() - 1);
            ArrayNode shape = q.putArray("shape");
            shape.add(half);
        }), "intermediates", "q (shape [4] in the reference, ours [2, 4])");
    }

    /**
     * Intermediates are compared by shape, not by length alone (issue 21, item 8): 'q' is [members, batch]; the same
     * values declared as [batch, members], or flattened, are another tensor and fail naming both shapes.
     */
    @Test
    void anIntermediateOfTheSameLengthButAnotherShapeFails() throws Exception {
        for (int[] shape : new int[][] {{4, 2}, {8}}) {
            assertFailsNaming(replay(root -> {
                ObjectNode q = (ObjectNode) section(root, "intermediates").get("q");
                ArrayNode declared = q.putArray("shape");
                for (int d : shape) declared.add(d);
            }), "intermediates", "q (shape " + java.util.Arrays.toString(shape), "ours [2, 4]");
        }
    }

    @Test
    void emptySectionsAreRefusedNamingTheKey() throws Exception {
        for (String key : List.of("intermediates", "losses", "grads", "params_after_step")) {
            Path file = edited(root -> root.putObject(key));
            GoldenDump.GoldenFormatException e = assertThrows(GoldenDump.GoldenFormatException.class, () -> GoldenDump.load(file), key);
            assertTrue(e.getMessage().contains("'" + key + "'") && e.getMessage().contains("non-empty"), e.getMessage());
        }
        Path file = edited(root -> section(root, "adam_state_after_step").putObject("m"));
        GoldenDump.GoldenFormatException e = assertThrows(GoldenDump.GoldenFormatException.class, () -> GoldenDump.load(file));
        assertTrue(e.getMessage().contains("adam_state_after_step.m"), e.getMessage());
    }

    @Test
    void anEntryThatIsNotATensorIsRefusedNotSkipped() throws Exception {
        Path file = edited(root -> section(root, "grads", "critic_loss").put(KERNEL, "see elsewhere"));
        GoldenDump.GoldenFormatException e = assertThrows(GoldenDump.GoldenFormatException.class, () -> GoldenDump.load(file));
        assertTrue(e.getMessage().contains("grads.critic_loss." + KERNEL), e.getMessage());
    }

    @Test
    void aReportWithoutChecksFails() {
        Conformance.Report empty = new Conformance.Report(List.of(), Conformance.DEFAULT_TOLERANCE);
        assertFalse(empty.passed());
        assertFalse(empty.worst().pass());
        assertTrue(empty.worst().name().contains("no checks"), empty.worst().name());
    }

    @Test
    void multiStepAdamMomentsAreRequiredWhereTheDumpHasThem() throws Exception {
        // a dump of the first format (no multi-step Adam state, like the original fql_tiny_default.json) passes, saying
        // what it skipped
        Conformance.Report older = replay(root -> section(root, "multi_step").remove("adam_state_after"));
        assertTrue(older.passed());
        assertTrue(older.notes().stream().anyMatch(n -> n.contains("multi_step.adam_state_after")), older.notes().toString());
        assertFailsNaming(replay(root -> section(root, "multi_step", "adam_state_after", "m").remove(KERNEL)),
                "adam m (after 3 steps)", KERNEL, "MISSING");
    }

    @Test
    void multiStepAdamMomentsAreCompared() throws Exception {
        // The multi-step section's Adam state is compared: the one-step moments (t = 1) put there must fail against
        // three steps.
        Conformance.Report report = replay(root -> section(root, "multi_step").set("adam_state_after",
                root.get("adam_state_after_step").deepCopy()));
        assertFailsNaming(report, "adam m (after 3 steps)", "adam v (after 3 steps)", "t = 3, reference 1");
    }
}
