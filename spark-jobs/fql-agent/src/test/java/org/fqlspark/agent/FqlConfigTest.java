package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.junit.jupiter.api.Test;

/** The settings table: one declaration per hyper-parameter, read by validation, defaults, {@code with} and the JSON. */
class FqlConfigTest {

    /** The official get_config's keys and defaults (agents/fql.py), which the table must carry unchanged. */
    private static final Map<String, Object> OFFICIAL = new LinkedHashMap<>();

    static {
        OFFICIAL.put("lr", 3e-4);
        OFFICIAL.put("batch_size", 256);
        OFFICIAL.put("actor_hidden_dims", List.of(512, 512, 512, 512));
        OFFICIAL.put("value_hidden_dims", List.of(512, 512, 512, 512));
        OFFICIAL.put("layer_norm", true);
        OFFICIAL.put("actor_layer_norm", false);
        OFFICIAL.put("discount", 0.99);
        OFFICIAL.put("tau", 0.005);
        OFFICIAL.put("q_agg", "mean");
        OFFICIAL.put("alpha", 10.0);
        OFFICIAL.put("flow_steps", 10);
        OFFICIAL.put("normalize_q_loss", false);
    }

    /** config.json's fql_config for the defaults, as written before the table existed (Jackson's record form). */
    private static final String DEFAULTS_CONFIG_JSON = """
            {
              "fql_config" : {
                "learningRate" : 3.0E-4,
                "batchSize" : 256,
                "actorHiddenDims" : [ 512, 512, 512, 512 ],
                "valueHiddenDims" : [ 512, 512, 512, 512 ],
                "layerNorm" : true,
                "actorLayerNorm" : false,
                "discount" : 0.99,
                "tau" : 0.005,
                "qAgg" : "MEAN",
                "alpha" : 10.0,
                "flowSteps" : 10,
                "normalizeQLoss" : false,
                "adamBeta1" : 0.9,
                "adamBeta2" : 0.999,
                "adamEps" : 1.0E-8,
                "layerNormEps" : 1.0E-6
              }
            }""";

    /** The same for two presets, compact (a checkpoint header, a round's task closure). */
    private static final Map<String, String> PRESET_JSON = Map.of(
            "pen-human-v1", "{\"learningRate\":3.0E-4,\"batchSize\":256,\"actorHiddenDims\":[512,512,512,512],"
                    + "\"valueHiddenDims\":[512,512,512,512],\"layerNorm\":true,\"actorLayerNorm\":false,\"discount\":0.99,"
                    + "\"tau\":0.005,\"qAgg\":\"MIN\",\"alpha\":10000.0,\"flowSteps\":10,\"normalizeQLoss\":false,\"adamBeta1\":0.9,"
                    + "\"adamBeta2\":0.999,\"adamEps\":1.0E-8,\"layerNormEps\":1.0E-6}",
            "humanoidmaze-medium-navigate", "{\"learningRate\":3.0E-4,\"batchSize\":256,\"actorHiddenDims\":[512,512,512,512],"
                    + "\"valueHiddenDims\":[512,512,512,512],\"layerNorm\":true,\"actorLayerNorm\":false,\"discount\":0.995,"
                    + "\"tau\":0.005,\"qAgg\":\"MEAN\",\"alpha\":30.0,\"flowSteps\":10,\"normalizeQLoss\":false,\"adamBeta1\":0.9,"
                    + "\"adamBeta2\":0.999,\"adamEps\":1.0E-8,\"layerNormEps\":1.0E-6}");

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everySettingIsDeclaredOnceWithAKeyADocAndItsComponent() {
        RecordComponent[] components = FqlConfig.class.getRecordComponents();
        assertEquals(components.length, FqlConfig.SETTINGS.size(), "one setting per component");
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < components.length; i++) {
            Setting<?> s = FqlConfig.SETTINGS.get(i);
            assertTrue(keys.add(s.key()), "key declared twice: " + s.key());
            assertTrue(s.key().matches("[a-z][a-z0-9_]*"), s.key());
            assertFalse(s.doc().isBlank(), s.key() + " has no doc");
            assertFalse(s.expected().isBlank(), s.key() + " states no accepted values");
            assertEquals(components[i].getName(), s.field(), s.key() + " stands at the wrong component");
            assertEquals(s, FqlConfig.setting(s.key()));
        }
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> FqlConfig.setting("alfa"));
        assertTrue(unknown.getMessage().contains("alfa") && unknown.getMessage().contains("lr"), unknown.getMessage());
    }

    @Test
    void defaultsAreTheTablesAndTheOfficialOnes() {
        FqlConfig d = FqlConfig.defaults();
        for (Setting<?> s : FqlConfig.SETTINGS) {
            assertEquals(s.defaultValue(), s.get(d), s.key());
            assertTrue(s.isDefault(s.get(d)), s.key());
        }
        OFFICIAL.forEach((key, value) -> {
            Setting<?> s = FqlConfig.setting(key);
            assertTrue(s.same(s.fromPlain(value, key), s.defaultValue()), key + ": " + s.defaultValue() + ", officially " + value);
        });
        // the paper's values, spelled out once more
        assertEquals(3e-4, d.learningRate());
        assertEquals(List.of(512, 512, 512, 512), d.actorHiddenDims());
        assertEquals(QAgg.MEAN, d.qAgg());
        assertEquals(1e-6, d.layerNormEps());
    }

    @Test
    void withChangesExactlyItsOwnSetting() {
        FqlConfig d = FqlConfig.defaults();
        for (Setting<?> s : FqlConfig.SETTINGS) {
            Object other = otherValidValue(s);
            FqlConfig changed = d.withPlain(s, other);
            for (Setting<?> t : FqlConfig.SETTINGS) {
                if (t == s) {
                    assertTrue(t.same(t.fromPlain(other, t.key()), t.get(changed)), s.key() + " not set");
                } else {
                    assertEquals(t.get(d), t.get(changed), "setting " + s.key() + " changed " + t.key());
                }
            }
            assertNotEquals(d, changed, s.key());
        }
        assertEquals(d.with(FqlConfig.ALPHA, 3.0), d.withPlain(FqlConfig.ALPHA, 3));
        FqlConfig h = d.withHiddenDims(8, 4);
        assertEquals(List.of(8, 4), h.actorHiddenDims());
        assertEquals(List.of(8, 4), h.valueHiddenDims());
    }

    @Test
    void validationRejectsBadValuesNamingTheKeyAndWhatWasExpected() {
        FqlConfig d = FqlConfig.defaults();
        for (Setting<?> s : FqlConfig.SETTINGS) {
            for (Object bad : badValues(s)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.with(raw(s), bad), s.key() + " = " + bad);
                assertEquals("config '" + s.key() + "' = " + bad + ": expected " + s.expected(), e.getMessage());
            }
        }
        // the messages the train command and the sweeps have always shown
        assertEquals("config 'lr' = 0.0: expected a positive finite number",
                assertThrows(IllegalArgumentException.class, () -> d.with(FqlConfig.LR, 0.0)).getMessage());
        assertEquals("config 'q_agg' = null: expected 'mean' or 'min'",
                assertThrows(IllegalArgumentException.class, () -> d.with(FqlConfig.Q_AGG, null)).getMessage());
        assertEquals("config 'actor_hidden_dims' = [0, 3]: expected a non-empty list of positive widths",
                assertThrows(IllegalArgumentException.class, () -> d.with(FqlConfig.ACTOR_HIDDEN_DIMS, List.of(0, 3))).getMessage());
        assertEquals("q_agg must be 'mean' or 'min', was 'max'",
                assertThrows(IllegalArgumentException.class, () -> FqlConfig.Q_AGG.fromPlain("max", "q_agg")).getMessage());
        // the record's own (canonical) constructor validates the same way
        Object[] components = d.values();
        components[FqlConfig.DISCOUNT.index()] = 1.5;
        assertEquals("config 'discount' = 1.5: expected a number in [0, 1]",
                assertThrows(IllegalArgumentException.class, () -> FqlConfig.create(components)).getMessage());
    }

    @Test
    void configJsonIsByteForByteWhatItWas() throws Exception {
        ObjectMapper pretty = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);   // as RunDirectory writes config.json
        assertEquals(DEFAULTS_CONFIG_JSON, pretty.writeValueAsString(Map.of("fql_config", FqlConfig.defaults())));
        ObjectMapper sorted = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);   // as Checkpoint
        PRESET_JSON.forEach((name, json) -> {
            FqlConfig c = FqlPresets.get(name).config();
            try {
                assertEquals(json, JSON.writeValueAsString(c), name);
                assertEquals("{\"config\":" + json + ",\"step\":1}", sorted.writeValueAsString(Map.of("step", 1, "config", c)), name);
                assertEquals(c, JSON.readValue(json, FqlConfig.class), name);
            } catch (Exception e) {
                throw new AssertionError(name, e);
            }
        });
        for (FqlPresets.Preset p : FqlPresets.all().values()) {
            String json = JSON.writeValueAsString(p.config());
            assertEquals(p.config(), JSON.readValue(json, FqlConfig.class), p.name());
            assertEquals(json, JSON.writeValueAsString(JSON.readValue(json, FqlConfig.class)), p.name());
            assertEquals(JSON.readTree(json), JSON.valueToTree(p.config()), p.name());
        }
    }

    @Test
    void aRecordedConfigWithAnUnknownOrMissingFieldIsRefused() throws Exception {
        String json = JSON.writeValueAsString(FqlConfig.defaults());
        Exception unknown = assertThrows(Exception.class, () -> JSON.readValue(json.replace("\"tau\"", "\"tao\""), FqlConfig.class));
        assertTrue(unknown.getMessage().contains("tao"), unknown.getMessage());
        String withoutTau = json.replace("\"tau\":0.005,", "");
        Exception missing = assertThrows(Exception.class, () -> JSON.readValue(withoutTau, FqlConfig.class));
        assertTrue(missing.getMessage().contains("tau"), missing.getMessage());
        Exception bad = assertThrows(Exception.class, () -> JSON.readValue(json.replace("\"tau\":0.005", "\"tau\":2.0"), FqlConfig.class));
        assertTrue(bad.getMessage().contains("config 'tau' = 2.0"), bad.getMessage());
    }

    @Test
    void aSettingAddedLaterLeavesTheRecordsOfEarlierRunsAsTheyWere() throws Exception {
        // Settings marked omittedAtDefault (added after runs were first recorded) are not written at their default, and a
        // record without them reads as the default: config.json files and checkpoints of earlier runs still resume.
        FqlConfig d = FqlConfig.defaults();
        String json = JSON.writeValueAsString(d);
        for (Setting<?> s : FqlConfig.SETTINGS) {
            if (!s.isOmittedAtDefault()) {
                assertTrue(json.contains("\"" + s.field() + "\":"), s.key() + " is always recorded");
                continue;
            }
            assertFalse(json.contains("\"" + s.field() + "\""), s.key() + " recorded at its default: " + json);
            FqlConfig set = d.withPlain(s, otherValidValue(s));
            String written = JSON.writeValueAsString(set);
            assertTrue(written.contains("\"" + s.field() + "\":"), written);
            assertEquals(set, JSON.readValue(written, FqlConfig.class), s.key());
            assertEquals(d, JSON.readValue(json, FqlConfig.class), s.key());
        }
    }

    /** A valid value other than the default, in plain form. */
    static Object otherValidValue(Setting<?> s) {
        Object d = plainDefault(s);
        return switch (s.kind()) {
            case REAL -> ((Double) d) / 2 + (((Double) d) == 0 ? 0.5 : 0);
            case INTEGER -> ((Integer) d) + 1;
            case FLAG -> !((Boolean) d);
            case WIDTHS -> List.of(7, 5);
            case CHOICE -> s.choices().stream().filter(c -> !c.equals(d)).findFirst().orElseThrow();
        };
    }

    /** Values every setting of a kind refuses. */
    static List<Object> badValues(Setting<?> s) {
        return switch (s.kind()) {
            case REAL -> Arrays.asList(-1.0, Double.NaN);
            case INTEGER -> Arrays.asList(0, -3);
            case FLAG -> Arrays.asList((Object) null);
            case WIDTHS -> Arrays.asList(List.of(), List.of(4, 0));
            case CHOICE -> Arrays.asList((Object) null);
        };
    }

    private static <T> Object plainDefault(Setting<T> s) {
        return s.toPlain(s.defaultValue());
    }

    @SuppressWarnings("unchecked")
    private static Setting<Object> raw(Setting<?> s) {
        return (Setting<Object>) s;
    }
}
