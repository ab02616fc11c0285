package org.fqlspark.sweep;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.NodeEvent;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.parser.Parser;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;

/**
 * A sweep: a base experiment ({@link ExperimentConfig}) and the axes to vary, read from YAML.
 *
 * <pre>
 * name: pointmaze-alpha-seed              # label of the sweep
 * base: ../configs/pointmaze-medium-stitch.yaml   # a file (relative to this one, or any Hadoop URI) or an inline map;
 *                                         # optional: without it the spec itself is the experiment
 * train: {steps: 200000}                  # experiment keys written here apply over the base
 * variants:                               # named axes; each value is a partial experiment (a map, or a file like base)
 *   dataset:
 *     medium: {data: /data/pointmaze-medium-stitch, evaluate: {env: pointmaze-medium}}
 *     large:  ../configs/pointmaze-large-stitch.yaml
 * grid:                                   # dotted key → list of values, applied last
 *   agent.alpha: [3, 10, 30]
 *   train.seed: [0, 1, 2]
 * max_concurrent: 2                       # trials at a time, unless --max-concurrent says otherwise
 * max_trials: 20000                       # optional: refuse more trials than this (default 10000; --max-trials wins)
 * </pre>
 *
 * A trial's experiment is the base, then the spec's own experiment keys, then its variant values, then its grid values
 * (later wins; maps merge key by key). A grid axis of one value ({@code train.steps: [77]}) overrides everything. Trials are the Cartesian product of the variant axes, then the grid axes, in the order
 * written (the last axis varies fastest). Each trial's id is the first 12 hex digits of the SHA-256 of its resolved
 * config in canonical JSON (name left out), so the same point in any sweep gets the same id and its finished results
 * are reused.
 *
 * <p>Each file is plain YAML: anchors, aliases and tags are refused, naming the file and line. The number of trials is
 * the product of the value counts, computed (overflow-safe) and checked against the cap before anything is expanded.
 */
public record SweepSpec(String name, ObjectNode baseTree, ObjectNode overridesTree, Map<String, Map<String, JsonNode>> variants,
                        Map<String, List<JsonNode>> grid, Integer maxConcurrent, String source, Integer maxTrials) {

    private static final List<String> SPEC_KEYS = List.of("name", "description", "base", "variants", "grid", "max_concurrent",
            "max_trials");

    /**
     * Most trials a sweep may expand to unless its {@code max_trials:} key or {@code --max-trials} allows more: a typo
     * in a grid (a range pasted as a list of thousands) is refused before anything is expanded, trained or written.
     */
    public static final int DEFAULT_MAX_TRIALS = 10_000;

    /**
     * One point of the sweep: its position, its id, the value of every axis (variant labels and grid values, in axis
     * order), which of those axes are variants, and the resolved experiment.
     */
    public record Trial(int index, String id, Map<String, Object> parameters, List<String> variantAxes, ExperimentConfig config) {
        public Trial {
            parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
            variantAxes = List.copyOf(variantAxes);
        }
    }

    /** The same sweep with another cap on its number of trials ({@code --max-trials}). */
    public SweepSpec withMaxTrials(int cap) {
        if (cap < 1) {
            throw new IllegalArgumentException("--max-trials must be a positive integer, was " + cap);
        }
        return new SweepSpec(name, baseTree, overridesTree, variants, grid, maxConcurrent, source, cap);
    }

    /** The cap in force: {@code --max-trials}, else the spec's {@code max_trials}, else {@link #DEFAULT_MAX_TRIALS}. */
    public int trialCap() {
        return maxTrials != null ? maxTrials : DEFAULT_MAX_TRIALS;
    }

    /**
     * How many trials the spec expands to, from the value counts alone (nothing is expanded), or -1 when the product
     * does not even fit in a long.
     */
    public long trialCount() {
        long count = 1;
        try {
            for (Map<String, JsonNode> axis : variants.values()) count = Math.multiplyExact(count, (long) axis.size());
            for (List<JsonNode> axis : grid.values()) count = Math.multiplyExact(count, (long) axis.size());
        } catch (ArithmeticException e) {
            return -1;
        }
        return count;
    }

    /** Reads a spec from a local path or any Hadoop URI. */
    public static SweepSpec read(String location, Configuration hadoop) {
        Path path = SweepFiles.qualify(location, hadoop);
        return parse(SweepFiles.readText(path, hadoop), path, hadoop);
    }

    /**
     * Parses spec text; {@code location} resolves a relative {@code base:} path (null: relative paths are refused).
     *
     * @throws IllegalArgumentException naming the key, for anything malformed
     */
    public static SweepSpec parse(String yaml, Path location, Configuration hadoop) {
        String where = location == null ? "sweep spec" : location.toString();
        ObjectNode root = asObject(readYaml(yaml, where), where);
        String name = root.path("name").isTextual() ? root.get("name").asText() : null;

        ObjectNode experiment = JsonNodeFactory.instance.objectNode();
        JsonNode base = root.get("base");
        if (base != null && !base.isNull()) {
            experiment = partialExperiment(base, "base", location, where, hadoop);
        }
        ObjectNode overrides = root.deepCopy();
        overrides.remove(SPEC_KEYS);
        if (name == null) {
            JsonNode named = overrides.path("name").isTextual() ? overrides.get("name") : experiment.get("name");
            name = named != null && named.isTextual() ? named.asText() : null;
        }

        Map<String, Map<String, JsonNode>> variants = new LinkedHashMap<>();
        JsonNode v = root.get("variants");
        if (v != null && !v.isNull()) {
            for (Iterator<Map.Entry<String, JsonNode>> axes = asObject(v, where + " variants").fields(); axes.hasNext(); ) {
                Map.Entry<String, JsonNode> axis = axes.next();
                ObjectNode values = asObject(axis.getValue(), where + " variants." + axis.getKey());
                if (values.isEmpty()) {
                    throw new IllegalArgumentException(where + ": variants." + axis.getKey() + " has no values");
                }
                Map<String, JsonNode> labelled = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = values.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    labelled.put(e.getKey(), partialExperiment(e.getValue(), "variants." + axis.getKey() + "." + e.getKey(), location,
                            where, hadoop));
                }
                variants.put(axis.getKey(), labelled);
            }
        }
        Map<String, List<JsonNode>> grid = new LinkedHashMap<>();
        JsonNode g = root.get("grid");
        if (g != null && !g.isNull()) {
            for (Iterator<Map.Entry<String, JsonNode>> axes = asObject(g, where + " grid").fields(); axes.hasNext(); ) {
                Map.Entry<String, JsonNode> axis = axes.next();
                if (!(axis.getValue() instanceof ArrayNode list) || list.isEmpty()) {
                    throw new IllegalArgumentException(where + ": grid." + axis.getKey() + " must be a non-empty list of values");
                }
                if (variants.containsKey(axis.getKey())) {
                    throw new IllegalArgumentException(where + ": '" + axis.getKey() + "' is both a variant axis and a grid key");
                }
                List<JsonNode> values = new ArrayList<>();
                list.forEach(values::add);
                grid.put(axis.getKey(), values);
            }
        }
        Integer maxConcurrent = null;
        JsonNode mc = root.get("max_concurrent");
        if (mc != null && !mc.isNull()) {
            if (!mc.canConvertToInt() || mc.asInt() < 1 || !mc.isIntegralNumber()) {
                throw new IllegalArgumentException(where + ": max_concurrent must be a positive integer, was " + mc);
            }
            maxConcurrent = mc.asInt();
        }
        Integer maxTrials = null;
        JsonNode mt = root.get("max_trials");
        if (mt != null && !mt.isNull()) {
            if (!mt.isIntegralNumber() || !mt.canConvertToInt() || mt.asInt() < 1) {
                throw new IllegalArgumentException(where + ": max_trials must be a positive integer, was " + mt);
            }
            maxTrials = mt.asInt();
        }
        ObjectNode start = experiment.deepCopy();
        deepMerge(start, overrides);
        bind(start, where);   // unknown keys and wrong types are reported now, before any trial is expanded
        return new SweepSpec(name != null ? name : "sweep", experiment, overrides, variants, grid, maxConcurrent, where, maxTrials);
    }

    /** A map, or the path of an experiment file (relative to the spec); a sweep spec is refused there. */
    private static ObjectNode partialExperiment(JsonNode value, String key, Path location, String where, Configuration hadoop) {
        if (value.isTextual()) {
            Path path = resolveRelative(value.asText(), location, where);
            ObjectNode tree = asObject(readYaml(SweepFiles.readText(path, hadoop), path.toString()), path.toString());
            if (tree.has("grid") || tree.has("variants") || tree.has("base")) {
                throw new IllegalArgumentException(where + ": " + key + " " + path + " is itself a sweep (has grid, variants or base); "
                        + "it must be a single experiment config");
            }
            return tree;
        }
        if (value.isObject()) {
            return ((ObjectNode) value).deepCopy();
        }
        throw new IllegalArgumentException(where + ": " + key + " must be a file path or a map, was " + value.getNodeType());
    }

    /**
     * Every trial of the sweep, in order, each config resolved and validated; two points that resolve alike are refused.
     *
     * @throws IllegalArgumentException before expanding anything, when the sweep has more trials than {@link #trialCap()}
     */
    public List<Trial> trials() {
        long count = trialCount();
        if (count < 0 || count > trialCap()) {
            StringBuilder sizes = new StringBuilder();
            variants.forEach((axis, values) -> sizes.append(sizes.length() > 0 ? " x " : "").append(values.size())
                    .append(" (").append(axis).append(')'));
            grid.forEach((axis, values) -> sizes.append(sizes.length() > 0 ? " x " : "").append(values.size())
                    .append(" (").append(axis).append(')'));
            throw new IllegalArgumentException(source + ": the sweep has " + (count < 0 ? "more than " + Long.MAX_VALUE : count)
                    + " trials (" + sizes + "), more than the cap of " + trialCap() + "; shrink the grid, or raise the cap with "
                    + "max_trials: N in the spec or --max-trials N");
        }
        List<Map<String, Object>> points = new ArrayList<>();
        List<ObjectNode> trees = new ArrayList<>();
        points.add(new LinkedHashMap<>());
        ObjectNode start = baseTree.deepCopy();
        deepMerge(start, overridesTree);
        trees.add(start);
        for (Map.Entry<String, Map<String, JsonNode>> axis : variants.entrySet()) {
            List<Map<String, Object>> nextPoints = new ArrayList<>();
            List<ObjectNode> nextTrees = new ArrayList<>();
            for (int i = 0; i < points.size(); i++) {
                for (Map.Entry<String, JsonNode> value : axis.getValue().entrySet()) {
                    Map<String, Object> p = new LinkedHashMap<>(points.get(i));
                    p.put(axis.getKey(), value.getKey());
                    ObjectNode t = trees.get(i).deepCopy();
                    deepMerge(t, (ObjectNode) value.getValue());
                    nextPoints.add(p);
                    nextTrees.add(t);
                }
            }
            points = nextPoints;
            trees = nextTrees;
        }
        for (Map.Entry<String, List<JsonNode>> axis : grid.entrySet()) {
            List<Map<String, Object>> nextPoints = new ArrayList<>();
            List<ObjectNode> nextTrees = new ArrayList<>();
            for (int i = 0; i < points.size(); i++) {
                for (JsonNode value : axis.getValue()) {
                    Map<String, Object> p = new LinkedHashMap<>(points.get(i));
                    p.put(axis.getKey(), displayValue(value));
                    ObjectNode t = trees.get(i).deepCopy();
                    setPath(t, axis.getKey(), value);
                    nextPoints.add(p);
                    nextTrees.add(t);
                }
            }
            points = nextPoints;
            trees = nextTrees;
        }
        List<Trial> trials = new ArrayList<>();
        Map<String, Map<String, Object>> seen = new HashMap<>();
        for (int i = 0; i < points.size(); i++) {
            Map<String, Object> p = points.get(i);
            String label = p.isEmpty() ? "" : " " + p;
            ExperimentConfig resolved;
            try {
                resolved = bind(trees.get(i), source + " trial" + label).resolve();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ", trial" + label + ": " + e.getMessage(), e);
            }
            String trialName = p.isEmpty() ? name : name + " " + compact(p);
            String id = trialId(resolved);
            Map<String, Object> before = seen.putIfAbsent(id, p);
            if (before != null) {
                throw new IllegalArgumentException(source + ": trials " + before + " and " + p + " resolve to the same experiment (id "
                        + id + "); remove the duplicate grid value");
            }
            trials.add(new Trial(i, id, p, List.copyOf(variants.keySet()), resolved.withName(trialName)));
        }
        return trials;
    }

    /**
     * First 12 hex digits of SHA-256 over the canonical JSON of the resolved config without its name and without
     * {@code train.backend} (where a trial trains, not what: the same point on cpu and opencl is one trial).
     */
    static String trialId(ExperimentConfig resolved) {
        try {
            JsonNode tree = SweepFiles.CANONICAL.valueToTree(resolved.withName(null));
            if (tree.get("train") instanceof ObjectNode train) {
                train.remove("backend");
            }
            byte[] canonical = SweepFiles.CANONICAL.writeValueAsBytes(tree);
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical);
            return HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String compact(Map<String, Object> parameters) {
        StringBuilder b = new StringBuilder();
        parameters.forEach((k, v) -> {
            if (b.length() > 0) b.append(' ');
            b.append(k.substring(k.lastIndexOf('.') + 1)).append('=').append(v);
        });
        return b.toString();
    }

    private static ExperimentConfig bind(JsonNode tree, String where) {
        try {
            return SweepFiles.JSON.treeToValue(tree, ExperimentConfig.class);
        } catch (JsonProcessingException e) {
            String message = e.getOriginalMessage();
            if (e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException u) {
                message = "unknown key '" + pathOf(u) + "'; known keys here: " + u.getKnownPropertyIds();
            }
            throw new IllegalArgumentException(where + ": " + message, e);
        }
    }

    private static String pathOf(com.fasterxml.jackson.databind.JsonMappingException e) {
        StringBuilder b = new StringBuilder();
        for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (b.length() > 0) b.append('.');
                b.append(r.getFieldName());
            }
        }
        return b.toString();
    }

    private static Object displayValue(JsonNode value) {
        if (value.isIntegralNumber()) return value.canConvertToInt() ? (Object) value.intValue() : (Object) value.longValue();
        if (value.isNumber()) return value.doubleValue();
        if (value.isBoolean()) return value.booleanValue();
        if (value.isTextual()) return value.textValue();
        return value.toString();
    }

    /**
     * Parses one YAML file of a sweep (a spec or an experiment config). Anchors, aliases and explicit tags are refused:
     * Jackson would hand an alias back as the anchor's name (a silently wrong value), an alias-heavy file can expand
     * exponentially in other readers, and a tag ({@code !!python/object}, {@code !!binary}) means something these files
     * never need. The message names the file, the line and what to write instead.
     */
    private static JsonNode readYaml(String text, String where) {
        refuseAliasesAndTags(text, where);
        try {
            JsonNode node = SweepFiles.YAML.readTree(text.getBytes(StandardCharsets.UTF_8));
            if (node == null || node.isMissingNode()) {
                throw new IllegalArgumentException(where + " is empty");
            }
            return node;
        } catch (IOException e) {
            throw new IllegalArgumentException(where + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    /**
     * Walks the file's YAML events with SnakeYAML's own parser (the one under Jackson's YAML module): Jackson 2.15 reports
     * aliases but not the anchors of scalars, so the events are read directly.
     */
    private static void refuseAliasesAndTags(String text, String where) {
        Parser events = new ParserImpl(new StreamReader(new StringReader(text)), new LoaderOptions());
        try {
            while (events.peekEvent() != null) {
                Event event = events.getEvent();
                int line = event.getStartMark() == null ? 0 : event.getStartMark().getLine() + 1;
                if (event instanceof AliasEvent alias) {
                    throw new IllegalArgumentException(where + ": line " + line + ": YAML alias '*" + alias.getAnchor()
                            + "' refused; " + NO_ALIASES);
                }
                if (event instanceof NodeEvent node && node.getAnchor() != null) {
                    throw new IllegalArgumentException(where + ": line " + line + ": YAML anchor '&" + node.getAnchor()
                            + "' refused; " + NO_ALIASES);
                }
                String tag = event instanceof ScalarEvent scalar ? scalar.getTag()
                        : event instanceof CollectionStartEvent collection ? collection.getTag() : null;
                if (tag != null) {
                    throw new IllegalArgumentException(where + ": line " + line + ": YAML tag '" + tag + "' refused; expected "
                            + "plain maps, lists, numbers, booleans and strings, without tags");
                }
            }
        } catch (YAMLException e) {
            throw new IllegalArgumentException(where + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    private static final String NO_ALIASES = "anchors and aliases are not supported in sweep specs and experiment configs: "
            + "write the value out (share settings through base: and variants: files)";

    private static ObjectNode asObject(JsonNode node, String where) {
        if (!(node instanceof ObjectNode o)) {
            throw new IllegalArgumentException(where + " must be a map of keys to values, was " + node.getNodeType());
        }
        return o;
    }

    private static Path resolveRelative(String ref, Path location, String where) {
        Path p = new Path(ref);
        if (p.isAbsolute() || p.toUri().getScheme() != null) {
            return p;
        }
        if (location == null) {
            throw new IllegalArgumentException(where + ": '" + ref + "' is a relative path and the spec has no location");
        }
        return new Path(location.getParent(), ref);
    }

    /** Merges {@code over} into {@code into}: maps recursively, anything else replaced. */
    static void deepMerge(ObjectNode into, ObjectNode over) {
        over.fields().forEachRemaining(e -> {
            JsonNode existing = into.get(e.getKey());
            if (existing instanceof ObjectNode existingObject && e.getValue() instanceof ObjectNode overObject) {
                deepMerge(existingObject, overObject);
            } else {
                into.set(e.getKey(), e.getValue().deepCopy());
            }
        });
    }

    /** Sets a dotted key ({@code agent.alpha}); a map value is merged into the map already there. */
    static void setPath(ObjectNode root, String dotted, JsonNode value) {
        String[] parts = dotted.split("\\.");
        ObjectNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null || child.isNull()) {
                child = node.putObject(parts[i]);
            } else if (!(child instanceof ObjectNode)) {
                throw new IllegalArgumentException("grid key " + dotted + ": '" + parts[i] + "' is a value, not a section");
            }
            node = (ObjectNode) child;
        }
        String last = parts[parts.length - 1];
        if (node.get(last) instanceof ObjectNode existing && value instanceof ObjectNode over) {
            deepMerge(existing, over);
        } else {
            node.set(last, value.deepCopy());
        }
    }
}
