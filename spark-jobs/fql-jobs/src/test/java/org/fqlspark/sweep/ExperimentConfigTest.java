package org.fqlspark.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.FqlPresets;
import org.fqlspark.agent.Setting;
import org.fqlspark.testing.SettingValues;
import org.junit.jupiter.api.Test;

/** Every setting of the table is an {@code agent.<key>} of the experiment configs. */
class ExperimentConfigTest {

    private static final String BASE = "data: /data/maze\npreset: antmaze-large-navigate\nevaluate: {env: pointmaze-medium}\n";

    private static ExperimentConfig resolved(String yaml) {
        List<SweepSpec.Trial> trials = SweepSpec.parse(yaml, null, new Configuration()).trials();
        assertEquals(1, trials.size());
        return trials.get(0).config();
    }

    private static String agent(String key, Object plain) throws Exception {
        return BASE + "agent: {" + key + ": " + SweepFiles.JSON.writeValueAsString(plain) + "}\n";
    }

    @Test
    void aResolvedConfigWritesEverySettingInTheTablesOrder() {
        ExperimentConfig c = resolved(BASE);
        FqlConfig preset = FqlPresets.get("antmaze-large-navigate").config();
        Map<String, Object> agent = SweepFiles.JSON.convertValue(c.agent(), SweepFiles.MAP);
        // every setting, but those added later only when they differ from their default (so trial ids stay as they were)
        List<String> written = FqlConfig.SETTINGS.stream().filter(s -> !s.isOmittedAtDefault() || !s.isDefault(s.get(preset)))
                .map(Setting::key).toList();
        assertEquals(written, List.copyOf(agent.keySet()));
        for (String key : written) {
            Setting<?> s = FqlConfig.setting(key);
            assertTrue(s.same(s.fromPlain(agent.get(key), key), s.get(preset)), key);
        }
        assertEquals("min", c.agent().get("q_agg"));
        assertEquals(preset, c.fqlConfig());
    }

    @Test
    void everyTunableKeyChangesItsSettingAndEveryFixedOneMustRepeatThePreset() throws Exception {
        FqlConfig preset = FqlPresets.get("antmaze-large-navigate").config();
        for (Setting<?> s : FqlConfig.SETTINGS) {
            Object other = SettingValues.otherThanDefault(s);
            if (s.tunable()) {
                ExperimentConfig c = resolved(agent(s.key(), other));
                assertEquals(preset.withPlain(s, other), c.fqlConfig(), s.key());
                assertEquals(c.fqlConfig(), c.trainOptions("/runs/x", false).resolvedConfig(), s.key());
            } else {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolved(agent(s.key(), other)));
                assertTrue(e.getMessage().contains("agent." + s.key()) && e.getMessage().contains("training cannot change it"),
                        e.getMessage());
            }
            Object same = plain(s, preset);
            assertEquals(resolved(BASE).fqlConfig(), resolved(agent(s.key(), same)).fqlConfig(), s.key() + " at the preset's value");
        }
    }

    @Test
    void aBadAgentValueIsRefusedNamingItsKey() throws Exception {
        for (Setting<?> s : FqlConfig.SETTINGS) {
            Object bad = switch (s.kind()) {
                case REAL -> -1.0;
                case INTEGER -> 0;
                case WIDTHS -> List.of(0);
                case CHOICE -> "nope";
                case FLAG -> "maybe";
            };
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolved(agent(s.key(), bad)), s.key());
            assertTrue(e.getMessage().contains(s.key()) || e.getMessage().contains("Boolean"), s.key() + ": " + e.getMessage());
        }
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> resolved(BASE + "agent: {alfa: 3}\n"));
        assertTrue(unknown.getMessage().contains("unknown key 'agent.alfa'"), unknown.getMessage());
        for (Setting<?> s : FqlConfig.SETTINGS) {
            assertTrue(unknown.getMessage().contains(s.key()), "known keys list " + s.key() + ": " + unknown.getMessage());
        }
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class, () -> resolved(BASE + "agent: {alpha: abc}\n"));
        assertTrue(type.getMessage().contains("Cannot deserialize value of type `java.lang.Double` from String \"abc\""), type.getMessage());
    }

    private static <T> Object plain(Setting<T> s, FqlConfig c) {
        return s.toPlain(s.get(c));
    }
}
