package org.fqlspark.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.Setting;

/**
 * Hyper-parameters set over a preset (train flags, a sweep's agent keys, config.json's {@code overrides}): setting key
 * → value, a key left out keeping the preset's value. The keys are the {@linkplain Setting#tunable() tunable} settings
 * of {@link FqlConfig}'s table, plus {@value #HIDDEN_DIMS}, which sets every network's widths and is applied first (so
 * {@code actor_hidden_dims} and {@code value_hidden_dims} refine it). Validation happens in {@link FqlConfig}'s
 * constructor when they are applied.
 *
 * @param values key → value (in the setting's type; plain JSON values are converted), ordered: {@value #HIDDEN_DIMS},
 *               then the table's order
 */
public record ConfigOverrides(Map<String, Object> values) {

    /** Not a setting: every network's widths at once (the train command's {@code --hidden-dims}). */
    public static final String HIDDEN_DIMS = "hidden_dims";
    /** What {@value #HIDDEN_DIMS} does, for help texts. */
    public static final String HIDDEN_DIMS_DOC = "hidden widths of every network (e.g. 512,512,512,512); actor and value "
            + "widths given as well apply after it";

    public ConfigOverrides {
        Map<String, Object> ordered = new LinkedHashMap<>();
        Object hidden = values.get(HIDDEN_DIMS);
        if (hidden != null) {
            ordered.put(HIDDEN_DIMS, FqlConfig.ACTOR_HIDDEN_DIMS.fromPlain(hidden, HIDDEN_DIMS));
        }
        for (Setting<?> s : FqlConfig.SETTINGS) {
            Object v = values.get(s.key());
            if (v != null) {
                if (!s.tunable()) {
                    throw new IllegalArgumentException(s.key() + " is fixed by the preset; it cannot be overridden");
                }
                ordered.put(s.key(), s.fromPlain(v, s.key()));
            }
        }
        for (String key : values.keySet()) {
            if (!ordered.containsKey(key) && values.get(key) != null) {
                throw new IllegalArgumentException("unknown override '" + key + "'; known: " + HIDDEN_DIMS + ", "
                        + String.join(", ", FqlConfig.SETTINGS.stream().filter(Setting::tunable).map(Setting::key).toList()));
            }
        }
        values = Collections.unmodifiableMap(ordered);
    }

    /** From config.json's {@code overrides} (plain JSON values). */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static ConfigOverrides fromJson(Map<String, Object> json) {
        return new ConfigOverrides(json);
    }

    public static ConfigOverrides none() {
        return new ConfigOverrides(Map.of());
    }

    /** These overrides with {@code setting} set to {@code value} (null: left to the preset). */
    public <T> ConfigOverrides with(Setting<T> setting, T value) {
        return with(setting.key(), value);
    }

    /** These overrides with every network's widths set (null: left to the preset). */
    public ConfigOverrides withHiddenDims(List<Integer> widths) {
        return with(HIDDEN_DIMS, widths);
    }

    /** With a setting's key or {@value #HIDDEN_DIMS} set to a (plain or typed) value; null removes it. */
    public ConfigOverrides with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        if (value == null) {
            m.remove(key);
        } else {
            m.put(key, value);
        }
        return new ConfigOverrides(m);
    }

    /** The override of {@code setting}, or null. */
    public <T> T get(Setting<T> setting) {
        return setting.fromPlain(values.get(setting.key()), setting.key());
    }

    /** {@code base} with every override applied, {@value #HIDDEN_DIMS} first. */
    public FqlConfig applyTo(FqlConfig base) {
        FqlConfig c = base;
        for (Map.Entry<String, Object> e : values.entrySet()) {
            c = e.getKey().equals(HIDDEN_DIMS)
                    ? c.withPlain(FqlConfig.ACTOR_HIDDEN_DIMS, e.getValue()).withPlain(FqlConfig.VALUE_HIDDEN_DIMS, e.getValue())
                    : c.withPlain(FqlConfig.setting(e.getKey()), e.getValue());
        }
        return c;
    }

    /** {@code this} with every override of {@code over} replacing its own. */
    public ConfigOverrides overriddenBy(ConfigOverrides over) {
        Map<String, Object> m = new LinkedHashMap<>(values);
        m.putAll(over.values);
        return new ConfigOverrides(m);
    }

    /** As config.json records them ({@code train.overrides}). */
    @JsonValue
    Map<String, Object> asMap() {
        return values;
    }
}
