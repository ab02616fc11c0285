package org.fqlspark.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.fqlspark.agent.Batch;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.Setting;
import org.fqlspark.agent.StepNoise;

/**
 * A reference dump of FQL training steps in the {@code fql-golden-v1} format (docs/golden-format.md): the config,
 * initial weights, one batch with its noise, the intermediates, losses, per-loss gradients, Adam state and
 * weights after one step, and a multi-step run. Any sizes, depths and flow steps the dump states are accepted.
 *
 * <p>The action-chunking variant {@code fql-chunked-golden-v1} (QC-FQL, docs/golden-format.md "Action chunking") has
 * {@code config.horizon_length} h, {@code config.action_dim} the per-step A, and batches of chunks: actions
 * {@code [B, h, A]}, next observations {@code [B, h, D]}, the raw rows {@code step_rewards}, {@code step_masks},
 * {@code step_terminals} and what the reference derived from them, {@code rewards}, {@code masks}, {@code valid}, all
 * {@code [B, h]}. Such a batch becomes a {@link Batch} as the agent takes it (actions flattened step-major, the next
 * observation, reward and mask of the last chunk step, all of {@code valid}); the raw and derived rows are kept in
 * {@link #chunkRows} so that {@link org.fqlspark.agent.ChunkTargets} can be checked against them.
 */
public final class GoldenDump {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A tensor as stored: shape and row-major values. */
    public record Named(long[] shape, double[] data) {
        public float[] toFloats() {
            float[] f = new float[data.length];
            for (int i = 0; i < data.length; i++) {
                f[i] = (float) data[i];
            }
            return f;
        }
    }

    public final Path source;
    public final FqlConfig config;
    public final int obsDim;
    /** The per-step action size A (the networks see h·A). */
    public final int actionDim;
    /** h: 1 for {@code fql-golden-v1}, {@code config.horizon_length} for {@code fql-chunked-golden-v1}. */
    public final int horizon;
    public final boolean chunked;
    public final List<String> trainableNames;
    public final Map<String, Named> paramsInit;
    public final Batch batch;
    public final StepNoise noise;
    public final Map<String, Named> intermediates;
    public final Map<String, Double> losses;
    public final Map<String, Map<String, Named>> grads;
    public final long adamStep;
    public final Map<String, Named> adamM;
    public final Map<String, Named> adamV;
    public final Map<String, Named> paramsAfterStep;
    public final List<Batch> multiBatches;
    public final List<StepNoise> multiNoises;
    public final List<Map<String, Double>> multiLosses;
    public final Map<String, Named> multiParamsAfter;
    /**
     * Adam's state after the multi-step run ({@code multi_step.adam_state_after}); null in dumps made before it existed.
     * Such a dump passes with a note: {@link Conformance} then compares the weights after the steps (which the moments
     * determine) but not the moments themselves.
     */
    public final AdamState multiAdam;
    /** Per batch of a chunked dump (the single step's first, then the multi-step ones): raw and derived rows; empty for FQL. */
    public final List<ChunkRows> chunkRows = new ArrayList<>();

    /**
     * A chunked batch's raw rows ({@code step_rewards}, {@code step_masks}, {@code step_terminals}) and the reference's
     * {@code rewards}, {@code masks}, {@code valid} derived from them, each {@code [B, h]}.
     */
    public record ChunkRows(String where, Named stepRewards, Named stepMasks, Named stepTerminals, Named rewards, Named masks,
                            Named valid) {
    }

    /** Adam's step count and moments per trainable tensor. */
    public record AdamState(long step, Map<String, Named> m, Map<String, Named> v) {
    }

    private GoldenDump(Path source, JsonNode root) {
        this.source = source;
        String format = text(root, "format");
        if (!format.startsWith("fql-golden-v1") && !format.startsWith(CHUNKED_FORMAT)) {
            throw new GoldenFormatException(source, "format", "'fql-golden-v1' or '" + CHUNKED_FORMAT + "', found '" + format + "'");
        }
        chunked = format.startsWith(CHUNKED_FORMAT);
        JsonNode c = need(root, "config");
        obsDim = need(c, "obs_dim").asInt();
        actionDim = need(c, "action_dim").asInt();
        if (chunked) {
            JsonNode h = need(c, "horizon_length");
            if (!h.isIntegralNumber() || h.asInt() < 1) {
                throw new GoldenFormatException(source, "config.horizon_length", "a positive integer, found " + h);
            }
            horizon = h.asInt();
            if (c.has("action_chunking") && !c.get("action_chunking").asBoolean()) {
                throw new GoldenFormatException(source, "config.action_chunking", "true in " + CHUNKED_FORMAT);
            }
            if (c.has("actor_type") && !"distill-ddpg".equals(c.get("actor_type").asText())) {
                throw new GoldenFormatException(source, "config.actor_type", "'distill-ddpg' (FQL's one-step actor)");
            }
        } else {
            if (c.has("horizon_length") && c.get("horizon_length").asInt() != 1) {
                throw new GoldenFormatException(source, "config.horizon_length", "1 in fql-golden-v1 (chunks are "
                        + CHUNKED_FORMAT + ")");
            }
            horizon = 1;
        }
        if (need(c, "num_ensembles").asInt() != FqlConfig.CRITIC_ENSEMBLE) {
            throw new GoldenFormatException(source, "config.num_ensembles", "2 (FQL's fixed ensemble size)");
        }
        if (!"tanh".equals(text(c, "gelu_approximate"))) {
            throw new GoldenFormatException(source, "config.gelu_approximate", "'tanh'");
        }
        FqlConfig read = FqlConfig.defaults();
        for (Setting<?> s : FqlConfig.SETTINGS) {   // the official keys, one per setting
            if (s.isOmittedAtDefault() && !c.has(s.key())) {
                continue;   // a setting newer than the dumps: its default, as the reference had it
            }
            read = read.withPlain(s, JSON.convertValue(need(c, s.key()), Object.class));
        }
        config = read;
        if (c.has("target_update_uses_pre_update_critic") && !c.get("target_update_uses_pre_update_critic").asBoolean()) {
            throw new GoldenFormatException(source, "config.target_update_uses_pre_update_critic", "true (the official order)");
        }
        trainableNames = new ArrayList<>();
        need(root, "trainable_param_names").forEach(n -> trainableNames.add(n.asText()));
        paramsInit = tensors(need(root, "params_init"), "params_init");
        batch = batch(need(root, "batch"), "batch");
        noise = noise(need(root, "noise"), "noise");
        intermediates = tensors(need(root, "intermediates"), "intermediates");
        losses = scalars(need(root, "losses"), "losses");
        grads = new LinkedHashMap<>();
        JsonNode g = need(root, "grads");
        if (!g.isObject() || g.isEmpty()) {
            throw new GoldenFormatException(source, "grads", "a non-empty map of loss names to gradient sections");
        }
        for (Iterator<String> it = g.fieldNames(); it.hasNext(); ) {
            String loss = it.next();
            grads.put(loss, tensors(g.get(loss), "grads." + loss));
        }
        JsonNode adam = need(root, "adam_state_after_step");
        adamStep = need(adam, "t").asLong();
        adamM = tensors(need(adam, "m"), "adam_state_after_step.m");
        adamV = tensors(need(adam, "v"), "adam_state_after_step.v");
        paramsAfterStep = tensors(need(root, "params_after_step"), "params_after_step");
        JsonNode multi = need(root, "multi_step");
        multiBatches = new ArrayList<>();
        multiNoises = new ArrayList<>();
        multiLosses = new ArrayList<>();
        int index = 0;
        for (JsonNode b : need(multi, "batches")) {
            multiBatches.add(batch(b, "multi_step.batches[" + index++ + "]"));
        }
        for (JsonNode n : need(multi, "noises")) {
            multiNoises.add(noise(n, "multi_step.noises"));
        }
        for (JsonNode l : need(multi, "losses_per_step")) {
            multiLosses.add(scalars(l, "multi_step.losses_per_step"));
        }
        multiParamsAfter = tensors(need(multi, "params_after"), "multi_step.params_after");
        JsonNode multiAdamNode = multi.get("adam_state_after");
        if (multiAdamNode == null || multiAdamNode.isNull()) {
            multiAdam = null;
        } else {
            multiAdam = new AdamState(need(multiAdamNode, "t").asLong(),
                    tensors(need(multiAdamNode, "m"), "multi_step.adam_state_after.m"),
                    tensors(need(multiAdamNode, "v"), "multi_step.adam_state_after.v"));
        }
        if (multiBatches.size() != multiNoises.size() || multiBatches.size() != multiLosses.size()) {
            throw new GoldenFormatException(source, "multi_step", "as many batches, noises and losses_per_step entries");
        }
    }

    /** Parses a dump; every problem is reported with the file and the key. */
    public static GoldenDump load(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new GoldenFormatException(path, "(file)", "an existing golden JSON file");
        }
        try {
            return new GoldenDump(path, JSON.readTree(path.toFile()));
        } catch (IOException e) {
            throw new GoldenFormatException(path, "(file)", "valid JSON (" + e.getMessage().split("\n")[0] + ")");
        }
    }

    private JsonNode need(JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            throw new GoldenFormatException(source, key, "a value");
        }
        return v;
    }

    private String text(JsonNode n, String key) {
        return need(n, key).asText();
    }

    /** A non-empty map of names to numbers; anything else there is an error, not silently a zero. */
    private Map<String, Double> scalars(JsonNode n, String where) {
        if (!n.isObject() || n.isEmpty()) {
            throw new GoldenFormatException(source, where, "a non-empty map of loss names to numbers, found "
                    + (n.isObject() ? "an empty map" : n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        Map<String, Double> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> {
            if (!e.getValue().isNumber()) {
                throw new GoldenFormatException(source, where + "." + e.getKey(), "a number, found " + e.getValue());
            }
            m.put(e.getKey(), e.getValue().asDouble());
        });
        return m;
    }

    /** A non-empty map of names to tensors; an entry that is not a tensor is an error, not skipped. */
    private Map<String, Named> tensors(JsonNode n, String where) {
        if (!n.isObject() || n.isEmpty()) {
            throw new GoldenFormatException(source, where, "a non-empty map of names to {\"shape\", \"data\"} tensors, found "
                    + (n.isObject() ? "an empty map" : n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        Map<String, Named> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> m.put(e.getKey(), tensor(e.getValue(), where + "." + e.getKey())));
        return m;
    }

    private Named tensor(JsonNode n, String where) {
        JsonNode shapeNode = n.get("shape");
        JsonNode dataNode = n.get("data");
        if (shapeNode == null || !shapeNode.isArray() || dataNode == null || !dataNode.isArray()) {
            throw new GoldenFormatException(source, where, "{\"shape\": [...], \"data\": [...]}");
        }
        long[] shape = new long[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw new GoldenFormatException(source, where + ".shape", "non-negative integer dimensions, found " + shapeNode);
            }
            shape[i] = d.asLong();
            count = shape[i] == 0 || count <= Integer.MAX_VALUE / shape[i] ? count * shape[i] : Long.MAX_VALUE;
        }
        if (count != dataNode.size()) {
            throw new GoldenFormatException(source, where, count + " values for shape " + java.util.Arrays.toString(shape) + ", found " + dataNode.size());
        }
        double[] data = new double[dataNode.size()];
        for (int i = 0; i < data.length; i++) {
            JsonNode x = dataNode.get(i);
            if (!x.isNumber()) {
                throw new GoldenFormatException(source, where + ".data[" + i + "]", "a number, found " + x);
            }
            data[i] = x.asDouble();
        }
        return new Named(shape, data);
    }

    private Batch batch(JsonNode n, String where) {
        Map<String, Named> t = tensors(n, where);
        for (String key : List.of("observations", "actions", "rewards", "masks", "next_observations")) {
            if (!t.containsKey(key)) {
                throw new GoldenFormatException(source, where + "." + key, "a tensor");
            }
        }
        if (chunked) {
            return chunkedBatch(t, where);
        }
        int b = t.get("rewards").data().length;
        return new Batch(b, t.get("observations").toFloats(), t.get("actions").toFloats(), t.get("rewards").toFloats(),
                t.get("masks").toFloats(), t.get("next_observations").toFloats());
    }

    /** A batch of chunks as the agent takes it; the shapes are checked, not only the lengths. */
    private Batch chunkedBatch(Map<String, Named> t, String where) {
        for (String key : List.of("valid", "step_rewards", "step_masks", "step_terminals")) {
            if (!t.containsKey(key)) {
                throw new GoldenFormatException(source, where + "." + key, "a tensor (" + CHUNKED_FORMAT + ")");
            }
        }
        int h = horizon;
        long b = t.get("observations").shape().length == 2 ? t.get("observations").shape()[0] : -1;
        shape(t, where, "observations", b, obsDim);
        shape(t, where, "actions", b, h, actionDim);
        shape(t, where, "next_observations", b, h, obsDim);
        for (String key : List.of("rewards", "masks", "valid", "step_rewards", "step_masks", "step_terminals")) {
            shape(t, where, key, b, h);
        }
        int n = (int) b;
        float[] next = new float[n * obsDim];
        float[] rewards = new float[n];
        float[] masks = new float[n];
        float[] allNext = t.get("next_observations").toFloats();
        float[] allRewards = t.get("rewards").toFloats();
        float[] allMasks = t.get("masks").toFloats();
        for (int i = 0; i < n; i++) {
            System.arraycopy(allNext, (i * h + h - 1) * obsDim, next, i * obsDim, obsDim);
            rewards[i] = allRewards[i * h + h - 1];
            masks[i] = allMasks[i * h + h - 1];
        }
        chunkRows.add(new ChunkRows(where, t.get("step_rewards"), t.get("step_masks"), t.get("step_terminals"), t.get("rewards"),
                t.get("masks"), t.get("valid")));
        return new Batch(n, t.get("observations").toFloats(), t.get("actions").toFloats(), rewards, masks, next,
                t.get("valid").toFloats());
    }

    private void shape(Map<String, Named> t, String where, String key, long... expected) {
        long[] actual = t.get(key).shape();
        if (!java.util.Arrays.equals(actual, expected) || expected[0] <= 0) {
            throw new GoldenFormatException(source, where + "." + key, "shape " + java.util.Arrays.toString(expected)
                    + " (batch, horizon " + horizon + ", obs " + obsDim + ", action " + actionDim + "), found "
                    + java.util.Arrays.toString(actual));
        }
    }

    private StepNoise noise(JsonNode n, String where) {
        Map<String, Named> t = tensors(n, where);
        for (String key : List.of("next_noise", "x0", "t", "z")) {
            if (!t.containsKey(key)) {
                throw new GoldenFormatException(source, where + "." + key, "a tensor");
            }
        }
        return new StepNoise(t.get("next_noise").toFloats(), t.get("x0").toFloats(), t.get("t").toFloats(), t.get("z").toFloats());
    }

    /** The format name of dumps with action chunks. */
    public static final String CHUNKED_FORMAT = "fql-chunked-golden-v1";

    /** A dump that does not have the expected structure. */
    public static final class GoldenFormatException extends RuntimeException {
        public GoldenFormatException(Path file, String key, String expected) {
            super(file + ": key '" + key + "': expected " + expected);
        }
    }
}
