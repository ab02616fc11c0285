package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.FqlPresets;
import org.fqlspark.agent.QAgg;
import org.fqlspark.agent.Setting;
import org.fqlspark.testing.SettingValues;
import org.junit.jupiter.api.Test;
import org.fqlspark.run.RunDirectory;

/** Overrides are keyed by the settings table: every tunable setting, plus hidden_dims; config.json's form reads back. */
class ConfigOverridesTest {

    @Test
    void everyTunableSettingIsAnOverrideAndNoFixedOneIs() {
        FqlConfig base = FqlPresets.get("default").config();
        for (Setting<?> s : FqlConfig.SETTINGS) {
            Object other = SettingValues.otherThanDefault(s);
            if (s.tunable()) {
                FqlConfig c = ConfigOverrides.none().with(s.key(), other).applyTo(base);
                assertTrue(s.same(s.fromPlain(other, s.key()), s.get(c)), s.key());
                assertEquals(base.withPlain(s, other), c, s.key());
            } else {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConfigOverrides.none().with(s.key(), other));
                assertTrue(e.getMessage().contains(s.key()), e.getMessage());
            }
        }
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> ConfigOverrides.none().with("alfa", 3.0));
        assertTrue(unknown.getMessage().contains("'alfa'") && unknown.getMessage().contains("alpha"), unknown.getMessage());
        assertEquals(base, ConfigOverrides.none().applyTo(base));
    }

    @Test
    void hiddenDimsSetsEveryNetworkFirstAndTheActorAndValueWidthsRefineIt() {
        FqlConfig base = FqlConfig.defaults();
        ConfigOverrides o = ConfigOverrides.none().with(FqlConfig.VALUE_HIDDEN_DIMS, List.of(24)).withHiddenDims(List.of(16, 16));
        FqlConfig c = o.applyTo(base);
        assertEquals(List.of(16, 16), c.actorHiddenDims());
        assertEquals(List.of(24), c.valueHiddenDims());
        assertEquals(List.of("hidden_dims", "value_hidden_dims"), List.copyOf(o.values().keySet()), "hidden_dims first");
        assertEquals(List.of(8), o.with(FqlConfig.ACTOR_HIDDEN_DIMS, List.of(8)).applyTo(base).actorHiddenDims());
    }

    @Test
    void laterOverridesWinKeyByKey() {
        ConfigOverrides saved = ConfigOverrides.none().with(FqlConfig.ALPHA, 3.0).withHiddenDims(List.of(16, 16))
                .with(FqlConfig.VALUE_HIDDEN_DIMS, List.of(24));
        ConfigOverrides given = ConfigOverrides.none().with(FqlConfig.ALPHA, 30.0).withHiddenDims(List.of(8));
        FqlConfig c = saved.overriddenBy(given).applyTo(FqlConfig.defaults());
        assertEquals(30.0, c.alpha());
        assertEquals(List.of(8), c.actorHiddenDims());
        assertEquals(List.of(24), c.valueHiddenDims(), "the saved critic widths still apply after the new hidden_dims");
        assertEquals(saved, saved.overriddenBy(ConfigOverrides.none()));
    }

    @Test
    void configJsonOverridesOfEarlierRunsReadBack() {
        // train.overrides as config.json files have recorded them (keys in the old record's order, q_agg as the enum's name)
        Map<String, Object> recorded = new LinkedHashMap<>();
        recorded.put("alpha", 3.0);
        recorded.put("discount", 0.995);
        recorded.put("q_agg", "MIN");
        recorded.put("normalize_q_loss", true);
        recorded.put("hidden_dims", List.of(16, 16));
        recorded.put("batch_size", 32);
        recorded.put("flow_steps", 3);
        recorded.put("lr", 1e-3);
        recorded.put("tau", 0.1);
        recorded.put("value_hidden_dims", List.of(24));
        ConfigOverrides o = RunDirectory.JSON.convertValue(recorded, ConfigOverrides.class);
        FqlConfig c = o.applyTo(FqlConfig.defaults());
        FqlConfig expected = FqlConfig.defaults().withHiddenDims(16, 16).with(FqlConfig.VALUE_HIDDEN_DIMS, List.of(24))
                .with(FqlConfig.ALPHA, 3.0).with(FqlConfig.DISCOUNT, 0.995).with(FqlConfig.Q_AGG, QAgg.MIN)
                .with(FqlConfig.NORMALIZE_Q_LOSS, true).with(FqlConfig.BATCH_SIZE, 32).with(FqlConfig.FLOW_STEPS, 3)
                .with(FqlConfig.LR, 1e-3).with(FqlConfig.TAU, 0.1);
        assertEquals(expected, c);
        // written back: the same values (q_agg still as the enum's name), and they read back to the same overrides
        Map<String, Object> written = RunDirectory.JSON.convertValue(o, Map.class);
        assertEquals(new java.util.HashMap<>(recorded), new java.util.HashMap<>(written));
        assertEquals(o, RunDirectory.JSON.convertValue(written, ConfigOverrides.class));
        assertEquals(o, RunDirectory.JSON.convertValue(o.asMap(), ConfigOverrides.class));
        assertThrows(IllegalArgumentException.class, () -> RunDirectory.JSON.convertValue(Map.of("q_agg", "max"), ConfigOverrides.class));
    }
}
