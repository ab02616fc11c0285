package org.fqlspark.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.QAgg;
import org.fqlspark.eval.Policy;

/**
 * The exported ONNX models act like the agent (ONNX Runtime, 1e-5) and pass ONNX's own checker; the NPZ holds exactly
 * the golden dump's parameter names and shapes, with the checkpoint's values.
 */
class PolicyExportTest {

    private static final float TOLERANCE = 1e-5f;

    @TempDir
    Path dir;

    @Test
    void onnxRuntimeReproducesBothPoliciesOfATinyAgent() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, 5, 3, 11);
        for (Policy policy : Policy.values()) {
            assertOnnxActsLikeTheAgent(c, policy, 257, 1.5, 1.0);
        }
    }

    @Test
    void onnxRuntimeReproducesActorLayerNorm() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.withActorLayerNorm(PolicyFixtures.TINY), 4, 2, 3);
        for (Policy policy : Policy.values()) {
            assertOnnxActsLikeTheAgent(c, policy, 100, 1.5, 1.0);
        }
    }

    @Test
    void onnxRuntimeReproducesBothPoliciesAtPaperSize() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(FqlConfig.defaults(), 29, 8, 5);   // 4x512, 10 flow steps
        for (Policy policy : Policy.values()) {
            assertOnnxActsLikeTheAgent(c, policy, 256, 4.0, 4.0);   // untrained paper-size nets act small: spread the inputs
        }
    }

    /** A QC-FQL checkpoint (chunks of 3 actions of 2): noise and actions are [batch, 6], for both policies. */
    @Test
    void onnxRuntimeReproducesBothChunkedPolicies() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY.with(FqlConfig.HORIZON_LENGTH, 3), 5, 2, 13);
        for (Policy policy : Policy.values()) {
            assertOnnxActsLikeTheAgent(c, policy, 200, 1.5, 1.0);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(PolicyExport.onnx(c, Policy.ONE_STEP), new OrtSession.SessionOptions())) {
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            assertEquals("2", meta.get("action_dim"), "action_dim stays the environment's per-step size");
            assertEquals("3", meta.get("horizon_length"));
            assertEquals("6", meta.get("chunk_action_dim"));
            long[] noiseShape = ((ai.onnxruntime.TensorInfo) session.getInputInfo().get("noise").getInfo()).getShape();
            long[] actionShape = ((ai.onnxruntime.TensorInfo) session.getOutputInfo().get("actions").getInfo()).getShape();
            assertEquals(6, noiseShape[1]);
            assertEquals(6, actionShape[1]);
        }
    }

    private void assertOnnxActsLikeTheAgent(Checkpoint c, Policy policy, int n, double obsScale, double noiseScale) throws Exception {
        byte[] model = PolicyExport.onnx(c, policy);
        Path file = dir.resolve(policy.flag() + "-" + c.obsDim() + ".onnx");
        Files.write(file, model);
        OnnxChecker.check(file);

        SplittableRandom rng = new SplittableRandom(99);
        float[] observations = PolicyFixtures.gaussian(n * c.obsDim(), obsScale, rng);
        int width = c.config().horizonLength() * c.actionDim();   // h·A: a chunk per row
        float[] noise = PolicyFixtures.gaussian(n * width, noiseScale, rng);
        FqlAgent agent = c.restore();
        float[] expected = PolicyWeights.act(agent, policy, observations, noise, n);
        float[] actual = runOnnx(model, observations, noise, n, c.obsDim(), width);
        assertEquals(expected.length, actual.length);
        float worst = 0;
        int clipped = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
            if (Math.abs(actual[i]) == 1f) clipped++;
            assertTrue(actual[i] >= -1f && actual[i] <= 1f, "ONNX action outside [-1, 1]: " + actual[i]);
        }
        System.out.printf("ONNX Runtime vs agent, %s, obs %d, %d rows: max |difference| %.3g, %d of %d clipped%n",
                policy.flag(), c.obsDim(), n, worst, clipped, expected.length);
        assertTrue(worst <= TOLERANCE, policy.flag() + " at obs " + c.obsDim() + ": ONNX Runtime differs from the agent by " + worst);
        assertTrue(clipped > 0 && clipped < expected.length,
                policy.flag() + ": the inputs should drive some actions into the clip and not all (" + clipped + " of " + expected.length + ")");
    }

    static float[] runOnnx(byte[] model, float[] observations, float[] noise, int n, int obsDim, int actionDim) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(model, options);
                 OnnxTensor obs = OnnxTensor.createTensor(env, FloatBuffer.wrap(observations), new long[] {n, obsDim});
                 OnnxTensor z = OnnxTensor.createTensor(env, FloatBuffer.wrap(noise), new long[] {n, actionDim})) {
                Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
                inputs.put("observations", obs);
                inputs.put("noise", z);
                try (OrtSession.Result result = session.run(inputs)) {
                    assertEquals("actions", result.iterator().next().getKey());
                    float[][] out = (float[][]) result.get(0).getValue();
                    float[] flat = new float[n * actionDim];
                    for (int i = 0; i < n; i++) System.arraycopy(out[i], 0, flat, i * actionDim, actionDim);
                    return flat;
                }
            }
        }
    }

    @Test
    void onnxDeclaresItsInterfaceAndMetadata() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, 5, 3, 1);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(PolicyExport.onnx(c, Policy.FLOW_BC), new OrtSession.SessionOptions())) {
            assertEquals(java.util.Set.of("observations", "noise"), session.getInputNames());
            assertEquals(java.util.Set.of("actions"), session.getOutputNames());
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            assertEquals("5", meta.get("obs_dim"));
            assertEquals("3", meta.get("action_dim"));
            assertEquals("flow-bc", meta.get("policy"));
            assertEquals("4", meta.get("flow_steps"));
            assertEquals("42", meta.get("step"));
            assertEquals(null, meta.get("horizon_length"), "an FQL export has no chunk keys: it is byte for byte as before");
        }
    }

    @Test
    void theCheckerRejectsAnInvalidModel() throws Exception {
        OnnxGraph g = new OnnxGraph();
        g.input("x", 2);
        g.output("y", 2);
        g.nodeTo("y", "NoSuchOperator", Map.of(), "x");
        Path file = dir.resolve("bad.onnx");
        Files.write(file, g.model("bad", "an operator ONNX does not have", "test"));
        OnnxChecker.assertRejects(file);
    }

    @Test
    void npzHoldsExactlyTheGoldenParameterNamesAndShapes() throws Exception {
        JsonNode golden;
        try (InputStream in = getClass().getResourceAsStream("/policy_golden_parameters.json")) {
            golden = new ObjectMapper().readTree(in);
        }
        JsonNode gc = golden.get("config");
        FqlConfig config = FqlConfig.defaults().withHiddenDims(8, 8).with(FqlConfig.Q_AGG, QAgg.MEAN)
                .with(FqlConfig.NORMALIZE_Q_LOSS, false);
        for (String key : List.of("lr", "batch_size", "layer_norm", "actor_layer_norm", "discount", "tau", "alpha", "flow_steps",
                "adam_b1", "adam_b2", "adam_eps", "ln_eps")) {
            config = config.withPlain(FqlConfig.setting(key), new ObjectMapper().treeToValue(gc.get(key), Object.class));
        }
        Checkpoint c = PolicyFixtures.checkpoint(config, gc.get("obs_dim").asInt(), gc.get("action_dim").asInt(), 3);
        Path file = dir.resolve("weights.npz");
        Files.write(file, PolicyExport.npz(c));

        Map<String, String> expected = new TreeMap<>();
        for (JsonNode p : golden.get("parameters")) expected.put(p.get("name").asText(), p.get("shape").toString());
        Map<String, String> actual = new TreeMap<>();
        Map<String, float[]> values = new LinkedHashMap<>();
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(file.toFile())) {
            for (var entry : java.util.Collections.list(zip.entries())) {
                String name = entry.getName().replaceAll("\\.npy$", "");
                try (java.io.InputStream in = zip.getInputStream(entry)) {
                    Npy array = Npy.read(in.readAllBytes(), name);
                    actual.put(name, java.util.Arrays.toString(array.shape()).replace(" ", ""));
                    values.put(name, array.values());
                }
            }
        }
        assertEquals(expected, actual);

        org.fqlspark.agent.ParameterLayout layout = c.restore().layout();
        for (org.fqlspark.agent.ParameterLayout.Entry e : layout.entries()) {
            float[] want = java.util.Arrays.copyOfRange(c.state().parameters(), (int) e.offset(), (int) (e.offset() + e.size()));
            assertArrayEquals(want, values.get(e.name()), e.name());
        }
        float[] target = values.get("target_critic/Dense_0/kernel");
        assertArrayEquals(java.util.Arrays.copyOfRange(c.state().targetParameters(), 0, target.length), target);
        assertNumpyReads(file, expected);
    }

    /** A QC-FQL checkpoint's NPZ: the chunk-wide networks, plus an int64 scalar horizon_length (and FQL's has none). */
    @Test
    void npzOfAChunkedCheckpointCarriesItsHorizon() throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY.with(FqlConfig.HORIZON_LENGTH, 4), 5, 2, 3);
        Path file = dir.resolve("chunked.npz");
        Files.write(file, PolicyExport.npz(c));
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(file.toFile())) {
            var entry = zip.getEntry("horizon_length.npy");
            assertTrue(entry != null, "horizon_length.npy");
            byte[] b = zip.getInputStream(entry).readAllBytes();
            int headerLength = (b[8] & 0xff) | (b[9] & 0xff) << 8;
            String header = new String(b, 10, headerLength, java.nio.charset.StandardCharsets.ISO_8859_1);
            assertTrue(header.contains("'descr': '<i8'") && header.contains("'shape': ()"), header);
            assertEquals(0, (10 + headerLength) % 64, "numpy's 64-byte alignment");
            assertEquals(4L, java.nio.ByteBuffer.wrap(b, 10 + headerLength, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
            try (java.io.InputStream in = zip.getInputStream(zip.getEntry("actor_onestep_flow/Dense_2/kernel.npy"))) {
                assertEquals(8, Npy.read(in.readAllBytes(), "out").shape()[1], "the one-step policy emits 4 × 2 values");
            }
        }
        Path plain = dir.resolve("plain.npz");
        Files.write(plain, PolicyExport.npz(PolicyFixtures.checkpoint(PolicyFixtures.TINY, 5, 2, 3)));
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(plain.toFile())) {
            assertEquals(null, zip.getEntry("horizon_length.npy"));
        }
        String code = "import numpy as np, sys\nz = np.load(sys.argv[1])\nprint(int(z['horizon_length']), z['horizon_length'].dtype)\n";
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", code, file.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return;
        }
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            Assumptions.assumeFalse(out.contains("No module named"), "numpy not installed");
            throw new AssertionError("numpy could not read the npz: " + out);
        }
        assertEquals("4 int64", out);
    }

    /** When python3 with numpy is installed, numpy.load reads the same names and shapes. */
    private void assertNumpyReads(Path file, Map<String, String> expected) throws IOException, InterruptedException {
        String code = "import numpy as np, sys\n"
                + "z = np.load(sys.argv[1])\n"
                + "for k in sorted(z.files): print(k, list(z[k].shape), z[k].dtype)\n";
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", code, file.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return;   // no python3: the Java reader above is the check
        }
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            Assumptions.assumeFalse(out.contains("No module named"), "numpy not installed");
            throw new AssertionError("numpy could not read the npz: " + out);
        }
        Map<String, String> read = new TreeMap<>();
        for (String line : out.strip().split("\n")) {
            String[] parts = line.split(" ", 2);
            read.put(parts[0], parts[1].replace(" float32", "").replace(" ", ""));
            assertTrue(line.endsWith("float32"), line);
        }
        assertEquals(expected, read);
    }

    /** A little-endian float32 .npy entry, read by hand (the test's own reader: it checks our writer independently). */
    private record Npy(int[] shape, float[] values) {
        static Npy read(byte[] b, String name) {
            assertEquals("\u0093NUMPY", new String(b, 0, 6, java.nio.charset.StandardCharsets.ISO_8859_1), name);
            int headerLength = (b[8] & 0xff) | (b[9] & 0xff) << 8;
            String header = new String(b, 10, headerLength, java.nio.charset.StandardCharsets.ISO_8859_1);
            assertTrue(header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"), name + ": " + header);
            var m = java.util.regex.Pattern.compile("'shape': \\(([^)]*)\\)").matcher(header);
            assertTrue(m.find(), header);
            int[] shape = java.util.Arrays.stream(m.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty())
                    .mapToInt(Integer::parseInt).toArray();
            java.nio.FloatBuffer data = java.nio.ByteBuffer.wrap(b, 10 + headerLength, b.length - 10 - headerLength)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            float[] values = new float[data.remaining()];
            data.get(values);
            assertEquals(java.util.Arrays.stream(shape).asLongStream().reduce(1, (x, y) -> x * y), values.length, name);
            return new Npy(shape, values);
        }
    }
}
