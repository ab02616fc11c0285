package org.fqlspark.sweep;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.FqlPresets;
import org.fqlspark.agent.Setting;
import org.fqlspark.agent.SettingJson;
import org.fqlspark.eval.EvalOptions;
import org.fqlspark.eval.Policy;
import org.fqlspark.tensor.Backends;
import org.fqlspark.train.ConfigOverrides;
import org.fqlspark.train.TrainOptions;

/**
 * One experiment as a file ({@code deploy/configs/<dataset>.yaml}): the dataset, the preset and every FQL
 * hyper-parameter, the training and the evaluation settings. A sweep trial is one of these, fully resolved.
 *
 * <pre>
 * name: antmaze-large-navigate          # a label; not part of the trial id
 * data: s3a://fql/data/antmaze-large-navigate-v0
 * preset: antmaze-large-navigate        # FqlPresets name; agent keys left out take its values
 * agent:   {lr, batch_size, actor_hidden_dims, ...}   # every setting of FqlConfig's table, by its key
 * train:   {steps, workers, averaging_frequency, checkpoint_every, keep_checkpoints, threads_per_worker,
 *           aggregation_depth, seed, backend}   # backend: auto|cpu|opencl, as --backend; not part of the trial id
 * evaluate: {env, episodes, seed, partitions, max_episode_steps, bridge_startup_timeout_seconds, bridge_timeout_seconds,
 *            policy}                    # one-step (FQL's protocol, the default) or flow-bc (the BC flow baseline)
 * </pre>
 *
 * <p>The train command changes a preset through {@link ConfigOverrides}: every {@linkplain Setting#tunable() tunable}
 * setting. The fixed ones (LayerNorm, Adam's and LayerNorm's constants) are written out so that a config file states
 * the whole model, but must equal the preset's values: {@link #resolve()} refuses a file that asks for something
 * training would silently not do.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "data", "preset", "agent", "train", "evaluate"})
public record ExperimentConfig(
        @JsonProperty("name") String name,
        @JsonProperty("data") String data,
        @JsonProperty("preset") String preset,
        @JsonProperty("agent") Agent agent,
        @JsonProperty("train") Train train,
        @JsonProperty("evaluate") Evaluate evaluate) {

    /**
     * FQL hyper-parameters by key (each a setting of {@link FqlConfig}'s table, its value in plain YAML form: a number,
     * a boolean, a width list, a choice's lower-case name); a key left out takes the preset's value. Written in the
     * table's order; a key that is not a setting is refused, naming it and the known keys.
     */
    @JsonSerialize(using = AgentWriter.class)
    @JsonDeserialize(using = AgentReader.class)
    public static final class Agent {
        private final Map<String, Object> values;

        Agent(Map<String, Object> values) {
            Map<String, Object> ordered = new LinkedHashMap<>();
            for (Setting<?> s : FqlConfig.SETTINGS) {
                if (values.get(s.key()) != null) {
                    ordered.put(s.key(), values.get(s.key()));
                }
            }
            this.values = Collections.unmodifiableMap(ordered);
        }

        static Agent none() {
            return new Agent(Map.of());
        }

        /** Every hyper-parameter of {@code c}, written out (those omitted at their default only when they differ from it). */
        static Agent of(FqlConfig c) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Setting<?> s : FqlConfig.SETTINGS) {
                put(m, s, c);
            }
            return new Agent(m);
        }

        private static <T> void put(Map<String, Object> m, Setting<T> s, FqlConfig c) {
            T v = s.get(c);
            if (!(s.isOmittedAtDefault() && s.isDefault(v))) {
                m.put(s.key(), s.toPlain(v));
            }
        }

        /** The value written for {@code key} (plain YAML form), or null when the preset's is taken. */
        public Object get(String key) {
            return values.get(key);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Agent a && a.values.equals(values);
        }

        @Override
        public int hashCode() {
            return values.hashCode();
        }

        @Override
        public String toString() {
            return "Agent" + values;
        }
    }

    /**
     * Writes an agent section in the table's order, in every mapper: the canonical form a trial id hashes keeps that
     * order too (as it kept the order the agent record's properties were declared in), so ids do not change.
     */
    static final class AgentWriter extends StdSerializer<Agent> {
        AgentWriter() {
            super(Agent.class);
        }

        @Override
        public void serialize(Agent agent, JsonGenerator gen, SerializerProvider provider) throws IOException {
            SettingJson.writeObject(agent, agent.values, gen, provider);
        }
    }

    /** Reads an agent section key by key, each value as its setting's plain type (so a type error names that type). */
    static final class AgentReader extends StdDeserializer<Agent> {
        AgentReader() {
            super(Agent.class);
        }

        @Override
        public Agent deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            Map<String, Object> values = new LinkedHashMap<>();
            // a choice (q_agg) is read as text and checked at resolve(), naming its key
            SettingJson.readFields(p, ctxt, this, Setting::key, true).forEach((s, v) -> values.put(s.key(), v));
            return new Agent(values);
        }

        @Override
        public Collection<Object> getKnownPropertyNames() {
            return SettingJson.names(Setting::key);
        }
    }

    /**
     * Training settings; null = the train command's default (the preset's step count for {@code steps}). The online
     * phase (docs/algorithm.md §5) is {@code online_steps} with {@code online_env} (and optionally {@code online_mode},
     * {@code actors}, {@code refresh_every}), as the train command's flags; absent, the trial trains offline only.
     * {@code backend} is the train command's {@code --backend} (auto when absent); it is where the trial trains, not
     * what, so a trial's id leaves it out ({@link SweepSpec}) and its results are reused on any backend.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"steps", "workers", "averaging_frequency", "checkpoint_every", "keep_checkpoints", "threads_per_worker",
            "aggregation_depth", "seed", "online_steps", "online_env", "online_mode", "actors", "refresh_every", "backend"})
    public record Train(
            @JsonProperty("steps") Long steps,
            @JsonProperty("workers") Integer workers,
            @JsonProperty("averaging_frequency") Integer averagingFrequency,
            @JsonProperty("checkpoint_every") Integer checkpointEvery,
            @JsonProperty("keep_checkpoints") Integer keepCheckpoints,
            @JsonProperty("threads_per_worker") Integer threadsPerWorker,
            @JsonProperty("aggregation_depth") Integer aggregationDepth,
            @JsonProperty("seed") Long seed,
            @JsonProperty("online_steps") Long onlineSteps,
            @JsonProperty("online_env") String onlineEnv,
            @JsonProperty("online_mode") String onlineMode,
            @JsonProperty("actors") Integer actors,
            @JsonProperty("refresh_every") Integer refreshEvery,
            @JsonProperty("backend") String backend) {

        static Train none() {
            return new Train(null, null, null, null, null, null, null, null, null, null, null, null, null, null);
        }

        /** {@code backend} checked and in lower case; null when absent (auto). */
        String checkedBackend() {
            try {
                return backend == null ? null : Backends.check(backend);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("train." + e.getMessage().replaceFirst("^--", ""), e);
            }
        }

        /** The online phase as the trainer takes it (NONE without online steps). */
        TrainOptions.Online online() {
            if (onlineSteps == null || onlineSteps == 0) {
                return TrainOptions.Online.NONE;
            }
            TrainOptions.Online d = TrainOptions.Online.NONE;
            try {
                return new TrainOptions.Online(onlineSteps, onlineEnv, onlineMode, actors != null ? actors : d.actors(),
                        refreshEvery != null ? refreshEvery : d.refreshEvery(), 0);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("train." + e.getMessage().replaceFirst("^--", "").replace("online-steps",
                        "online_steps").replace("env ", "online_env ").replace("online-mode", "online_mode")
                        .replace("refresh-every", "refresh_every"), e);
            }
        }

        /** Gradient steps of the whole trial: offline, then online. */
        long totalSteps() {
            return steps + (onlineSteps == null ? 0 : onlineSteps);
        }
    }

    /** Evaluation settings; {@code env} is required, the rest default as in the evaluate command. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"env", "episodes", "seed", "partitions", "max_episode_steps", "bridge_startup_timeout_seconds",
            "bridge_timeout_seconds", "policy"})
    public record Evaluate(
            @JsonProperty("env") String env,
            @JsonProperty("episodes") Integer episodes,
            @JsonProperty("seed") Long seed,
            @JsonProperty("partitions") Integer partitions,
            @JsonProperty("max_episode_steps") Integer maxEpisodeSteps,
            @JsonProperty("bridge_startup_timeout_seconds") Double bridgeStartupTimeoutSeconds,
            @JsonProperty("bridge_timeout_seconds") Double bridgeTimeoutSeconds,
            @JsonProperty("policy") String policy) {
    }

    /** Evaluation episodes when the config gives none: OGBench's and the reference code's 50. */
    public static final int DEFAULT_EPISODES = 50;

    /**
     * The same experiment with every default written in: the preset's full FQL config, the train command's defaults,
     * the evaluation defaults. Two configs that train and evaluate the same way resolve to equal values, whichever
     * defaults they spelled out, so the resolved form is what a trial id hashes.
     *
     * @throws IllegalArgumentException naming the key, for a missing or invalid value, an unknown preset, or an agent
     *                                  value that training cannot apply
     */
    public ExperimentConfig resolve() {
        require(data != null && !data.isBlank(), "data", "a dataset directory (Parquet shards + manifest.json)");
        require(evaluate != null && evaluate.env() != null && !evaluate.env().isBlank(), "evaluate.env",
                "a built-in environment id (e.g. pointmaze-medium) or bridge:COMMAND");
        String presetName = preset == null ? "default" : preset.trim();
        FqlPresets.Preset p;
        try {
            p = FqlPresets.get(presetName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("preset: " + e.getMessage(), e);
        }
        FqlConfig fql = fqlConfig(p);
        Train t = train == null ? Train.none() : train;
        TrainOptions defaults = TrainOptions.builder("unused", "unused").preset(presetName).build();
        Train resolvedTrain = new Train(
                t.steps() != null ? t.steps() : p.offlineSteps(),
                or(t.workers(), defaults.workers()),
                or(t.averagingFrequency(), defaults.averagingFrequency()),
                or(t.checkpointEvery(), defaults.checkpointEvery()),
                or(t.keepCheckpoints(), defaults.keepCheckpoints()),
                or(t.threadsPerWorker(), defaults.threadsPerWorker()),
                or(t.aggregationDepth(), defaults.aggregationDepth()),
                t.seed() != null ? t.seed() : defaults.seed(),
                null, null, null, null, null, t.checkedBackend());
        TrainOptions.Online online = t.online();   // fails here, naming the key, on a bad online setting
        if (online.enabled()) {   // written in only when there is an online phase, so offline trials keep their ids
            resolvedTrain = new Train(resolvedTrain.steps(), resolvedTrain.workers(), resolvedTrain.averagingFrequency(),
                    resolvedTrain.checkpointEvery(), resolvedTrain.keepCheckpoints(), resolvedTrain.threadsPerWorker(),
                    resolvedTrain.aggregationDepth(), resolvedTrain.seed(), online.steps(), online.env().trim(), online.mode(),
                    online.actors(), online.refreshEvery(), resolvedTrain.backend());
        }
        Evaluate e = evaluate;
        requireTimeout(e.bridgeStartupTimeoutSeconds(), "evaluate.bridge_startup_timeout_seconds");
        requireTimeout(e.bridgeTimeoutSeconds(), "evaluate.bridge_timeout_seconds");
        Evaluate resolvedEvaluate = new Evaluate(e.env().trim(),
                or(e.episodes(), DEFAULT_EPISODES),
                e.seed() != null ? e.seed() : 0L,
                or(e.partitions(), 0),
                or(e.maxEpisodeSteps(), 0),
                e.bridgeStartupTimeoutSeconds() != null ? e.bridgeStartupTimeoutSeconds()
                        : (double) EvalOptions.DEFAULT_BRIDGE_STARTUP_TIMEOUT.toSeconds(),
                e.bridgeTimeoutSeconds() != null ? e.bridgeTimeoutSeconds()
                        : (double) EvalOptions.DEFAULT_BRIDGE_REQUEST_TIMEOUT.toSeconds(),
                policyFlag(e.policy()));
        ExperimentConfig resolved = new ExperimentConfig(name, data.trim(), presetName, Agent.of(fql), resolvedTrain,
                resolvedEvaluate);
        // Validate the rest now, with the trainer's and the evaluator's own checks, rather than when the trial starts.
        resolved.trainOptions("unused", false);
        resolved.evalOptions("unused", "unused");
        return resolved;
    }

    /**
     * The FQL config this experiment trains: the preset with the agent keys applied through the train command's
     * overrides; keys it cannot override must equal the preset's values.
     */
    FqlConfig fqlConfig(FqlPresets.Preset p) {
        FqlConfig base = p.config();
        ConfigOverrides overrides = overrides(base);
        FqlConfig result;
        try {
            result = overrides.applyTo(base);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("agent." + e.getMessage().replaceFirst("^config '([^']*)'", "$1"), e);
        }
        Agent a = agent == null ? Agent.none() : agent;
        for (Setting<?> s : FqlConfig.SETTINGS) {
            if (!s.tunable()) {
                fixed(s, a.get(s.key()), base, p);
            }
        }
        return result;
    }

    /** The agent keys as the train command's overrides (only those that differ from the preset, so ids stay stable). */
    ConfigOverrides overrides(FqlConfig base) {
        Agent a = agent == null ? Agent.none() : agent;
        ConfigOverrides overrides = ConfigOverrides.none();
        for (Setting<?> s : FqlConfig.SETTINGS) {
            if (s.tunable()) {
                overrides = differing(overrides, s, a.get(s.key()), base);
            }
        }
        return overrides;
    }

    private static <T> ConfigOverrides differing(ConfigOverrides overrides, Setting<T> s, Object plain, FqlConfig base) {
        T value;
        try {
            value = s.fromPlain(plain, s.key());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("agent." + e.getMessage(), e);
        }
        return value == null || s.same(value, s.get(base)) ? overrides : overrides.with(s, value);
    }

    /** What {@code ./fql train} is given for this experiment (the config must be {@linkplain #resolve() resolved}). */
    public TrainOptions trainOptions(String runDir, boolean resume) {
        requireResolved();
        return TrainOptions.builder(data, runDir)
                .preset(preset)
                .overrides(overrides(FqlPresets.get(preset).config()))
                .steps(train.steps())
                .workers(train.workers())
                .averagingFrequency(train.averagingFrequency())
                .checkpointEvery(train.checkpointEvery())
                .keepCheckpoints(train.keepCheckpoints())
                .threadsPerWorker(train.threadsPerWorker())
                .aggregationDepth(train.aggregationDepth())
                .seed(train.seed())
                .online(train.online())
                .backend(train.backend())
                .resume(resume)
                .progressBar(false)
                .build();
    }

    /** What {@code ./fql evaluate} is given for this experiment (the config must be {@linkplain #resolve() resolved}). */
    public EvalOptions evalOptions(String checkpoint, String output) {
        requireResolved();
        return new EvalOptions(checkpoint, evaluate.env(), evaluate.episodes(), output, evaluate.seed(), evaluate.partitions(),
                true, evaluate.maxEpisodeSteps(), seconds(evaluate.bridgeStartupTimeoutSeconds()),
                seconds(evaluate.bridgeTimeoutSeconds()), Policy.parse(evaluate.policy()), Backends.AUTO);
    }

    /** The resolved hyper-parameters as the FqlConfig training will use. */
    @JsonIgnore
    public FqlConfig fqlConfig() {
        requireResolved();
        return overrides(FqlPresets.get(preset).config()).applyTo(FqlPresets.get(preset).config());
    }

    /** The same experiment under another name (names are labels; they do not change a trial). */
    public ExperimentConfig withName(String newName) {
        return new ExperimentConfig(newName, data, preset, agent, train, evaluate);
    }

    /** Flat (section_key → value) view of a resolved config: the parameter columns of the results table. */
    Map<String, Object> flatten() {
        requireResolved();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", data);
        m.put("preset", preset);
        Map<String, Object> agentMap = SweepFiles.JSON.convertValue(agent, SweepFiles.MAP);
        agentMap.forEach((k, v) -> m.put("agent_" + k, v instanceof List<?> l ? joinWidths(l) : v));
        SweepFiles.JSON.convertValue(train, SweepFiles.MAP).forEach((k, v) -> m.put("train_" + k, v));
        SweepFiles.JSON.convertValue(evaluate, SweepFiles.MAP).forEach((k, v) -> m.put("evaluate_" + k, v));
        return m;
    }

    private static String joinWidths(List<?> widths) {
        StringBuilder b = new StringBuilder();
        for (Object w : widths) {
            if (b.length() > 0) b.append(',');
            b.append(w);
        }
        return b.toString();
    }

    private void requireResolved() {
        if (agent == null || train == null || train.steps() == null || evaluate == null || evaluate.episodes() == null) {
            throw new IllegalStateException("resolve() the experiment config first");
        }
    }

    private static String policyFlag(String policy) {
        try {
            return policy == null ? Policy.ONE_STEP.flag() : Policy.parse(policy).flag();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("evaluate.policy: " + e.getMessage().replace("--policy ", ""), e);
        }
    }

    private static void requireTimeout(Double seconds, String key) {
        long max = org.fqlspark.eval.BridgeEnvironment.MAX_TIMEOUT.toSeconds();
        if (seconds != null && !(seconds > 0 && seconds <= max)) {
            throw new IllegalArgumentException(key + " must be a positive number of seconds, at most " + max + " (a day), was "
                    + seconds);
        }
    }

    private static Duration seconds(double s) {
        return Duration.ofMillis(Math.round(s * 1000));
    }

    private static <T> void fixed(Setting<T> s, Object plain, FqlConfig base, FqlPresets.Preset p) {
        if (plain == null) return;
        T value = s.fromPlain(plain, "agent." + s.key());
        T presetValue = s.get(base);
        if (!s.same(value, presetValue)) {
            throw new IllegalArgumentException("agent." + s.key() + " = " + value + ": training cannot change it from preset '" + p.name()
                    + "' (" + presetValue + "); write the preset's value or leave the key out");
        }
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

    private static void require(boolean ok, String key, String expected) {
        if (!ok) throw new IllegalArgumentException(key + " is missing: expected " + expected);
    }
}
