package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;

/** {@code horizonLength}: validation, and JSON that stays what it was for configs without action chunking. */
class FqlConfigTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code FqlConfigTest.tiny()}'s config as the release before horizon_length wrote it (recorded from that build). */
    private static final String TINY_BEFORE_CHUNKING = "{\"learningRate\":3.0E-4,\"batchSize\":5,\"actorHiddenDims\":[6,5],"
            + "\"valueHiddenDims\":[6,5],\"layerNorm\":true,\"actorLayerNorm\":false,\"discount\":0.99,\"tau\":0.005,"
            + "\"qAgg\":\"MEAN\",\"alpha\":10.0,\"flowSteps\":3,\"normalizeQLoss\":false,\"adamBeta1\":0.9,\"adamBeta2\":0.999,"
            + "\"adamEps\":1.0E-8,\"layerNormEps\":1.0E-6}";

    @Test
    void theDefaultIsOneAndEveryWitherKeepsTheHorizon() {
        assertEquals(1, FqlConfig.defaults().horizonLength());
        FqlConfig h5 = FqlConfig.defaults().withHorizonLength(5);
        assertEquals(5, h5.horizonLength());
        FqlConfig changed = h5.withAlpha(100).withDiscount(0.995).withQAgg(QAgg.MIN).withBatchSize(7).withFlowSteps(4)
                .withLearningRate(1e-3).withTau(0.01).withHiddenDims(8, 8).withValueHiddenDims(9);
        assertEquals(5, changed.horizonLength());
        // the constructor of the first release still builds a config without chunking
        FqlConfig d = FqlConfig.defaults();
        assertEquals(d, new FqlConfig(d.learningRate(), d.batchSize(), d.actorHiddenDims(), d.valueHiddenDims(), d.layerNorm(),
                d.actorLayerNorm(), d.discount(), d.tau(), d.qAgg(), d.alpha(), d.flowSteps(), d.normalizeQLoss(),
                d.adamBeta1(), d.adamBeta2(), d.adamEps(), d.layerNormEps()));
    }

    @Test
    void aHorizonBelowOneAndNormalisedQLossWithChunksAreRefusedNamingTheKey() {
        for (int bad : new int[] {0, -3}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FqlConfig.defaults().withHorizonLength(bad));
            assertTrue(e.getMessage().contains("horizon_length"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FqlConfig.defaults().withHorizonLength(5).withNormalizeQLoss(true));
        assertTrue(e.getMessage().contains("normalize_q_loss") && e.getMessage().contains("horizon_length 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> FqlConfig.defaults().withNormalizeQLoss(true).withHorizonLength(2));
        assertTrue(e.getMessage().contains("normalize_q_loss"), e.getMessage());
        // without chunks the normalisation stays available
        assertTrue(FqlConfig.defaults().withNormalizeQLoss(true).withHorizonLength(1).normalizeQLoss());
    }

    @Test
    void withoutChunkingTheJsonIsByteForByteWhatTheFirstReleaseWrote() throws Exception {
        assertEquals(TINY_BEFORE_CHUNKING, JSON.writeValueAsString(FqlAgentTest.tiny()));
        assertFalse(JSON.writeValueAsString(FqlConfig.defaults()).contains("horizon"));
    }

    @Test
    void jsonWithoutTheKeyReadsAsHorizonOne() throws Exception {
        FqlConfig read = JSON.readValue(TINY_BEFORE_CHUNKING, FqlConfig.class);
        assertEquals(1, read.horizonLength());
        assertEquals(FqlAgentTest.tiny(), read);
    }

    @Test
    void aChunkedConfigWritesTheKeyLastAndReadsItBack() throws Exception {
        FqlConfig h3 = FqlAgentTest.tiny().withAlpha(100).withHorizonLength(3);
        String json = JSON.writeValueAsString(h3);
        assertTrue(json.endsWith(",\"horizonLength\":3}"), json);
        assertEquals(h3, JSON.readValue(json, FqlConfig.class));
        // an explicit 1 reads as 1, an explicit 0 is refused like any invalid value
        assertEquals(1, JSON.readValue(TINY_BEFORE_CHUNKING.replace("}", ",\"horizonLength\":1}"), FqlConfig.class).horizonLength());
        String zero = json.replace("\"horizonLength\":3", "\"horizonLength\":0");
        JsonMappingException e = assertThrows(JsonMappingException.class, () -> JSON.readValue(zero, FqlConfig.class));
        assertTrue(e.getMessage().contains("horizon_length"), e.getMessage());
    }
}
