package org.fqlspark.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.Setting;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The hyper-parameter flags of {@code fql train} and {@code fql quickstart}, generated from {@link FqlConfig}'s settings
 * table with picocli's programmatic API: a setting's flag is {@code --<key-with-dashes>} ({@code --value-hidden-dims}),
 * its help line is the setting's doc, its type and parameter label follow the setting's kind. A new tunable setting
 * gets its train flag from the table alone.
 */
public final class SettingOptions {

    private SettingOptions() {
    }

    /**
     * One generated flag.
     *
     * @param key          the override it sets: a setting's key, or {@link ConfigOverrides#HIDDEN_DIMS}
     * @param setting      that setting (null for {@link ConfigOverrides#HIDDEN_DIMS}, which holds widths)
     * @param name         the flag, e.g. {@code --lr}
     * @param defaultValue the command's default as the flag would spell it; null: none (the preset's value)
     */
    public record Flag(String key, Setting<?> setting, String name, String defaultValue) {

        /** A setting's flag, {@code --<key-with-dashes>}, without a default. */
        public static Flag of(Setting<?> setting) {
            return new Flag(setting.key(), setting, flagName(setting.key()), null);
        }

        /** {@code --hidden-dims}: every network's widths, applied before the other width flags. */
        public static Flag hiddenDims() {
            return new Flag(ConfigOverrides.HIDDEN_DIMS, null, flagName(ConfigOverrides.HIDDEN_DIMS), null);
        }

        /** The same flag under another name (the quick start's {@code --hidden}). */
        public Flag named(String flag) {
            return new Flag(key, setting, flag, defaultValue);
        }

        /** The same flag with a default of the command's own. */
        public Flag withDefault(String value) {
            return new Flag(key, setting, name, value);
        }

        Setting.Kind kind() {
            return setting == null ? Setting.Kind.WIDTHS : setting.kind();
        }

        String doc() {
            return setting == null ? ConfigOverrides.HIDDEN_DIMS_DOC : setting.doc();
        }
    }

    /** {@code fql train}'s: {@code --hidden-dims}, then a flag for every tunable setting, in the table's order. */
    public static List<Flag> train() {
        List<Flag> flags = new ArrayList<>();
        flags.add(Flag.hiddenDims());
        FqlConfig.SETTINGS.stream().filter(Setting::tunable).map(Flag::of).forEach(flags::add);
        return List.copyOf(flags);
    }

    /** {@code --value-hidden-dims} for {@code value_hidden_dims}. */
    public static String flagName(String key) {
        return "--" + key.replace('_', '-');
    }

    /**
     * Adds the flags to a command's model, right after its option {@code after} (null: at the end), so that the help
     * lists them where the command's own hyper-parameter options would stand.
     */
    public static void add(CommandSpec spec, List<Flag> flags, String after) {
        List<OptionSpec> tail = new ArrayList<>();
        if (after != null) {
            List<OptionSpec> options = spec.options();
            int at = options.indexOf(spec.findOption(after)) + 1;
            if (at == 0) {
                throw new IllegalStateException(spec.name() + " has no option " + after);
            }
            tail.addAll(options.subList(at, options.size()));
            tail.forEach(spec::remove);
        }
        flags.forEach(f -> spec.addOption(option(f)));
        tail.forEach(spec::addOption);
    }

    static OptionSpec option(Flag f) {
        String description = f.doc() + (f.defaultValue() == null ? "" : " (default: ${DEFAULT-VALUE})");
        OptionSpec.Builder b = OptionSpec.builder(f.name()).description(description);
        switch (f.kind()) {
            case REAL -> b.type(Double.class).paramLabel(label(f));
            case INTEGER -> b.type(Integer.class).paramLabel(label(f));
            case FLAG -> b.type(Boolean.class).arity("0..1").fallbackValue("true").paramLabel("BOOL");
            case WIDTHS -> b.type(List.class).auxiliaryTypes(Integer.class).splitRegex(",").paramLabel("H");
            case CHOICE -> b.type(String.class).paramLabel(String.join("|", f.setting().choices()));
        }
        if (f.defaultValue() != null) {
            b.defaultValue(f.defaultValue());
        }
        return b.build();
    }

    private static String label(Flag f) {
        return "<" + f.key() + ">";
    }

    /**
     * The overrides the parsed flags ask for; a flag not given (and without a default) leaves the preset's value.
     *
     * @throws IllegalArgumentException naming the flag, for a choice it does not know ({@code --q-agg max})
     */
    public static ConfigOverrides overrides(CommandSpec spec, List<Flag> flags) {
        ConfigOverrides overrides = ConfigOverrides.none();
        for (Flag f : flags) {
            Object value = spec.findOption(f.name()).getValue();
            if (value != null && f.setting() != null) {
                value = f.setting().fromPlain(value, f.name());
            }
            overrides = overrides.with(f.key(), value);
        }
        return overrides;
    }

    /** The flags' values for a log line: {@code hidden [64, 64, 64], alpha 3.0, ...}. */
    public static String describe(CommandSpec spec, List<Flag> flags) {
        StringJoiner j = new StringJoiner(", ");
        for (Flag f : flags) {
            Object value = spec.findOption(f.name()).getValue();
            if (value != null) {
                j.add(f.name().substring(2).toLowerCase(Locale.ROOT) + " " + value);
            }
        }
        return j.toString();
    }
}
