package org.fqlspark.train.peer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.fqlspark.train.worker.RoundMetrics;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The frames peers send each other: a state comes back bit for bit, and the reader refuses anything that is not
 * exactly the frame it expects, before allocating anything for its payload.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StateFramesTest {

    private static final PeerAuth AUTH = PeerAuth.random("run-frames");
    private static final int[] SHAPE = {7, 3, 7, 7};
    private static final StateFrames.Expect EXPECT = new StateFrames.Expect(AUTH.runTag(), 42L, 1, SHAPE);
    /** How long the reader waits on a silent sender in these tests; every refusal must come well before. */
    private static final long IDLE = 10_000;

    private ServerSocket server;
    private Socket sender;
    private Conn reader;

    @BeforeEach
    void connect() throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        sender = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        reader = new Conn(server.accept(), () -> false, "partition 2");
    }

    @AfterEach
    void close() throws IOException {
        reader.close();
        sender.close();
        server.close();
    }

    static WorkerOutcome outcome(int worker, long step, WorkerOutcome.Divergence divergence) {
        Random r = new Random(worker);
        float[][] a = new float[4][];
        for (int k = 0; k < 4; k++) {
            a[k] = new float[SHAPE[k]];
            for (int i = 0; i < a[k].length; i++) {
                a[k][i] = (float) r.nextGaussian();
            }
        }
        a[0][0] = -0.0f;
        a[0][1] = Float.intBitsToFloat(0x7fc01234);   // a NaN with a payload
        a[0][2] = Float.MIN_VALUE;                     // subnormal
        a[1][0] = Float.NEGATIVE_INFINITY;
        double[] sums = new double[RoundMetrics.FIELDS];
        for (int i = 0; i < sums.length; i++) {
            sums[i] = r.nextGaussian() * 1e3;
        }
        return new WorkerOutcome(worker, new TrainingState(a[0], a[1], a[2], a[3], step), RoundMetrics.of(sums, 5), 0.125 * worker,
                divergence);
    }

    private void send(byte[]... parts) throws IOException {
        OutputStream out = sender.getOutputStream();
        for (byte[] p : parts) {
            out.write(p);
        }
        out.flush();
    }

    private static byte[] header(int magic, int version, int type, long runTag, long exchange, int attempt, int round, int partition,
            int length) {
        return ByteBuffer.allocate(StateFrames.HEADER_BYTES).putInt(magic).putShort((short) version).putShort((short) type)
                .putLong(runTag).putLong(exchange).putInt(attempt).putInt(round).putInt(partition).putInt(length).array();
    }

    private static final int MAGIC = ByteBuffer.wrap(new byte[] {'F', 'Q', 'L', 'F'}).getInt();

    /** Expects the reader to refuse what was sent, quickly and with {@code reason} in its message. */
    private void assertRefused(String reason) {
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> StateFrames.readState(reader, EXPECT, 2, 3, IDLE));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertTrue(ms < 2_000, "refused after " + ms + " ms: it waited for a payload it should not have wanted");
    }

    @Test
    void aStateComesBackBitForBitAfterHeartbeats() throws IOException {
        WorkerOutcome sent = outcome(2, 17, new WorkerOutcome.Divergence(2, 16, "critic/critic_loss=NaN, ü"));
        send(StateFrames.heartbeat(EXPECT, 2), StateFrames.heartbeat(EXPECT, 2), StateFrames.state(EXPECT, 2, 3, sent));
        WorkerOutcome got = StateFrames.readState(reader, EXPECT, 2, 3, IDLE);
        assertEquals(2, got.worker());
        assertEquals(17, got.state().step());
        for (int k = 0; k < 4; k++) {
            int[] a = bits(sent.state().arrays()[k]);
            assertArrayEquals(a, bits(got.state().arrays()[k]), "array " + k);
        }
        assertArrayEquals(sent.metrics().sums(), got.metrics().sums());
        assertEquals(5, got.metrics().steps());
        assertEquals(0.25, got.computeSeconds());
        assertEquals(sent.divergence(), got.divergence());

        WorkerOutcome plain = outcome(2, 20, null);
        send(StateFrames.state(EXPECT, 2, 3, plain));
        assertNull(StateFrames.readState(reader, EXPECT, 2, 3, IDLE).divergence());
    }

    private static int[] bits(float[] f) {
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    @Test
    void anOversizedOrNegativeLengthIsRefusedBeforeAnythingIsAllocated() throws IOException {
        // only the header is sent: a reader that believed the length would wait for 2 GiB (or fail to allocate them)
        send(header(MAGIC, 1, 1, AUTH.runTag(), 42, 1, 3, 2, Integer.MAX_VALUE));
        assertRefused("a state frame of 2147483647 bytes");
    }

    @Test
    void aNegativeLengthIsRefused() throws IOException {
        send(header(MAGIC, 1, 1, AUTH.runTag(), 42, 1, 3, 2, -8));
        assertRefused("a state frame of -8 bytes");
    }

    @Test
    void aLengthOneFloatShortIsRefused() throws IOException {
        byte[] frame = StateFrames.state(EXPECT, 2, 3, outcome(2, 1, null));
        ByteBuffer.wrap(frame).putInt(36, ByteBuffer.wrap(frame).getInt(36) - 4);
        send(frame);
        assertRefused("a payload of");
    }

    @Test
    void arraysOfAnotherShapeAreRefusedBeforeTheyAreAllocated() throws IOException {
        byte[] frame = StateFrames.state(EXPECT, 2, 3, outcome(2, 1, null));
        ByteBuffer b = ByteBuffer.wrap(frame);
        int lengths = StateFrames.HEADER_BYTES + StateFrames.FIXED_BYTES - 16;
        b.putInt(lengths, 1 << 30);                    // parameters: a billion floats
        b.putInt(lengths + 4, SHAPE[1] + SHAPE[0] - (1 << 30));   // the total stays within the announced length
        send(java.util.Arrays.copyOf(frame, StateFrames.HEADER_BYTES + StateFrames.FIXED_BYTES));
        assertRefused("array 0 of 1073741824 values");
    }

    @Test
    void anOversizedDivergenceTextIsRefused() throws IOException {
        byte[] frame = StateFrames.state(EXPECT, 2, 3, outcome(2, 1, new WorkerOutcome.Divergence(2, 0, "x")));
        ByteBuffer.wrap(frame).putInt(StateFrames.HEADER_BYTES + StateFrames.FIXED_BYTES - 20, 1 << 20);
        send(java.util.Arrays.copyOf(frame, StateFrames.HEADER_BYTES + StateFrames.FIXED_BYTES));
        assertRefused("a divergence text of 1048576 bytes");
    }

    @Test
    void aHeaderOfAnotherRunStageAttemptRoundOrSenderIsRefused() throws IOException {
        Object[][] cases = {
            {header(0x47415242, 1, 1, AUTH.runTag(), 42, 1, 3, 2, 0), "not a peer frame"},
            {header(MAGIC, 2, 1, AUTH.runTag(), 42, 1, 3, 2, 0), "version 2"},
            {header(MAGIC, 1, 9, AUTH.runTag(), 42, 1, 3, 2, 0), "unknown type 9"},
            {header(MAGIC, 1, 1, AUTH.runTag() + 1, 42, 1, 3, 2, 0), "another run, stage or stage attempt"},
            {header(MAGIC, 1, 1, AUTH.runTag(), 43, 1, 3, 2, 0), "another run, stage or stage attempt"},
            {header(MAGIC, 1, 1, AUTH.runTag(), 42, 0, 3, 2, 0), "another run, stage or stage attempt"},
            {header(MAGIC, 1, 1, AUTH.runTag(), 42, 1, 3, 1, 0), "as partition 1, it is partition 2"},
            {header(MAGIC, 1, 1, AUTH.runTag(), 42, 1, 4, 2, 0), "round 4, expected round 3"},
            {header(MAGIC, 1, 2, AUTH.runTag(), 42, 1, -1, 2, 8), "a heartbeat with 8 payload bytes"},
        };
        for (Object[] c : cases) {
            close();
            connect();
            send((byte[]) c[0]);
            assertRefused((String) c[1]);
        }
    }

    @Test
    void aStateOfAnotherWorkerIsRefused() throws IOException {
        send(StateFrames.state(new StateFrames.Expect(AUTH.runTag(), 42L, 1, SHAPE), 2, 3, outcome(1, 1, null)));
        assertRefused("a state of worker 1 from partition 2");
    }

    @Test
    void aSilentPeerFailsTheReadAtTheIdleLimitAndHeartbeatsKeepItAlive() throws Exception {
        // heartbeats every 150 ms for 1.2 s, then the state: the reader, with an idle limit of 500 ms, waits for it
        Thread beats = new Thread(() -> {
            try {
                for (int i = 0; i < 8; i++) {
                    send(StateFrames.heartbeat(EXPECT, 2));
                    Thread.sleep(150);
                }
                send(StateFrames.state(EXPECT, 2, 3, outcome(2, 1, null)));
            } catch (IOException | InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        beats.start();
        long t0 = System.nanoTime();
        assertEquals(2, StateFrames.readState(reader, EXPECT, 2, 3, 500).worker());
        assertTrue((System.nanoTime() - t0) / 1_000_000 >= 1_100, "the state came after the heartbeats");
        beats.join();
        // now nothing: the read fails at the idle limit, not before and not much after
        t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> StateFrames.readState(reader, EXPECT, 2, 4, 500));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(e.getMessage().contains("sent nothing for 500 ms"), e.getMessage());
        assertTrue(ms >= 450 && ms < 2_000, ms + " ms");
    }

    @Test
    void aKilledTaskStopsWaiting() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean killed = new java.util.concurrent.atomic.AtomicBoolean();
        Conn c = new Conn(sender, killed::get, "reader side");
        new Thread(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            killed.set(true);
        }).start();
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> StateFrames.readState(c, EXPECT, 2, 0, 60_000));
        assertTrue(e.getMessage().contains("killed"), e.getMessage());
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 2_000);
    }
}
