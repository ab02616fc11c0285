package org.fqlspark.agent;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each named parameter lives in a flat float vector. Names and shapes follow the flax MLP of the official
 * code ({@code critic/Dense_0/kernel [2, in, out]}, {@code actor_bc_flow/LayerNorm_1/scale [h]}, ...), so golden
 * dumps and checkpoints map one to one. Modules are contiguous: the critic comes first, which makes the Polyak
 * update of the target critic one operation over a prefix of the trainable vector.
 */
public final class ParameterLayout {

    public static final String CRITIC = "critic";
    public static final String TARGET_CRITIC = "target_critic";
    public static final String BC_FLOW = "actor_bc_flow";
    public static final String ONE_STEP = "actor_onestep_flow";

    /** One parameter tensor: its flax name, shape, and offset in the flat vector of its group. */
    public record Entry(String name, long[] shape, long offset) {
        public long size() {
            long n = 1;
            for (long s : shape) {
                n *= s;
            }
            return n;
        }
    }

    /** Network widths {@code [in, h1, ..., out]} of one module. */
    public record ModuleDims(String module, int[] dims, boolean layerNorm, int ensemble) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, long[]> moduleRanges = new LinkedHashMap<>();
    private final long size;

    private ParameterLayout(List<ModuleDims> modules) {
        long offset = 0;
        for (ModuleDims m : modules) {
            long start = offset;
            int[] d = m.dims();
            int layers = d.length - 1;
            for (int i = 0; i < layers; i++) {
                offset = add(m, "Dense_" + i + "/kernel", new long[] {d[i], d[i + 1]}, offset);
                offset = add(m, "Dense_" + i + "/bias", new long[] {d[i + 1]}, offset);
                if (m.layerNorm() && i + 1 < layers) {
                    offset = add(m, "LayerNorm_" + i + "/scale", new long[] {d[i + 1]}, offset);
                    offset = add(m, "LayerNorm_" + i + "/bias", new long[] {d[i + 1]}, offset);
                }
            }
            moduleRanges.put(m.module(), new long[] {start, offset});
        }
        this.size = offset;
    }

    private long add(ModuleDims m, String local, long[] shape, long offset) {
        long[] full = shape;
        if (m.ensemble() > 1) {
            full = new long[shape.length + 1];
            full[0] = m.ensemble();
            System.arraycopy(shape, 0, full, 1, shape.length);
        }
        Entry e = new Entry(m.module() + "/" + local, full, offset);
        entries.put(e.name(), e);
        return offset + e.size();
    }

    /**
     * Dimensions of the three trainable modules for observation size D and per-step action size A (docs/algorithm.md
     * §1.2). The networks' action width is {@code d = h·A} with h = {@link FqlConfig#horizonLength()} (§11: a chunk of
     * h actions flattened step-major); without chunking d = A. Every caller passes the per-step A, as checkpoints and
     * datasets record it.
     */
    public static List<ModuleDims> trainableModules(int obsDim, int actionDim, FqlConfig c) {
        int d = Math.multiplyExact(actionDim, c.horizonLength());
        return List.of(
                new ModuleDims(CRITIC, dims(obsDim + d, c.valueHiddenDims(), 1), c.layerNorm(), FqlConfig.CRITIC_ENSEMBLE),
                new ModuleDims(BC_FLOW, dims(obsDim + d + 1, c.actorHiddenDims(), d), c.actorLayerNorm(), 1),
                new ModuleDims(ONE_STEP, dims(obsDim + d, c.actorHiddenDims(), d), c.actorLayerNorm(), 1));
    }

    public static ParameterLayout trainable(int obsDim, int actionDim, FqlConfig c) {
        return new ParameterLayout(trainableModules(obsDim, actionDim, c));
    }

    /** The target critic: the critic's layout under the name {@code target_critic}. */
    public static ParameterLayout target(int obsDim, int actionDim, FqlConfig c) {
        ModuleDims critic = trainableModules(obsDim, actionDim, c).get(0);
        return new ParameterLayout(List.of(new ModuleDims(TARGET_CRITIC, critic.dims(), critic.layerNorm(), critic.ensemble())));
    }

    private static int[] dims(int in, List<Integer> hidden, int out) {
        int[] d = new int[hidden.size() + 2];
        d[0] = in;
        for (int i = 0; i < hidden.size(); i++) {
            d[i + 1] = hidden.get(i);
        }
        d[d.length - 1] = out;
        return d;
    }

    public long size() {
        return size;
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'");
        }
        return e;
    }

    public List<Entry> entries() {
        return Collections.unmodifiableList(new ArrayList<>(entries.values()));
    }

    /** {@code [start, end)} of one module in the flat vector. */
    public long[] moduleRange(String module) {
        long[] r = moduleRanges.get(module);
        if (r == null) {
            throw new IllegalArgumentException("no module named '" + module + "'");
        }
        return r.clone();
    }

    /** Number of parameters of one module. */
    public long moduleSize(String module) {
        long[] r = moduleRange(module);
        return r[1] - r[0];
    }
}
