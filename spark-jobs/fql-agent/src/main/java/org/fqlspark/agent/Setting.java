package org.fqlspark.agent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One FQL hyper-parameter as {@link FqlConfig}'s table declares it, once: its key (the official code's
 * {@code get_config} name, which is also the sweep configs' {@code agent.<key>} and the train flag
 * {@code --<key-with-dashes>}), its kind, its default, the values it accepts and one line of doc. The command line,
 * the sweep configs, config.json and checkpoints all read the table; none of them lists the settings again.
 *
 * <p>Two marks change how a setting is used: {@linkplain #tunable() fixed} ones keep the preset's value in training
 * (no flag; a sweep config may only repeat the preset's value), and {@linkplain #omittedAtDefault() omitted-at-default}
 * ones (settings added after runs were first recorded) are left out of recorded configs while they hold their default,
 * so that config.json files, checkpoints and sweep trial ids written before the setting existed still match.
 *
 * @param <T> the value's type: {@code Double}, {@code Integer}, {@code Boolean}, {@code List<Integer>} or an enum
 */
public final class Setting<T> {

    /** What a setting holds; it decides the Java type, the YAML/JSON form and how a flag parses. */
    public enum Kind {
        /** a real number ({@code Double}) */
        REAL,
        /** an integer ({@code Integer}) */
        INTEGER,
        /** true or false ({@code Boolean}) */
        FLAG,
        /** hidden-layer widths ({@code List<Integer>}, written H,H,... on the command line) */
        WIDTHS,
        /** one of an enum's constants, written in lower case ({@code mean}) */
        CHOICE
    }

    /** A rule a value must satisfy, and how an error states it ("expected a positive finite number"). */
    public record Rule<V>(Predicate<V> test, String expected) {
    }

    public static final Rule<Double> POSITIVE = new Rule<>(x -> x > 0, "a positive number");
    public static final Rule<Double> POSITIVE_FINITE = new Rule<>(x -> x > 0 && Double.isFinite(x), "a positive finite number");
    public static final Rule<Double> NON_NEGATIVE = new Rule<>(x -> x >= 0, "a non-negative number");
    public static final Rule<Double> NON_NEGATIVE_FINITE = new Rule<>(x -> x >= 0 && Double.isFinite(x),
            "a non-negative finite number");
    public static final Rule<Double> UNIT_INTERVAL = new Rule<>(x -> x >= 0 && x <= 1, "a number in [0, 1]");
    public static final Rule<Double> UNIT_INTERVAL_OPEN = new Rule<>(x -> x >= 0 && x < 1, "a number in [0, 1)");
    public static final Rule<Integer> POSITIVE_INTEGER = new Rule<>(x -> x > 0, "a positive integer");
    static final Rule<List<Integer>> WIDTHS = new Rule<>(w -> !w.isEmpty() && w.stream().allMatch(h -> h != null && h > 0),
            "a non-empty list of positive widths");

    private final String key;
    private final Kind kind;
    private final Class<? extends Enum<?>> choices;
    private final T defaultValue;
    private final Rule<T> rule;
    private final String doc;
    private final Function<FqlConfig, T> accessor;
    private final boolean tunable;
    private final boolean omittedAtDefault;
    private final int index;
    private final String field;

    private Setting(String key, Kind kind, Class<? extends Enum<?>> choices, T defaultValue, Rule<T> rule, String doc,
                    Function<FqlConfig, T> accessor, boolean tunable, boolean omittedAtDefault, int index, String field) {
        if (!key.matches("[a-z][a-z0-9]*(_[a-z0-9]+)*")) {
            throw new IllegalArgumentException("setting key '" + key + "' is not snake_case");
        }
        if (doc.isBlank()) {
            throw new IllegalArgumentException("setting '" + key + "' has no doc");
        }
        this.key = key;
        this.kind = kind;
        this.choices = choices;
        this.defaultValue = Objects.requireNonNull(defaultValue, key);
        this.rule = rule;
        this.doc = doc;
        this.accessor = accessor;
        this.tunable = tunable;
        this.omittedAtDefault = omittedAtDefault;
        this.index = index;
        this.field = field;
    }

    // ------------------------------------------------------------------ declaring (FqlConfig's table)

    static Setting<Double> real(String key, Function<FqlConfig, Double> get, double def, Rule<Double> rule, String doc) {
        return new Setting<>(key, Kind.REAL, null, def, rule, doc, get, true, false, -1, null);
    }

    static Setting<Integer> integer(String key, Function<FqlConfig, Integer> get, int def, Rule<Integer> rule, String doc) {
        return new Setting<>(key, Kind.INTEGER, null, def, rule, doc, get, true, false, -1, null);
    }

    static Setting<Boolean> flag(String key, Function<FqlConfig, Boolean> get, boolean def, String doc) {
        return new Setting<>(key, Kind.FLAG, null, def, new Rule<>(b -> true, "true or false"), doc, get, true, false, -1, null);
    }

    static Setting<List<Integer>> widths(String key, Function<FqlConfig, List<Integer>> get, List<Integer> def, String doc) {
        return new Setting<>(key, Kind.WIDTHS, null, List.copyOf(def), WIDTHS, doc, get, true, false, -1, null);
    }

    static <E extends Enum<E>> Setting<E> choice(String key, Function<FqlConfig, E> get, Class<E> type, E def, String doc) {
        String expected = String.join(" or ", Arrays.stream(type.getEnumConstants()).map(e -> "'" + lower(e) + "'").toList());
        return new Setting<>(key, Kind.CHOICE, type, def, new Rule<>(e -> true, expected), doc, get, true, false, -1, null);
    }

    /** This setting, kept at the preset's value in training: no train flag, and a sweep config may only repeat it. */
    Setting<T> fixed() {
        return new Setting<>(key, kind, choices, defaultValue, rule, doc, accessor, false, omittedAtDefault, index, field);
    }

    /**
     * This setting, left out of recorded configs (config.json, checkpoints, a sweep's resolved agent section) while it
     * holds its default, and read as the default where a record lacks it: the mark of a setting added after runs were
     * first recorded, so that those runs still resume and their sweep trials keep their ids.
     */
    Setting<T> omittedAtDefault() {
        return new Setting<>(key, kind, choices, defaultValue, rule, doc, accessor, tunable, true, index, field);
    }

    /** This setting as the {@code index}-th component of {@link FqlConfig}, whose JSON field is {@code field}. */
    Setting<T> at(int index, String field) {
        return new Setting<>(key, kind, choices, defaultValue, rule, doc, accessor, tunable, omittedAtDefault, index, field);
    }

    // ------------------------------------------------------------------ reading

    /** The official name: the sweep configs' {@code agent.<key>}, the train flag {@code --<key-with-dashes>}. */
    public String key() {
        return key;
    }

    public Kind kind() {
        return kind;
    }

    /** The paper's value ({@link FqlConfig#defaults()}). */
    public T defaultValue() {
        return defaultValue;
    }

    /** One line: what the setting does. */
    public String doc() {
        return doc;
    }

    /** What a valid value is, as error messages say it ("a positive finite number"). */
    public String expected() {
        return rule.expected();
    }

    /** Whether training may change it over a preset (a train flag, a sweep's {@code agent.<key>}). */
    public boolean tunable() {
        return tunable;
    }

    /** Whether recorded configs leave it out while it holds its default (see {@link #omittedAtDefault()}). */
    public boolean isOmittedAtDefault() {
        return omittedAtDefault;
    }

    /** The record component of {@link FqlConfig} that holds it, which is also its field in config.json and checkpoints. */
    public String field() {
        return field;
    }

    int index() {
        return index;
    }

    /** The lower-case names a {@link Kind#CHOICE} accepts ({@code [mean, min]}); empty for the other kinds. */
    public List<String> choices() {
        return choices == null ? List.of() : Arrays.stream(choices.getEnumConstants()).map(Setting::lower).toList();
    }

    public T get(FqlConfig config) {
        return accessor.apply(config);
    }

    /** Whether two values are the same setting value (reals compare as numbers, so 10 and 10.0 are one). */
    public boolean same(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y && kind == Kind.REAL) {
            return x.doubleValue() == y.doubleValue();
        }
        return Objects.equals(a, b);
    }

    public boolean isDefault(Object value) {
        return same(value, defaultValue);
    }

    // ------------------------------------------------------------------ checking and converting

    /** Throws, naming the key and what was expected, unless {@code value} is valid. */
    void check(Object value) {
        if (value == null || !rule.test().test(cast(value))) {
            throw new IllegalArgumentException("config '" + key + "' = " + value + ": expected " + rule.expected());
        }
    }

    /**
     * The setting's value from its plain (YAML/JSON) form: a number, a boolean, a list of integers, or a choice's name
     * in any case; a value already of the setting's type passes. Null stays null.
     *
     * @param name what to call the value in an error ({@code --q-agg}, {@code agent.q_agg})
     * @throws IllegalArgumentException naming {@code name} and what it must be
     */
    public T fromPlain(Object plain, String name) {
        if (plain == null) {
            return null;
        }
        Object value = switch (kind) {
            case REAL -> plain instanceof Number n ? (Object) n.doubleValue() : null;
            case INTEGER -> integral(plain);
            case FLAG -> plain instanceof Boolean ? plain : null;
            case WIDTHS -> widthList(plain);
            case CHOICE -> choice(plain);
        };
        if (value == null) {
            String what = switch (kind) {
                case REAL -> "a number";
                case INTEGER -> "an integer";
                case FLAG -> "true or false";
                case WIDTHS -> "a list of integer widths";
                case CHOICE -> rule.expected();
            };
            throw new IllegalArgumentException(name + " must be " + what + ", was " + (kind == Kind.CHOICE ? "'" + plain + "'" : plain));
        }
        return cast(value);
    }

    /** The plain (YAML) form of a value: a choice as its lower-case name, anything else as it is. */
    public Object toPlain(T value) {
        return value instanceof Enum<?> e ? lower(e) : value;
    }

    @SuppressWarnings("unchecked")
    T cast(Object value) {
        return (T) value;
    }

    private static Integer integral(Object plain) {
        if (plain instanceof Integer || plain instanceof Short || plain instanceof Byte) {
            return ((Number) plain).intValue();
        }
        if (plain instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) <= Integer.MAX_VALUE) {
            return n.intValue();
        }
        return null;
    }

    private static List<Integer> widthList(Object plain) {
        if (!(plain instanceof List<?> list)) {
            return null;
        }
        List<Integer> widths = new ArrayList<>();
        for (Object w : list) {
            Integer i = integral(w);
            if (i == null) {
                return null;
            }
            widths.add(i);
        }
        return List.copyOf(widths);
    }

    private Object choice(Object plain) {
        if (choices.isInstance(plain)) {
            return plain;
        }
        if (plain instanceof String s) {
            for (Enum<?> e : choices.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(s.trim())) {
                    return e;
                }
            }
        }
        return null;
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return key;
    }
}
