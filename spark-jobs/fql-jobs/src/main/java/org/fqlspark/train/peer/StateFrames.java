package org.fqlspark.train.peer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.fqlspark.train.worker.RoundMetrics;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerOutcome;

/**
 * What peers send each other after the handshake: frames with a fixed header, no Java serialization. A frame's header
 * and fixed fields are big-endian; the state's floats are IEEE-754 float32, little-endian, their bits exactly as the
 * worker holds them (so the average is the driver's, bit for bit).
 *
 * <pre>
 * header, 40 bytes   "FQLF", version (int16 = 1), type (int16: 1 state, 2 heartbeat), run tag (int64: the first 8 bytes
 *                    of SHA-256(run id)), exchange id (int64, one per stage), stage attempt (int32), round (int32, from 0
 *                    within the stage; -1 for a heartbeat), partition (int32: the sender), payload length (int32, bytes)
 * state payload      worker (int32), step (int64), compute seconds (float64), the round's 9 metric sums (float64 each) and
 *                    its step count (int64), divergence: present (int32 0/1), worker (int32), step (int64), text length L
 *                    (int32, at most 4096), the four array lengths (int32 each: parameters, target parameters, Adam m,
 *                    Adam v) [136 bytes so far]; then L bytes of UTF-8 text; then the four arrays' floats in that order
 * heartbeat payload  none (length 0)
 * </pre>
 * A reader knows the state's shape before the frame arrives (every worker's state has the same four lengths: its own),
 * and refuses a frame whose header, length or shape is not exactly what it expects before allocating anything for it.
 */
final class StateFrames {

    static final int HEADER_BYTES = 40;
    static final int FIXED_BYTES = 136;
    static final int MAX_TEXT_BYTES = 4096;
    static final short TYPE_STATE = 1;
    static final short TYPE_HEARTBEAT = 2;
    private static final short VERSION = 1;
    private static final byte[] MAGIC = {'F', 'Q', 'L', 'F'};
    /** Floats are read through a buffer of this many bytes (a multiple of 4). */
    private static final int CHUNK_BYTES = 1 << 20;

    private StateFrames() {
    }

    /**
     * What a reader expects of every frame of one stage attempt: the run, the exchange, the attempt, and the shape of a
     * state (its four array lengths).
     */
    record Expect(long runTag, long exchange, int attempt, int[] lengths) {

        Expect {
            if (lengths.length != 4) {
                throw new IllegalArgumentException("a training state has four arrays");
            }
            lengths = lengths.clone();
        }

        static Expect of(PeerAuth auth, long exchange, int attempt, TrainingState shape) {
            float[][] a = shape.arrays();
            return new Expect(auth.runTag(), exchange, attempt, new int[] {a[0].length, a[1].length, a[2].length, a[3].length});
        }

        long floats() {
            long n = 0;
            for (int l : lengths) {
                n += l;
            }
            return n;
        }

        /** The largest payload a state frame of this shape may announce (the longest divergence text included). */
        long maxPayload() {
            return FIXED_BYTES + MAX_TEXT_BYTES + 4 * floats();
        }
    }

    static byte[] heartbeat(Expect e, int partition) {
        return header(e, TYPE_HEARTBEAT, -1, partition, 0).array();
    }

    /** The frame of {@code o}, sent by {@code partition} in {@code round}. */
    static byte[] state(Expect e, int partition, int round, WorkerOutcome o) {
        float[][] arrays = o.state().arrays();
        for (int k = 0; k < 4; k++) {
            if (arrays[k].length != e.lengths()[k]) {
                throw new IllegalStateException("array " + k + " has " + arrays[k].length + " values, the stage's states have "
                        + e.lengths()[k]);
            }
        }
        WorkerOutcome.Divergence d = o.divergence();
        byte[] text = d == null ? new byte[0] : truncate(d.losses());
        long payload = FIXED_BYTES + text.length + 4 * e.floats();
        if (HEADER_BYTES + payload > Integer.MAX_VALUE - 64) {
            throw new IllegalStateException("a state of " + e.floats() + " floats does not fit one frame");
        }
        ByteBuffer b = ByteBuffer.allocate((int) (HEADER_BYTES + payload));
        b.put(header(e, TYPE_STATE, round, partition, (int) payload).array());
        b.putInt(o.worker()).putLong(o.state().step()).putDouble(o.computeSeconds());
        for (double s : o.metrics().sums()) {
            b.putDouble(s);
        }
        b.putLong(o.metrics().steps());
        b.putInt(d == null ? 0 : 1).putInt(d == null ? 0 : d.worker()).putLong(d == null ? 0 : d.step()).putInt(text.length);
        for (float[] a : arrays) {
            b.putInt(a.length);
        }
        b.put(text);
        b.order(ByteOrder.LITTLE_ENDIAN);
        for (float[] a : arrays) {
            b.asFloatBuffer().put(a);
            b.position(b.position() + 4 * a.length);
        }
        return b.array();
    }

    /**
     * Reads frames from {@code c}, sent by partition {@code from}, skipping heartbeats, until the state of {@code round}
     * arrives; fails when {@code from} sends nothing (not even a heartbeat) for {@code idleMillis}, and refuses any
     * frame that is not exactly what this stage expects, before allocating anything for its payload.
     */
    static WorkerOutcome readState(Conn c, Expect e, int from, int round, long idleMillis) throws IOException {
        String what = "waiting for the state of partition " + from + " (round " + round + ")";
        while (true) {
            ByteBuffer h = ByteBuffer.wrap(c.readFully(HEADER_BYTES, Conn.NEVER, idleMillis, what));
            short type = checkHeader(h, e, from, c.peer());
            int frameRound = h.getInt(28);
            int length = h.getInt(36);
            if (type == TYPE_HEARTBEAT) {
                if (length != 0 || frameRound != -1) {
                    throw refused(c, "a heartbeat with " + length + " payload bytes for round " + frameRound);
                }
                continue;
            }
            if (frameRound != round) {
                throw refused(c, "a state for round " + frameRound + ", expected round " + round);
            }
            if (length < FIXED_BYTES || length > e.maxPayload()) {
                throw refused(c, "a state frame of " + length + " bytes; a state of this stage has "
                        + (FIXED_BYTES + 4 * e.floats()) + " bytes and at most " + MAX_TEXT_BYTES + " of text");
            }
            return readPayload(c, e, from, length, idleMillis, what);
        }
    }

    private static WorkerOutcome readPayload(Conn c, Expect e, int from, int length, long idleMillis, String what) throws IOException {
        ByteBuffer f = ByteBuffer.wrap(c.readFully(FIXED_BYTES, Conn.NEVER, idleMillis, what));
        int worker = f.getInt();
        long step = f.getLong();
        double computeSeconds = f.getDouble();
        double[] sums = new double[RoundMetrics.FIELDS];
        for (int i = 0; i < sums.length; i++) {
            sums[i] = f.getDouble();
        }
        long metricSteps = f.getLong();
        int diverged = f.getInt();
        int divWorker = f.getInt();
        long divStep = f.getLong();
        int textLength = f.getInt();
        int[] lengths = new int[4];
        for (int k = 0; k < 4; k++) {
            lengths[k] = f.getInt();
        }
        if (worker != from) {
            throw refused(c, "a state of worker " + worker + " from partition " + from);
        }
        if (diverged != 0 && diverged != 1) {
            throw refused(c, "a divergence flag of " + diverged);
        }
        if (textLength < 0 || textLength > MAX_TEXT_BYTES || diverged == 0 && textLength != 0) {
            throw refused(c, "a divergence text of " + textLength + " bytes");
        }
        for (int k = 0; k < 4; k++) {
            if (lengths[k] != e.lengths()[k]) {
                throw refused(c, "array " + k + " of " + lengths[k] + " values, this stage's states have " + e.lengths()[k]);
            }
        }
        if (length != FIXED_BYTES + textLength + 4 * e.floats()) {
            throw refused(c, "a payload of " + length + " bytes for a state of " + (FIXED_BYTES + textLength + 4 * e.floats()));
        }
        String text = new String(c.readFully(textLength, Conn.NEVER, idleMillis, what), StandardCharsets.UTF_8);
        float[][] arrays = new float[4][];
        byte[] chunk = new byte[(int) Math.min(CHUNK_BYTES, Math.max(4, 4 * maxLength(lengths)))];
        for (int k = 0; k < 4; k++) {
            arrays[k] = new float[lengths[k]];
            int done = 0;
            while (done < lengths[k]) {
                int n = Math.min(lengths[k] - done, chunk.length / 4);
                c.readFully(chunk, 0, 4 * n, Conn.NEVER, idleMillis, what);
                ByteBuffer.wrap(chunk, 0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(arrays[k], done, n);
                done += n;
            }
        }
        WorkerOutcome.Divergence divergence = diverged == 1 ? new WorkerOutcome.Divergence(divWorker, divStep, text) : null;
        return new WorkerOutcome(worker, new TrainingState(arrays[0], arrays[1], arrays[2], arrays[3], step),
                RoundMetrics.of(sums, metricSteps), computeSeconds, divergence);
    }

    /** Checks a header's fixed fields against what this stage expects; returns its type. */
    static short checkHeader(ByteBuffer h, Expect e, int from, String peer) throws Conn.PeerException {
        for (int i = 0; i < MAGIC.length; i++) {
            if (h.get(i) != MAGIC[i]) {
                throw new Conn.PeerException(peer + " sent something that is not a peer frame");
            }
        }
        short version = h.getShort(4);
        short type = h.getShort(6);
        if (version != VERSION) {
            throw new Conn.PeerException(peer + " sent a frame of version " + version + ", this side reads " + VERSION);
        }
        if (type != TYPE_STATE && type != TYPE_HEARTBEAT) {
            throw new Conn.PeerException(peer + " sent a frame of unknown type " + type);
        }
        if (h.getLong(8) != e.runTag() || h.getLong(16) != e.exchange() || h.getInt(24) != e.attempt()) {
            throw new Conn.PeerException(peer + " sent a frame of another run, stage or stage attempt");
        }
        if (h.getInt(32) != from) {
            throw new Conn.PeerException(peer + " sent a frame as partition " + h.getInt(32) + ", it is partition " + from);
        }
        return type;
    }

    private static ByteBuffer header(Expect e, short type, int round, int partition, int length) {
        return ByteBuffer.allocate(HEADER_BYTES).put(MAGIC).putShort(VERSION).putShort(type).putLong(e.runTag())
                .putLong(e.exchange()).putInt(e.attempt()).putInt(round).putInt(partition).putInt(length);
    }

    private static Conn.PeerException refused(Conn c, String what) {
        return new Conn.PeerException(c.peer() + " sent " + what + "; refused");
    }

    private static int maxLength(int[] lengths) {
        int m = 0;
        for (int l : lengths) {
            m = Math.max(m, l);
        }
        return m;
    }

    /** The UTF-8 bytes of {@code s}, cut at a character boundary to at most {@link #MAX_TEXT_BYTES}. */
    private static byte[] truncate(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= MAX_TEXT_BYTES) {
            return b;
        }
        int end = MAX_TEXT_BYTES;
        while (end > 0 && (b[end] & 0xC0) == 0x80) {
            end--;
        }
        byte[] t = new byte[end];
        System.arraycopy(b, 0, t, 0, end);
        return t;
    }
}
