package org.fqlspark.policy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.ParameterLayout;
import org.fqlspark.eval.Policy;

/**
 * A checkpoint's networks in formats other tools read (docs/algorithm.md §1, §7; {@code fql export}).
 *
 * <p><b>ONNX</b> ({@link #onnx}): opset {@value OnnxGraph#OPSET}, IR version {@value OnnxGraph#IR_VERSION}. Inputs
 * {@code observations [batch, obs_dim]} and {@code noise [batch, action_dim]} (float32; draw the noise from N(0, I)),
 * output {@code actions [batch, action_dim]}, already clipped to [−1, 1]. The one-step policy is
 * {@code clip(μ_ω([s, z]))}; the flow policy is its {@code flow_steps} Euler steps unrolled,
 * {@code x ← x + v_θ([s, x, j/M]) / M} from {@code x = z}, clipped once at the end. The MLPs are spelled out in
 * MatMul, Add, Tanh (GELU, tanh form), ReduceMean/Sqrt (LayerNorm, where the config has it), Concat and Clip, with the
 * checkpoint's weights as initializers under their flax names. Metadata: {@code obs_dim}, {@code action_dim},
 * {@code policy}, {@code flow_steps}, {@code step}.
 *
 * <p><b>Action chunks</b> (a QC-FQL checkpoint, {@code horizon_length} h &gt; 1, docs/algorithm.md §11): the policy
 * emits h actions per observation, so {@code noise} is {@code [batch, h·action_dim]} and {@code actions}
 * {@code [batch, h·action_dim]}, step-major (the first {@code action_dim} values are the action to play now; play the
 * chunk open loop, one action per environment step). The metadata then also holds {@code horizon_length} (h) and
 * {@code chunk_action_dim} (h·action_dim), and the NPZ an int64 scalar {@code horizon_length}; {@code action_dim} stays
 * the environment's per-step size. Without chunks neither key is written (absent means h = 1), so an FQL export is
 * byte for byte what it was.
 *
 * <p><b>NPZ</b> ({@link #npz}): one float32 array per parameter of all four networks, named and shaped as in the
 * official code ({@code critic/Dense_0/kernel [2, in, out]}, {@code target_critic/...}, {@code actor_bc_flow/...},
 * {@code actor_onestep_flow/...}; kernels are {@code [in, out]}, {@code y = x · W + b}), readable with
 * {@code numpy.load}.
 */
public final class PolicyExport {

    private PolicyExport() {
    }

    // ------------------------------------------------------------------ ONNX

    public static byte[] onnx(Checkpoint checkpoint, Policy policy) {
        FqlConfig config = checkpoint.config();
        int obsDim = checkpoint.obsDim();
        int actionDim = checkpoint.actionDim();
        int horizon = config.horizonLength();
        int chunkActionDim = horizon * actionDim;   // the networks' action width
        ParameterLayout layout = ParameterLayout.trainable(obsDim, actionDim, config);
        float[] params = checkpoint.state().parameters();
        OnnxGraph g = new OnnxGraph();
        g.input("observations", obsDim);
        g.input("noise", chunkActionDim);
        g.output("actions", chunkActionDim);
        String result;
        String description;
        if (policy == Policy.ONE_STEP) {
            String input = g.node("Concat", Map.of("axis", 1L), "observations", "noise");
            result = mlp(g, layout, params, ParameterLayout.ONE_STEP, config.actorLayerNorm(), (float) config.layerNormEps(), input);
            description = "FQL one-step policy: actions = clip(mu_omega([observations, noise]), -1, 1), noise ~ N(0, I)";
        } else {
            int m = config.flowSteps();
            // A [batch, 1] column of zeros to which each Euler step adds its time, so the flow sees [s, x, t] exactly
            // as in training (the Dense_0 kernel is kept whole).
            String firstColumn = g.node("Slice", "observations", g.int64s(0), g.int64s(1), g.int64s(1));
            String zeros = g.node("Mul", firstColumn, g.scalar(0f));
            String divisor = g.scalar(m);
            String x = "noise";
            for (int j = 0; j < m; j++) {
                String time = g.node("Add", zeros, g.scalar((float) j / m));
                String input = g.node("Concat", Map.of("axis", 1L), "observations", x, time);
                String velocity = mlp(g, layout, params, ParameterLayout.BC_FLOW, config.actorLayerNorm(), (float) config.layerNormEps(), input);
                x = g.node("Add", x, g.node("Div", velocity, divisor));
            }
            result = x;
            description = "FQL flow-BC policy: " + m + " Euler steps x <- x + v_theta([observations, x, j/" + m
                    + "]) / " + m + " from x = noise ~ N(0, I), actions = clip(x, -1, 1)";
        }
        g.nodeTo("actions", "Clip", Map.of(), result, g.scalar(-1f), g.scalar(1f));
        g.metadata("obs_dim", Integer.toString(obsDim));
        g.metadata("action_dim", Integer.toString(actionDim));
        g.metadata("policy", policy.flag());
        g.metadata("flow_steps", Integer.toString(config.flowSteps()));
        g.metadata("step", Long.toString(checkpoint.state().step()));
        if (horizon > 1) {
            g.metadata("horizon_length", Integer.toString(horizon));
            g.metadata("chunk_action_dim", Integer.toString(chunkActionDim));
            description += "; QC-FQL: actions are " + horizon + " steps of " + actionDim + " (step-major), noise likewise";
        }
        String name = policy == Policy.ONE_STEP ? "fql_one_step_policy" : "fql_flow_bc_policy";
        return g.model(name, description, "0.1.0");
    }

    /** Dense → GELU(tanh) → [LayerNorm] per hidden layer, then a final Dense, with weights under their flax names. */
    private static String mlp(OnnxGraph g, ParameterLayout layout, float[] params, String module, boolean layerNorm, float eps,
                              String input) {
        String h = input;
        for (int i = 0; ; i++) {
            String prefix = module + "/Dense_" + i;
            ParameterLayout.Entry kernel = layout.entry(prefix + "/kernel");
            ParameterLayout.Entry bias = layout.entry(prefix + "/bias");
            h = g.node("MatMul", h, g.weights(kernel.name(), kernel.shape(), params, (int) kernel.offset()));
            h = g.node("Add", h, g.weights(bias.name(), bias.shape(), params, (int) bias.offset()));
            if (!hasLayer(layout, module + "/Dense_" + (i + 1) + "/kernel")) return h;
            h = gelu(g, h);
            if (layerNorm) {
                ParameterLayout.Entry scale = layout.entry(module + "/LayerNorm_" + i + "/scale");
                ParameterLayout.Entry shift = layout.entry(module + "/LayerNorm_" + i + "/bias");
                h = layerNorm(g, h, eps, g.weights(scale.name(), scale.shape(), params, (int) scale.offset()),
                        g.weights(shift.name(), shift.shape(), params, (int) shift.offset()));
            }
        }
    }

    private static boolean hasLayer(ParameterLayout layout, String name) {
        try {
            layout.entry(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** {@code 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))}. */
    private static String gelu(OnnxGraph g, String x) {
        String cube = g.node("Mul", g.node("Mul", x, x), x);
        String inner = g.node("Mul", g.node("Add", x, g.node("Mul", cube, g.scalar(0.044715f))), g.scalar((float) Math.sqrt(2 / Math.PI)));
        String tanh = g.node("Tanh", inner);
        return g.node("Mul", g.node("Mul", x, g.scalar(0.5f)), g.node("Add", tanh, g.scalar(1f)));
    }

    /** {@code (h − mean) / sqrt(var + eps) · scale + bias} over the feature axis, biased variance (flax). */
    private static String layerNorm(OnnxGraph g, String h, float eps, String scale, String bias) {
        Map<String, Object> lastAxis = Map.of("axes", new long[] {-1}, "keepdims", 1L);
        String centred = g.node("Sub", h, g.node("ReduceMean", lastAxis, h));
        String variance = g.node("ReduceMean", lastAxis, g.node("Mul", centred, centred));
        String normalised = g.node("Div", centred, g.node("Sqrt", g.node("Add", variance, g.scalar(eps))));
        return g.node("Add", g.node("Mul", normalised, scale), bias);
    }

    // ------------------------------------------------------------------ NPZ

    /** The zip comment of our NPZ files. */
    static final String NPZ_COMMENT = "written by fql-spark export";
    /** ONNX's ModelProto field 2 (producer_name) as OnnxGraph writes it, right after the IR version. */
    private static final byte[] ONNX_PRODUCER = {0x12, 9, 'f', 'q', 'l', '-', 's', 'p', 'a', 'r', 'k'};

    /**
     * True when {@code head} (the file's first bytes) and {@code tail} (its last bytes) are those of a file this
     * command exported: an ONNX model whose producer is fql-spark, or an NPZ with our zip comment.
     */
    static boolean isOurExport(byte[] head, byte[] tail) {
        return indexOf(head, ONNX_PRODUCER) >= 0 && indexOf(head, ONNX_PRODUCER) < 16
                || indexOf(tail, NPZ_COMMENT.getBytes(java.nio.charset.StandardCharsets.US_ASCII)) >= 0;
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) if (data[i + j] != pattern[j]) continue outer;
            return i;
        }
        return -1;
    }

    /** Every parameter of the four networks, as {@code numpy.savez} would write them (uncompressed .npy entries). */
    public static byte[] npz(Checkpoint checkpoint) {
        ParameterLayout trainable = ParameterLayout.trainable(checkpoint.obsDim(), checkpoint.actionDim(), checkpoint.config());
        ParameterLayout target = ParameterLayout.target(checkpoint.obsDim(), checkpoint.actionDim(), checkpoint.config());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setComment(NPZ_COMMENT);   // numpy ignores it; --overwrite recognises our own file by it
            for (ParameterLayout.Entry e : trainable.entries()) {
                writeEntry(zip, e, checkpoint.state().parameters());
            }
            for (ParameterLayout.Entry e : target.entries()) {
                writeEntry(zip, e, checkpoint.state().targetParameters());
            }
            int horizon = checkpoint.config().horizonLength();
            if (horizon > 1) {   // the networks' action width is horizon · action_dim; FQL exports stay as they were
                writeEntry(zip, "horizon_length.npy", npyInt64Scalar(horizon));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void writeEntry(ZipOutputStream zip, ParameterLayout.Entry e, float[] flat) throws IOException {
        writeEntry(zip, e.name() + ".npy", npy(e.shape(), flat, (int) e.offset()));
    }

    private static void writeEntry(ZipOutputStream zip, String name, byte[] npy) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setTimeLocal(java.time.LocalDateTime.of(1980, 1, 1, 0, 0));   // same checkpoint, same bytes
        entry.setSize(npy.length);
        entry.setCompressedSize(npy.length);
        CRC32 crc = new CRC32();
        crc.update(npy);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(npy);
        zip.closeEntry();
    }

    /** A rank-0 little-endian int64 array in NPY format 1.0 ({@code numpy.int64(value)} as {@code numpy.save} writes it). */
    static byte[] npyInt64Scalar(long value) {
        StringBuilder header = new StringBuilder("{'descr': '<i8', 'fortran_order': False, 'shape': (), }");
        int preamble = 10;
        while ((preamble + header.length() + 1) % 64 != 0) header.append(' ');
        header.append('\n');
        ByteBuffer buf = ByteBuffer.allocate(preamble + header.length() + 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        buf.putShort((short) header.length());
        buf.put(header.toString().getBytes(StandardCharsets.US_ASCII));
        buf.putLong(value);
        return buf.array();
    }

    /** NPY format 1.0: magic, version, header length, a Python dict literal padded to 64 bytes, little-endian float32 data. */
    static byte[] npy(long[] shape, float[] flat, int offset) {
        String dims = shape.length == 1 ? shape[0] + ","
                : Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims));
        int preamble = 10;
        while ((preamble + header.length() + 1) % 64 != 0) header.append(' ');
        header.append('\n');
        long n = 1;
        for (long s : shape) n *= s;
        ByteBuffer buf = ByteBuffer.allocate(preamble + header.length() + Math.toIntExact(n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        buf.putShort((short) header.length());
        buf.put(header.toString().getBytes(StandardCharsets.US_ASCII));
        buf.asFloatBuffer().put(flat, offset, (int) n);
        return buf.array();
    }
}
