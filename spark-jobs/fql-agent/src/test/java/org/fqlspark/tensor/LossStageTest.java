package org.fqlspark.tensor;

import static org.fqlspark.tensor.TestTensors.gaussian;
import static org.fqlspark.tensor.TestTensors.read;
import static org.fqlspark.tensor.TestTensors.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The loss-stage operations of {@link TensorOps} on every backend against the host arithmetic ({@link LossKernels},
 * what the CPU backends run), at a batch larger than one OpenCL work-group's stride (300 rows, 2 members, 3 action
 * columns), with actions outside [−1, 1] so the clip's mask matters; plus hand values for the host arithmetic itself.
 */
class LossStageTest {

    private static final int B = 300;
    private static final int K = 2;
    private static final int D = 3;
    private static final int W = 5 + D;   // the critic's input width: obs 5, then the action columns

    /** Every loss-stage result of one backend, in one array; the stats tensor's slots at the end. */
    private static float[] run(TensorOps ops, boolean min, boolean normalize) {
        SplittableRandom r = new SplittableRandom(21);
        Tensor nextQs = tensor(ops, gaussian(K * B, r, 3), K * B, 1);
        Tensor rewards = tensor(ops, gaussian(B, r, 1), B, 1);
        float[] m = new float[B];
        for (int i = 0; i < B; i++) m[i] = r.nextInt(2);
        Tensor masks = tensor(ops, m, B, 1);
        Tensor q = tensor(ops, gaussian(K * B, r, 2), K * B, 1);
        Tensor velocity = tensor(ops, gaussian(B * D, r, 1), B, D);
        Tensor prediction = tensor(ops, gaussian(B * D, r, 1), B, D);
        Tensor actions = tensor(ops, gaussian(B * D, r, 1.2), B, D);   // about 40 % outside [-1, 1]
        Tensor teacher = tensor(ops, gaussian(B * D, r, 0.7), B, D);
        Tensor inputGradient = tensor(ops, gaussian(K * B * W, r, 0.1), K * B, W);
        Tensor input = tensor(ops, gaussian(B * W, r, 1), B, W);

        Tensor nextQ = ops.zeros(B, 1);
        Tensor targetQ = ops.zeros(B, 1);
        Tensor gradQ = ops.zeros(K * B, 1);
        Tensor gradVel = ops.zeros(B, D);
        Tensor gradQActor = ops.zeros(K * B, 1);
        Tensor gradAction = ops.zeros(B, D);
        Tensor stats = ops.zeros(1, 12);
        ops.fill(stats, 7f);   // every slot below is overwritten; slot 11 must stay 7

        ops.copyColumns(actions, 1, input, 5, 2, true);
        ops.copyColumns(teacher, 0, input, 0, 1, false);
        ops.tdTarget(K, nextQs, min, rewards, masks, 0.99, nextQ, targetQ);
        ops.squaredErrorGradient(q, targetQ, 0.75, gradQ, stats, 0);
        ops.sumMaxMin(q, stats, 1);
        ops.squaredErrorGradient(prediction, velocity, 1.0, gradVel, stats, 4);
        ops.qLossGradient(K, q, normalize, 0.5, gradQActor, stats, 5);
        ops.actorActionGradient(K, inputGradient, 5, actions, teacher, 3.0, gradAction, stats, 7);
        ops.sumOfSquares(inputGradient, stats, 8);
        ops.sumOfSquares(q, stats, 10);

        Tensor[] all = {input, nextQ, targetQ, gradQ, gradVel, gradQActor, gradAction, stats};
        int n = 0;
        for (Tensor t : all) n += (int) t.size();
        float[] out = new float[n];
        int at = 0;
        for (Tensor t : all) {
            float[] v = read(ops, t);
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fused", "nd4j", "opencl"})
    void everyLossStageOperationAgreesWithTheHostArithmetic(String backend) {
        for (boolean min : new boolean[] {false, true}) {
            for (boolean normalize : new boolean[] {false, true}) {
                float[] expected = run(new JavaTensorOps(), min, normalize);
                float[] actual = run(TestBackends.create(backend), min, normalize);
                for (int i = 0; i < expected.length; i++) {
                    float tol = 2e-6f * Math.max(1f, Math.abs(expected[i]));
                    if (i >= expected.length - 12) {
                        tol = 1e-5f * Math.max(1f, Math.abs(expected[i]));   // sums over up to 4800 values: float trees on OpenCL
                    }
                    assertEquals(expected[i], actual[i], tol, backend + ", q_agg " + (min ? "min" : "mean") + ", normalize " + normalize
                            + ", value " + i + " (stats slots are the last 12)");
                }
                assertEquals(7f, actual[actual.length - 1], backend + ": a slot no operation wrote was changed");
            }
        }
    }

    @Test
    void hostArithmeticByHand() {
        // TD target: min and mean over two members, r + γ m agg
        float[] nextQ = new float[2];
        float[] targetQ = new float[2];
        LossKernels.tdTarget(2, new float[] {1, 4, 3, 2}, true, new float[] {0.5f, -1}, new float[] {1, 0}, 0.5, nextQ, targetQ);
        assertArrayEquals(new float[] {1, 2}, nextQ);
        assertArrayEquals(new float[] {1, -1}, targetQ);
        LossKernels.tdTarget(2, new float[] {1, 4, 3, 2}, false, new float[] {0.5f, -1}, new float[] {1, 1}, 0.5, nextQ, targetQ);
        assertArrayEquals(new float[] {2, 3}, nextQ);
        assertArrayEquals(new float[] {1.5f, 0.5f}, targetQ);
        // squared error against a target repeated for two members: gradient 2 w (p − t) / n
        float[] g = new float[4];
        double sum = LossKernels.squaredErrorGradient(new float[] {1, 2, 3, 4}, new float[] {1, 1}, 1.0, g);
        assertEquals(0 + 1 + 4 + 9, sum);
        assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f}, g);
        // Q term: qπ = (1, 3), mean 2, mean |qπ| 2, λ = 1/2 when normalised
        float[] gq = new float[4];
        double[] lossAndMean = LossKernels.qLossGradient(2, new float[] {0, 2, 2, 4}, true, 1.0, gq);
        assertArrayEquals(new double[] {-1, 2}, lossAndMean);
        assertArrayEquals(new float[] {-0.125f, -0.125f, -0.125f, -0.125f}, gq);
        // action gradient: members' input gradients summed where the action is inside [-1, 1], plus 2 α (a − t) / (B d)
        float[] ga = new float[2];
        double d2 = LossKernels.actorActionGradient(2, new float[] {9, 1, 9, 2, 9, 10, 9, 20}, 2, 1, new float[] {0.5f, 1.5f},
                new float[] {0, 0}, 2, 1, 1.0, ga);
        assertEquals(0.25 + 2.25, d2);
        assertArrayEquals(new float[] {0.5f + 11, 1.5f}, ga);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"java", "opencl"})
    void shapesThatDoNotFitAreRefused(String backend) {
        TensorOps ops = TestBackends.create(backend);
        Tensor stats = ops.zeros(1, 4);
        assertThrows(IllegalArgumentException.class, () -> ops.tdTarget(2, ops.zeros(5, 1), true, ops.zeros(3, 1), ops.zeros(3, 1), 0.9,
                ops.zeros(3, 1), ops.zeros(3, 1)));
        assertThrows(IllegalArgumentException.class, () -> ops.squaredErrorGradient(ops.zeros(5, 1), ops.zeros(2, 1), 1, ops.zeros(5, 1), stats, 0));
        assertThrows(IllegalArgumentException.class, () -> ops.copyColumns(ops.zeros(3, 2), 1, ops.zeros(3, 2), 0, 2, false));
        assertThrows(IndexOutOfBoundsException.class, () -> ops.sumMaxMin(ops.zeros(3, 1), stats, 2));
    }
}
