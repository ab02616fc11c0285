package org.fqlspark.agent;

import static org.fqlspark.agent.FqlConfig.ALPHA;
import static org.fqlspark.agent.FqlConfig.HORIZON_LENGTH;
import static org.fqlspark.agent.FqlConfig.NORMALIZE_Q_LOSS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;

/** {@code horizon_length}: validation, and JSON that stays what it was for configs without action chunking. */
class HorizonLengthTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code FqlAgentTest.tiny()}'s config as the release before horizon_length wrote it (recorded from that build). */
    private static final String TINY_BEFORE_CHUNKING = "{\"learningRate\":3.0E-4,\"batchSize\":5,\"actorHiddenDims\":[6,5],"
            + "\"valueHiddenDims\":[6,5],\"layerNorm\":true,\"actorLayerNorm\":false,\"discount\":0.99,\"tau\":0.005,"
            + "\"qAgg\":\"MEAN\",\"alpha\":10.0,\"flowSteps\":3,\"normalizeQLoss\":false,\"adamBeta1\":0.9,\"adamBeta2\":0.999,"
            + "\"adamEps\":1.0E-8,\"layerNormEps\":1.0E-6}";

    @Test
    void theDefaultIsOneAndOtherSettingsKeepTheHorizon() {
        assertEquals(1, FqlConfig.defaults().horizonLength());
        FqlConfig h5 = FqlConfig.defaults().with(HORIZON_LENGTH, 5);
        assertEquals(5, h5.horizonLength());
        FqlConfig changed = h5.with(ALPHA, 100.0).with(FqlConfig.DISCOUNT, 0.995).with(FqlConfig.Q_AGG, QAgg.MIN)
                .with(FqlConfig.BATCH_SIZE, 7).withHiddenDims(8, 8);
        assertEquals(5, changed.horizonLength());
    }

    @Test
    void aHorizonBelowOneAndNormalisedQLossWithChunksAreRefusedNamingTheKey() {
        for (int bad : new int[] {0, -3}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FqlConfig.defaults().with(HORIZON_LENGTH, bad));
            assertTrue(e.getMessage().contains("horizon_length"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FqlConfig.defaults().with(HORIZON_LENGTH, 5).with(NORMALIZE_Q_LOSS, true));
        assertTrue(e.getMessage().contains("normalize_q_loss") && e.getMessage().contains("horizon_length 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> FqlConfig.defaults().with(NORMALIZE_Q_LOSS, true).with(HORIZON_LENGTH, 2));
        assertTrue(e.getMessage().contains("normalize_q_loss"), e.getMessage());
        // without chunks the normalisation stays available
        assertTrue(FqlConfig.defaults().with(NORMALIZE_Q_LOSS, true).with(HORIZON_LENGTH, 1).normalizeQLoss());
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
    void aChunkedConfigWritesTheKeyAndReadsItBack() throws Exception {
        FqlConfig h3 = FqlAgentTest.tiny().with(ALPHA, 100.0).with(HORIZON_LENGTH, 3);
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
