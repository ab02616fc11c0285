package org.fqlspark.testing;

import java.util.List;

import org.fqlspark.agent.Setting;

/** Values for tests that walk the settings table. */
public final class SettingValues {

    private SettingValues() {
    }

    /** A valid value of {@code s} other than its default, in plain (YAML/JSON) form. */
    public static Object otherThanDefault(Setting<?> s) {
        Object d = s.defaultValue();
        return switch (s.kind()) {
            case REAL -> (Double) d == 0 ? 0.5 : (Double) d / 2;
            case INTEGER -> (Integer) d + 1;
            case FLAG -> !(Boolean) d;
            case WIDTHS -> List.of(7, 5);
            case CHOICE -> s.choices().stream().filter(c -> !s.isDefault(s.fromPlain(c, c))).findFirst().orElseThrow();
        };
    }
}
