package org.fqlspark.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.fqlspark.agent.QAgg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Conformance on the golden dumps beyond the tiny default: other sizes and depths with {@code q_agg=min} and
 * {@code normalize_q_loss}, one-step actions outside [-1, 1] (the clip masks of the Q term), and LayerNorm in the
 * actors with actor and critic widths that differ. The dumps are made by {@code src/test/python/make_golden.py}
 * (commands in the README beside it); each test also checks that its dump really covers the case it is named for.
 */
class ConformanceVariantsTest {

    private static final String SMALL_MIN_NORMQ = "fql_small_min_normq.json";
    private static final String TINY_CLIPPED = "fql_tiny_clipped.json";
    private static final String ACTOR_LN = "fql_actor_ln.json";

    static Path golden(String name) throws URISyntaxException {
        URL url = ConformanceVariantsTest.class.getResource("/golden/" + name);
        assertTrue(url != null, "missing test resource /golden/" + name);
        return Path.of(url.toURI());
    }

    static JsonNode json(String name) throws IOException, URISyntaxException {
        return new ObjectMapper().readTree(golden(name).toFile());
    }

    @ParameterizedTest
    @ValueSource(strings = {SMALL_MIN_NORMQ, TINY_CLIPPED, ACTOR_LN})
    void variantPassesWithinFloat32Tolerance(String name) throws Exception {
        Conformance.Report report = Conformance.run(GoldenDump.load(golden(name)), Conformance.DEFAULT_TOLERANCE);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        report.print(new PrintStream(text, true, StandardCharsets.UTF_8));
        System.out.println("=== " + name + "\n" + text.toString(StandardCharsets.UTF_8));
        assertTrue(report.passed(), name + " worst: " + report.worst());

        // every section was compared: 6 losses x (1 + steps), the intermediates, 6 gradients and 2 x 2 Adam moments
        // (after one step and after the multi-step run) per trainable tensor, and all tensors (target critic
        // included) after one step and after the multi-step run
        JsonNode root = json(name);
        int trainable = root.get("trainable_param_names").size();
        int all = root.get("param_names").size();
        int steps = root.get("multi_step").get("num_steps").asInt();
        int intermediates = root.get("intermediates").size();
        assertEquals(6 * (1 + steps) + intermediates + 6 * trainable + 2 * trainable + 2 * trainable + all + all,
                report.checks().size(), name);
    }

    @Test
    void smallDumpUsesMinAggregationNormalisedQLossAndThreeHiddenLayers() throws Exception {
        GoldenDump dump = GoldenDump.load(golden(SMALL_MIN_NORMQ));
        assertEquals(QAgg.MIN, dump.config.qAgg());
        assertTrue(dump.config.normalizeQLoss());
        assertEquals(3, dump.config.actorHiddenDims().size());
        assertEquals(3, dump.config.valueHiddenDims().size());
        assertEquals(5, dump.obsDim);
        assertEquals(3, dump.actionDim);
        assertEquals(4, dump.config.flowSteps());

        JsonNode inter = json(SMALL_MIN_NORMQ).get("intermediates");
        // min over the two target critics must differ from their mean somewhere, or min was not exercised
        JsonNode nextQs = inter.get("next_qs").get("data");
        JsonNode nextQ = inter.get("next_q").get("data");
        int b = nextQ.size();
        for (int i = 0; i < b; i++) {
            double q0 = nextQs.get(i).asDouble();
            double q1 = nextQs.get(b + i).asDouble();
            assertEquals(Math.min(q0, q1), nextQ.get(i).asDouble(), 1e-12);
            assertNotEquals(q0, q1);
        }
        assertTrue(json(SMALL_MIN_NORMQ).get("coverage").get("masks_zero").asInt() > 0);
    }

    @Test
    void clippedDumpHasOneStepActionsOnBothSidesOfTheClipAndClippedFlowTargets() throws Exception {
        JsonNode root = json(TINY_CLIPPED);
        JsonNode coverage = root.get("coverage");
        JsonNode actions = root.get("intermediates").get("actor_actions").get("data");
        int outside = 0;
        for (JsonNode a : actions) {
            outside += Math.abs(a.asDouble()) > 1 ? 1 : 0;
        }
        assertEquals(outside, coverage.get("one_step_actions_outside_[-1,1]").asInt());
        // both branches of the clip's gradient mask: zero outside [-1, 1], pass-through inside
        assertTrue(outside > 0, "no one-step action outside [-1, 1]");
        assertTrue(outside < actions.size(), "every one-step action outside [-1, 1]");

        int clippedTargets = 0;
        for (JsonNode a : root.get("intermediates").get("target_flow_actions").get("data")) {
            clippedTargets += Math.abs(a.asDouble()) == 1.0 ? 1 : 0;
        }
        assertTrue(clippedTargets > 0, "no clipped flow target");
        assertEquals(clippedTargets, coverage.get("flow_target_actions_clipped").asInt());
        assertTrue(coverage.get("masks_zero").asInt() > 0);
    }

    @Test
    void actorLayerNormDumpHasActorLayerNormAndDistinctWidths() throws Exception {
        GoldenDump dump = GoldenDump.load(golden(ACTOR_LN));
        assertTrue(dump.config.actorLayerNorm());
        assertNotEquals(dump.config.actorHiddenDims(), dump.config.valueHiddenDims());
        assertTrue(dump.trainableNames.contains("actor_bc_flow/LayerNorm_0/scale"), dump.trainableNames.toString());
        assertTrue(dump.trainableNames.contains("actor_onestep_flow/LayerNorm_1/bias"), dump.trainableNames.toString());
        // LN parameters of the actors get gradients: the comparison above covers them, and they are not all zero
        double norm = 0;
        for (double g : dump.grads.get("total_loss").get("actor_onestep_flow/LayerNorm_0/scale").data()) {
            norm += Math.abs(g);
        }
        assertTrue(norm > 0);
    }
}
