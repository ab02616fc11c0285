package org.fqlspark.agent;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * A training checkpoint: all parameters, the target critic, Adam moments, the step counter, the config and
 * provenance. Not Java serialization: a documented binary layout (see README "Checkpoint format"):
 * <pre>
 *   "FQLCKPT\n"                      8 bytes magic
 *   format version                   int32 big-endian (currently 1)
 *   header length H                  int32 big-endian
 *   header                           H bytes UTF-8 JSON: format_version, obs_dim, action_dim, seed, step, config,
 *                                    parameter layout (name, shape, offset), array lengths, provenance
 *   parameters, target, adam_m, adam_v   float32 little-endian, lengths as in the header
 *   SHA-256 of every byte above      32 bytes
 * </pre>
 * Load → save reproduces the same bytes. A truncated or corrupt file fails with a message naming it.
 */
public record Checkpoint(
        FqlConfig config,
        int obsDim,
        int actionDim,
        long seed,
        FqlAgent.AgentState state,
        Map<String, String> provenance) {

    public static final int FORMAT_VERSION = 1;
    static final byte[] MAGIC = "FQLCKPT\n".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    public Checkpoint {
        provenance = Map.copyOf(provenance);
    }

    /** Captures an agent's complete training state. */
    public static Checkpoint of(FqlAgent agent, Map<String, String> provenance) {
        return new Checkpoint(agent.config(), agent.obsDim(), agent.actionDim(), agent.seed(), agent.state(), provenance);
    }

    /** A new agent in exactly the saved state, on the default backend. */
    public FqlAgent restore() {
        return restore(org.fqlspark.tensor.Backends.defaultOps());
    }

    /**
     * A new agent in exactly the saved state on the given ops: {@code new JavaTensorOps()} for acting one observation
     * at a time (evaluation), where it avoids ND4J's per-call overhead.
     */
    public FqlAgent restore(org.fqlspark.tensor.TensorOps ops) {
        FqlAgent agent = new FqlAgent(config, obsDim, actionDim, seed, ops);
        agent.setState(state);
        return agent;
    }

    /** A new agent in the saved state on the ops that act fastest one observation at a time (evaluation). */
    public FqlAgent restoreForActing() {
        long oneStep = ParameterLayout.trainable(obsDim, actionDim, config).moduleSize(ParameterLayout.ONE_STEP);
        return restore(org.fqlspark.tensor.Backends.forActing(oneStep));
    }

    /** The header as written (JSON object). */
    Map<String, Object> header() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("format", "fql-checkpoint");
        h.put("format_version", FORMAT_VERSION);
        h.put("obs_dim", obsDim);
        h.put("action_dim", actionDim);
        h.put("seed", seed);
        h.put("step", state.step());
        h.put("config", config);
        List<Map<String, Object>> entries = ParameterLayout.trainable(obsDim, actionDim, config).entries().stream()
                .map(e -> Map.<String, Object>of("name", e.name(), "shape", e.shape(), "offset", e.offset())).toList();
        h.put("layout", entries);
        h.put("lengths", Map.of("parameters", state.parameters().length, "target_parameters", state.targetParameters().length,
                "adam_m", state.adamM().length, "adam_v", state.adamV().length));
        h.put("provenance", new java.util.TreeMap<>(provenance));
        return h;
    }

    public byte[] toBytes() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.write(MAGIC);
            out.writeInt(FORMAT_VERSION);
            byte[] header = JSON.writeValueAsBytes(header());
            out.writeInt(header.length);
            out.write(header);
            for (float[] a : List.of(state.parameters(), state.targetParameters(), state.adamM(), state.adamV())) {
                ByteBuffer buf = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(a);
                out.write(buf.array());
            }
            out.flush();
            byte[] body = bytes.toByteArray();
            byte[] digest = sha256(body, body.length);
            byte[] all = Arrays.copyOf(body, body.length + digest.length);
            System.arraycopy(digest, 0, all, body.length, digest.length);
            return all;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes to a local file atomically: a temporary sibling first, then a rename, so an existing checkpoint at
     * {@code path} is replaced only by a complete new one.
     */
    public void save(Path path) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + path.getFileName(), ".tmp");
        try {
            Files.write(tmp, toBytes());
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The largest checkpoint this build reads (a Java array's limit); a larger size is refused before reading. */
    public static final long MAX_BYTES = Integer.MAX_VALUE - 64;
    private static final int MIN_BYTES = 8 + 8 + 2 + 32;

    public static Checkpoint load(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new CheckpointException(path + ": no such checkpoint file");
        }
        try (InputStream in = Files.newInputStream(path)) {
            return read(in, Files.size(path), path.toString());
        }
    }

    /**
     * Reads a checkpoint of {@code size} bytes from {@code in}: the magic and the size are checked before the whole
     * file is read, so a large file that is not a checkpoint is never loaded into memory.
     */
    public static Checkpoint read(InputStream in, long size, String source) throws IOException {
        return fromBytes(readBytes(in, size, source), source);
    }

    /** The largest header {@link #headerStep} reads; a longer one is not taken for a checkpoint's. */
    private static final int MAX_HEADER_BYTES = 16 << 20;

    /**
     * The training step that the header at the start of {@code in} records, or empty when the stream does not start
     * like a checkpoint (magic, a header that parses and names a step). Reads only the header, not the state, and
     * verifies no digest: it is for choosing among files, {@link #read} still checks the one chosen.
     */
    public static java.util.OptionalLong headerStep(InputStream in) {
        try {
            byte[] start = in.readNBytes(MAGIC.length + 8);
            if (start.length < MAGIC.length + 8 || !Arrays.equals(Arrays.copyOf(start, MAGIC.length), MAGIC)) {
                return java.util.OptionalLong.empty();
            }
            int headerLength = ByteBuffer.wrap(start, MAGIC.length + 4, 4).getInt();   // after the format version
            if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) {
                return java.util.OptionalLong.empty();
            }
            byte[] header = in.readNBytes(headerLength);
            if (header.length < headerLength) {
                return java.util.OptionalLong.empty();
            }
            com.fasterxml.jackson.databind.JsonNode step = JSON.readTree(header).get("step");
            return step != null && step.canConvertToLong() ? java.util.OptionalLong.of(step.longValue())
                    : java.util.OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            return java.util.OptionalLong.empty();
        }
    }

    /** The bytes of a checkpoint file of {@code size} bytes, read only after its magic and size were checked. */
    public static byte[] readBytes(InputStream in, long size, String source) throws IOException {
        byte[] head = in.readNBytes(MAGIC.length);
        if (head.length < MAGIC.length || !Arrays.equals(head, MAGIC)) {
            throw new CheckpointException(source + ": not an FQL checkpoint (missing the 'FQLCKPT' magic)");
        }
        if (size < MIN_BYTES || size > MAX_BYTES) {
            throw new CheckpointException(source + ": checkpoint size " + size + " bytes is outside " + MIN_BYTES + ".."
                    + MAX_BYTES + "; truncated or not a checkpoint");
        }
        byte[] data = new byte[(int) size];
        System.arraycopy(head, 0, data, 0, head.length);
        int got = head.length + in.readNBytes(data, head.length, data.length - head.length);
        if (got != size || in.read() != -1) {
            throw new CheckpointException(source + ": truncated or corrupt checkpoint: the file changed size while it was "
                    + "read (" + size + " bytes expected)");
        }
        return data;
    }

    /**
     * Parses a checkpoint. The SHA-256 over everything but the last 32 bytes is verified before any header field is
     * read, so a corrupt file never gets as far as the parser; any inconsistency after that is a {@link CheckpointException}.
     */
    public static Checkpoint fromBytes(byte[] data, String source) {
        if (data.length < MIN_BYTES || !Arrays.equals(Arrays.copyOf(data, MAGIC.length), MAGIC)) {
            throw new CheckpointException(source + ": not an FQL checkpoint (missing the 'FQLCKPT' magic) or truncated to "
                    + data.length + " bytes");
        }
        byte[] digest = sha256(data, data.length - 32);
        if (!Arrays.equals(digest, Arrays.copyOfRange(data, data.length - 32, data.length))) {
            throw new CheckpointException(source + ": checkpoint checksum mismatch (SHA-256): the file is truncated or corrupt");
        }
        try {
            return parse(data, source);
        } catch (CheckpointException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CheckpointException(source + ": inconsistent checkpoint (" + String.valueOf(e.getMessage()).split("\n")[0] + ")");
        }
    }

    @SuppressWarnings("unchecked")
    private static Checkpoint parse(byte[] data, String source) {
        ByteBuffer buf = ByteBuffer.wrap(data);
        buf.position(MAGIC.length);
        int version = buf.getInt();
        if (version != FORMAT_VERSION) {
            throw new CheckpointException(source + ": checkpoint format version " + version + ", this build reads version " + FORMAT_VERSION);
        }
        int headerLength = buf.getInt();
        if (headerLength < 2 || headerLength > data.length - buf.position() - 32) {
            throw new CheckpointException(source + ": truncated or corrupt checkpoint (header length " + headerLength
                    + " does not fit in " + data.length + " bytes)");
        }
        Map<String, Object> header;
        try {
            header = JSON.readValue(data, buf.position(), headerLength, Map.class);
        } catch (IOException e) {
            throw new CheckpointException(source + ": corrupt checkpoint header (" + e.getMessage().split("\n")[0] + ")");
        }
        Map<String, Number> lengths = (Map<String, Number>) header.get("lengths");
        if (lengths == null) {
            throw new CheckpointException(source + ": corrupt checkpoint header (key 'lengths' missing)");
        }
        long floats = 0;
        for (String k : List.of("parameters", "target_parameters", "adam_m", "adam_v")) {
            Number n = lengths.get(k);
            if (n == null || n.longValue() < 0 || n.longValue() > MAX_BYTES / 4) {
                throw new CheckpointException(source + ": corrupt checkpoint header (lengths." + k + " is " + n + ")");
            }
            floats += n.longValue();
        }
        long expected = (long) MAGIC.length + 8 + headerLength + floats * 4 + 32;
        if (data.length != expected) {
            throw new CheckpointException(source + ": truncated or corrupt checkpoint: expected " + expected + " bytes, found " + data.length);
        }
        buf.position(MAGIC.length + 8 + headerLength);
        buf.order(ByteOrder.LITTLE_ENDIAN);
        float[][] arrays = new float[4][];
        int i = 0;
        for (String k : List.of("parameters", "target_parameters", "adam_m", "adam_v")) {
            float[] a = new float[lengths.get(k).intValue()];
            buf.asFloatBuffer().get(a);
            buf.position(buf.position() + a.length * 4);
            arrays[i++] = a;
        }
        FqlConfig config = JSON.convertValue(header.get("config"), FqlConfig.class);
        int obsDim = ((Number) header.get("obs_dim")).intValue();
        int actionDim = ((Number) header.get("action_dim")).intValue();
        long step = ((Number) header.get("step")).longValue();
        long seed = ((Number) header.get("seed")).longValue();
        Map<String, String> provenance = (Map<String, String>) header.getOrDefault("provenance", Map.of());
        ParameterLayout layout = ParameterLayout.trainable(obsDim, actionDim, config);
        if (arrays[0].length != layout.size()) {
            throw new CheckpointException(source + ": " + arrays[0].length + " parameters do not match the stated config ("
                    + layout.size() + " expected)");
        }
        return new Checkpoint(config, obsDim, actionDim, seed,
                new FqlAgent.AgentState(arrays[0], arrays[1], arrays[2], arrays[3], step), provenance);
    }

    private static byte[] sha256(byte[] data, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, 0, length);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A checkpoint that cannot be read. */
    public static final class CheckpointException extends RuntimeException {
        public CheckpointException(String message) {
            super(message);
        }
    }
}
