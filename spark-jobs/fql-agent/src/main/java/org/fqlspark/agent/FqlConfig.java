package org.fqlspark.agent;

import static org.fqlspark.agent.Setting.NON_NEGATIVE;
import static org.fqlspark.agent.Setting.NON_NEGATIVE_FINITE;
import static org.fqlspark.agent.Setting.POSITIVE;
import static org.fqlspark.agent.Setting.POSITIVE_FINITE;
import static org.fqlspark.agent.Setting.POSITIVE_INTEGER;
import static org.fqlspark.agent.Setting.UNIT_INTERVAL;
import static org.fqlspark.agent.Setting.UNIT_INTERVAL_OPEN;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

/**
 * FQL hyper-parameters with the paper's defaults (docs/algorithm.md §4.1, code {@code get_config}). Each one is declared once, in
 * the table below ({@link Setting}: key, default, accepted values, doc); validation, {@link #defaults()},
 * {@link #with}, the JSON of config.json and checkpoints, the train and quickstart flags and the sweep configs'
 * {@code agent.<key>} all come from it. Validated on construction, so an agent never sees a negative discount or an
 * empty network.
 *
 * <p>A new hyper-parameter is a record component, its name in the compact constructor's {@code validate(...)} call
 * and a line in the table, all in the order of the components; then the code that uses it.
 */
@JsonSerialize(using = SettingJson.ConfigWriter.class)
@JsonDeserialize(using = SettingJson.ConfigReader.class)
public record FqlConfig(
        double learningRate,
        int batchSize,
        List<Integer> actorHiddenDims,
        List<Integer> valueHiddenDims,
        boolean layerNorm,
        boolean actorLayerNorm,
        double discount,
        double tau,
        QAgg qAgg,
        double alpha,
        int flowSteps,
        boolean normalizeQLoss,
        double adamBeta1,
        double adamBeta2,
        double adamEps,
        double layerNormEps,
        double maxGradNorm,
        int horizonLength) {

    /** The critic ensemble size is fixed at two in FQL. */
    public static final int CRITIC_ENSEMBLE = 2;

    private static final RecordComponent[] COMPONENTS = FqlConfig.class.getRecordComponents();
    private static final List<Setting<?>> TABLE = new ArrayList<>();

    // The hyper-parameters, one line each, in the order of the record components: key (the official get_config's),
    // default, accepted values, doc. fixed(): training keeps the preset's value (no flag; sweeps may only repeat it).
    public static final Setting<Double> LR = add(Setting.real("lr", FqlConfig::learningRate, 3e-4, POSITIVE_FINITE,
            "Adam learning rate"));
    public static final Setting<Integer> BATCH_SIZE = add(Setting.integer("batch_size", FqlConfig::batchSize, 256,
            POSITIVE_INTEGER, "batch size per worker"));
    public static final Setting<List<Integer>> ACTOR_HIDDEN_DIMS = add(Setting.widths("actor_hidden_dims",
            FqlConfig::actorHiddenDims, List.of(512, 512, 512, 512), "hidden widths of both actors (the BC flow and the one-step policy)"));
    public static final Setting<List<Integer>> VALUE_HIDDEN_DIMS = add(Setting.widths("value_hidden_dims",
            FqlConfig::valueHiddenDims, List.of(512, 512, 512, 512), "hidden widths of the critic (each of its two members)"));
    public static final Setting<Boolean> LAYER_NORM = add(Setting.flag("layer_norm", FqlConfig::layerNorm, true,
            "LayerNorm after each hidden GELU of the critic").fixed());
    public static final Setting<Boolean> ACTOR_LAYER_NORM = add(Setting.flag("actor_layer_norm", FqlConfig::actorLayerNorm, false,
            "LayerNorm in the actors too (off in the paper)").fixed());
    public static final Setting<Double> DISCOUNT = add(Setting.real("discount", FqlConfig::discount, 0.99, UNIT_INTERVAL,
            "discount factor"));
    public static final Setting<Double> TAU = add(Setting.real("tau", FqlConfig::tau, 0.005, UNIT_INTERVAL,
            "target critic Polyak rate"));
    public static final Setting<QAgg> Q_AGG = add(Setting.choice("q_agg", FqlConfig::qAgg, QAgg.class, QAgg.MEAN,
            "aggregation of the two critics in the TD target"));
    public static final Setting<Double> ALPHA = add(Setting.real("alpha", FqlConfig::alpha, 10.0, NON_NEGATIVE_FINITE,
            "distillation (BC) coefficient"));
    public static final Setting<Integer> FLOW_STEPS = add(Setting.integer("flow_steps", FqlConfig::flowSteps, 10,
            POSITIVE_INTEGER, "Euler steps of the BC flow"));
    public static final Setting<Boolean> NORMALIZE_Q_LOSS = add(Setting.flag("normalize_q_loss", FqlConfig::normalizeQLoss, false,
            "divide the actor's Q loss by mean |Q|"));
    public static final Setting<Double> ADAM_B1 = add(Setting.real("adam_b1", FqlConfig::adamBeta1, 0.9, UNIT_INTERVAL_OPEN,
            "Adam beta1 (optax's default)").fixed());
    public static final Setting<Double> ADAM_B2 = add(Setting.real("adam_b2", FqlConfig::adamBeta2, 0.999, UNIT_INTERVAL_OPEN,
            "Adam beta2 (optax's default)").fixed());
    public static final Setting<Double> ADAM_EPS = add(Setting.real("adam_eps", FqlConfig::adamEps, 1e-8, NON_NEGATIVE,
            "Adam epsilon (optax's default)").fixed());
    public static final Setting<Double> LN_EPS = add(Setting.real("ln_eps", FqlConfig::layerNormEps, 1e-6, POSITIVE,
            "LayerNorm epsilon (flax's default)").fixed());
    public static final Setting<Double> MAX_GRAD_NORM = add(Setting.real("max_grad_norm", FqlConfig::maxGradNorm, 0.0,
            NON_NEGATIVE_FINITE, "clip the gradient to this global L2 norm before Adam; 0: no clipping (the official code)")
            .omittedAtDefault());
    public static final Setting<Integer> HORIZON_LENGTH = add(Setting.integer("horizon_length", FqlConfig::horizonLength, 1,
            POSITIVE_INTEGER, "action chunk length h (QC-FQL, docs/algorithm.md §11); 1: FQL").omittedAtDefault());

    /** Every setting, in the order of the record components. */
    public static final List<Setting<?>> SETTINGS = List.copyOf(TABLE);

    private static final Map<String, Setting<?>> BY_KEY = new LinkedHashMap<>();
    private static final Constructor<FqlConfig> CANONICAL;
    private static final FqlConfig DEFAULTS;

    static {
        if (SETTINGS.size() != COMPONENTS.length) {
            throw new IllegalStateException("FqlConfig has " + COMPONENTS.length + " components but " + SETTINGS.size() + " settings");
        }
        SETTINGS.forEach(s -> BY_KEY.put(s.key(), s));
        try {
            CANONICAL = FqlConfig.class.getDeclaredConstructor(Arrays.stream(COMPONENTS).map(RecordComponent::getType).toArray(Class[]::new));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        DEFAULTS = create(SETTINGS.stream().map(Setting::defaultValue).toArray());
        for (Setting<?> s : SETTINGS) {   // each line reads the component it stands at
            try {
                Object viaComponent = COMPONENTS[s.index()].getAccessor().invoke(DEFAULTS);
                if (!s.same(viaComponent, s.get(DEFAULTS))) {
                    throw new IllegalStateException("setting '" + s.key() + "' does not read component " + s.field());
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public FqlConfig {
        actorHiddenDims = List.copyOf(actorHiddenDims);
        valueHiddenDims = List.copyOf(valueHiddenDims);
        validate(learningRate, batchSize, actorHiddenDims, valueHiddenDims, layerNorm, actorLayerNorm, discount, tau, qAgg,
                alpha, flowSteps, normalizeQLoss, adamBeta1, adamBeta2, adamEps, layerNormEps, maxGradNorm, horizonLength);
        if (normalizeQLoss && horizonLength > 1) {
            throw new IllegalArgumentException("normalize_q_loss must be false with horizon_length " + horizonLength
                    + " (action chunking, QC-FQL, has no Q-loss normalisation), was true");
        }
    }

    /** Checks each component against its setting's rule, in order; the message names the key and what was expected. */
    private static void validate(Object... components) {
        if (components.length != SETTINGS.size()) {
            throw new IllegalStateException("FqlConfig validates " + components.length + " of its " + SETTINGS.size() + " settings");
        }
        for (int i = 0; i < components.length; i++) {
            SETTINGS.get(i).check(components[i]);
        }
    }

    private static <T> Setting<T> add(Setting<T> s) {
        int i = TABLE.size();
        if (i >= COMPONENTS.length) {
            throw new IllegalStateException("setting '" + s.key() + "' has no record component");
        }
        Class<?> type = COMPONENTS[i].getType();
        boolean fits = switch (s.kind()) {
            case REAL -> type == double.class;
            case INTEGER -> type == int.class;
            case FLAG -> type == boolean.class;
            case WIDTHS -> type == List.class;
            case CHOICE -> type.isEnum() && type.isInstance(s.defaultValue());
        };
        if (!fits) {
            throw new IllegalStateException("setting '" + s.key() + "' (" + s.kind() + ") stands at component " + COMPONENTS[i].getName()
                    + " of type " + type.getSimpleName());
        }
        Setting<T> placed = s.at(i, COMPONENTS[i].getName());
        TABLE.add(placed);
        return placed;
    }

    /** The paper's defaults: lr 3e-4, batch 256, 4×512 networks, γ 0.99, τ 0.005, mean, α 10, 10 flow steps. */
    public static FqlConfig defaults() {
        return DEFAULTS;
    }

    /** The setting named {@code key} (an official name, e.g. {@code value_hidden_dims}). */
    public static Setting<?> setting(String key) {
        Setting<?> s = BY_KEY.get(key);
        if (s == null) {
            throw new IllegalArgumentException("unknown FQL setting '" + key + "'; known: " + String.join(", ", BY_KEY.keySet()));
        }
        return s;
    }

    /** This config with one setting changed (validated as any config). */
    public <T> FqlConfig with(Setting<T> setting, T value) {
        Object[] values = values();
        values[setting.index()] = value;
        return create(values);
    }

    /** This config with one setting changed to a plain (YAML/JSON) value, e.g. 3 for {@code alpha} or "min" for {@code q_agg}. */
    public FqlConfig withPlain(Setting<?> setting, Object plain) {
        Object[] values = values();
        values[setting.index()] = setting.fromPlain(plain, setting.key());
        return create(values);
    }

    /** Same widths for both actors and the critic members (the train command's {@code --hidden-dims}). */
    public FqlConfig withHiddenDims(int... dims) {
        List<Integer> h = Arrays.stream(dims).boxed().toList();
        return with(ACTOR_HIDDEN_DIMS, h).with(VALUE_HIDDEN_DIMS, h);
    }

    /** Every setting's value, in the order of the components. */
    Object[] values() {
        return SETTINGS.stream().map(s -> s.get(this)).toArray();
    }

    /** A config from every setting's value, in the order of the components. */
    static FqlConfig create(Object[] values) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) {
                SETTINGS.get(i).check(null);   // the usual message rather than the constructor's type error
            }
        }
        try {
            return CANONICAL.newInstance(values);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
